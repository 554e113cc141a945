"""Calls and their turns: the SQL behind session tracking and call history."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from app.calls.records import (
    CallRecord,
    CallState,
    Direction,
    NewCall,
    Outcome,
    Turn,
    TurnRole,
)
from app.redaction import redact_card_data

_CALL_COLUMNS = """
    c.id, c.property_id, c.direction, c.state, c.started_at, c.channel_id, c.caller_e164,
    c.caller_name, c.dialled_e164, c.mode, c.engine, c.language, c.ivr_path, c.answered_at,
    c.ended_at, c.end_reason, c.outcome, c.summary, c.sentiment, c.transferred_to,
    c.satisfaction, c.survey_score, c.after_hours, c.ivr_wait_ms, c.queue_wait_ms
"""


def _call(
    row: asyncpg.Record, turns: tuple[Turn, ...] = (), turn_count: int | None = None
) -> CallRecord:
    return CallRecord(
        id=row["id"],
        property_id=row["property_id"],
        direction=Direction(row["direction"]),
        state=CallState(row["state"]),
        started_at=row["started_at"],
        channel_id=row["channel_id"],
        caller_e164=row["caller_e164"],
        caller_name=row["caller_name"],
        dialled_e164=row["dialled_e164"],
        mode=row["mode"],
        engine=row["engine"],
        language=row["language"],
        ivr_path=tuple(row["ivr_path"]),
        answered_at=row["answered_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        summary=row["summary"],
        sentiment=row["sentiment"],
        transferred_to=row["transferred_to"],
        satisfaction=row["satisfaction"],
        survey_score=row["survey_score"],
        after_hours=row["after_hours"],
        ivr_wait_ms=row["ivr_wait_ms"],
        queue_wait_ms=row["queue_wait_ms"],
        turn_count=len(turns) if turn_count is None else turn_count,
        turns=turns,
    )


def _turn(row: asyncpg.Record) -> Turn:
    return Turn(
        seq=row["seq"],
        role=TurnRole(row["role"]),
        text=row["text"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        language=row["language"],
        latency_ms=row["latency_ms"],
        interrupted=row["interrupted"],
        sentiment=row["sentiment"],
    )


class CallRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, new: NewCall, started_at: dt.datetime | None = None) -> CallRecord:
        row = await self._pool.fetchrow(
            f"""
            INSERT INTO calls AS c (id, property_id, direction, channel_id, caller_e164,
                               caller_name, dialled_e164, mode, engine, language, ivr_path, started_at,
                               after_hours, ivr_wait_ms)
            VALUES (coalesce($12, gen_random_uuid()), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                    coalesce($11, now()), $13, $14)
            RETURNING {_CALL_COLUMNS}
            """,
            new.property_id,
            new.direction.value,
            new.channel_id,
            new.caller_e164,
            new.caller_name,
            new.dialled_e164,
            new.mode,
            new.engine,
            new.language,
            list(new.ivr_path),
            started_at,
            new.id,
            new.after_hours,
            new.ivr_wait_ms,
        )
        return _call(row)

    async def set_state(self, call_id: uuid.UUID, state: CallState) -> None:
        """Move a live call to another state (use `end` to end it)."""
        if state is CallState.ENDED:
            raise ValueError("use end() to end a call")
        await self._update(
            call_id,
            """UPDATE calls SET state = $2,
                   -- a call handed on before it was answered was never answered
                   answered_at = CASE WHEN $2 NOT IN ('ringing', 'transferring')
                                      THEN coalesce(answered_at, now()) ELSE answered_at END
               WHERE id = $1 AND state <> 'ended'""",
            state.value,
        )

    async def end(
        self,
        call_id: uuid.UUID,
        reason: str,
        *,
        outcome: Outcome | None = None,
        summary: str | None = None,
        sentiment: float | None = None,
        transferred_to: str | None = None,
        satisfaction: float | None = None,
    ) -> None:
        """End a call; ending it twice keeps the first end (hang-up races are normal).
        A survey answer already stored is the satisfaction, whatever the estimate."""
        await self._pool.execute(
            """UPDATE calls SET state = 'ended', ended_at = greatest(now(), started_at),
                   end_reason = $2, outcome = coalesce($3, outcome), summary = coalesce($4, summary),
                   sentiment = coalesce($5, sentiment), transferred_to = coalesce($6, transferred_to),
                   satisfaction = coalesce(survey_score::real, $7, satisfaction)
               WHERE id = $1 AND state <> 'ended'""",
            call_id,
            reason,
            outcome.value if outcome else None,
            summary,
            sentiment,
            transferred_to,
            satisfaction,
        )

    async def mask_turns(self, call_id: uuid.UUID, seconds: float) -> int:
        """The caller's turns (said or keyed) stored in the last `seconds` stored again with
        every number masked, as in card context; how many changed. (The database's clock
        on both sides: a turn's started_at is its insert time.)"""
        changed = 0
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """SELECT id, text FROM turns
                   WHERE call_id = $1 AND role IN ('caller', 'dtmf')
                     AND started_at >= now() - make_interval(secs => $2)
                   FOR UPDATE""",
                call_id,
                seconds,
            )
            for row in rows:
                masked = redact_card_data(row["text"], card_context=True)
                if masked != row["text"]:
                    await conn.execute(
                        "UPDATE turns SET text = $2 WHERE id = $1", row["id"], masked
                    )
                    changed += 1
        return changed

    async def add_turn(
        self,
        call_id: uuid.UUID,
        role: TurnRole,
        text: str,
        *,
        started_at: dt.datetime | None = None,
        ended_at: dt.datetime | None = None,
        language: str | None = None,
        latency_ms: int | None = None,
        interrupted: bool = False,
    ) -> Turn:
        """Append a turn; its text is stored with card data redacted, whatever the caller said.
        A caller's turn heard in a language makes it the call's language (calls.language):
        the call is in the language its caller speaks, whatever the menu left."""
        async with self._pool.acquire() as conn, conn.transaction():
            # Lock the call so concurrent appends get consecutive sequence numbers.
            call = await conn.fetchrow(
                "SELECT language FROM calls WHERE id = $1 FOR UPDATE", call_id
            )
            if call is None:
                raise LookupError(f"no call {call_id}")
            row = await conn.fetchrow(
                """
                INSERT INTO turns (call_id, seq, role, text, started_at, ended_at, language,
                                   latency_ms, interrupted)
                SELECT $1, coalesce(max(seq) + 1, 0), $2, $3, coalesce($4, now()), $5, $6, $7, $8
                FROM turns WHERE call_id = $1
                RETURNING *
                """,
                call_id,
                role.value,
                redact_card_data(text),
                started_at,
                ended_at,
                language,
                latency_ms,
                interrupted,
            )
            if role is TurnRole.CALLER and language and language != call["language"]:
                await conn.execute(
                    "UPDATE calls SET language = $2 WHERE id = $1", call_id, language
                )
        return _turn(row)

    async def mark_last_agent_turn_interrupted(self, call_id: uuid.UUID) -> bool:
        """Barge-in after the agent's turn was stored (its transcript came before the caller
        cut in): flag the call's latest agent turn; its text stays as it was said."""
        status: str = await self._pool.execute(
            """UPDATE turns SET interrupted = true
               WHERE id = (SELECT id FROM turns WHERE call_id = $1 AND role = 'agent'
                           ORDER BY seq DESC LIMIT 1)""",
            call_id,
        )
        return status != "UPDATE 0"

    async def record_survey(self, channel_id: str, score: int) -> bool:
        """The caller's keypad survey answer (1 to 5) for the latest call on this channel: it
        is the call's satisfaction from now on (end() keeps it too). False: no such call."""
        status: str = await self._pool.execute(
            """UPDATE calls SET survey_score = $2::int, satisfaction = $2::int
               WHERE id = (SELECT id FROM calls WHERE channel_id = $1
                           ORDER BY started_at DESC LIMIT 1)""",
            channel_id,
            score,
        )
        return status != "UPDATE 0"

    async def set_queue_wait(self, call_id: uuid.UUID, wait_ms: int) -> None:
        """The caller's wait in a staff queue, written after the call's end (the caller left
        the app for the queue); an unknown call is nothing to write."""
        await self._pool.execute(
            "UPDATE calls SET queue_wait_ms = $2 WHERE id = $1", call_id, wait_ms
        )

    async def set_turn_sentiments(self, call_id: uuid.UUID, scores: dict[int, float]) -> None:
        """The scores of a call's turns (by seq), written at hang-up; a turn left out stays
        NULL (not scored)."""
        if scores:
            await self._pool.executemany(
                "UPDATE turns SET sentiment = $3 WHERE call_id = $1 AND seq = $2",
                [(call_id, seq, score) for seq, score in scores.items()],
            )

    async def get(self, call_id: uuid.UUID) -> CallRecord | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {_CALL_COLUMNS} FROM calls c WHERE c.id = $1", call_id
            )
            if row is None:
                return None
            turns = await conn.fetch("SELECT * FROM turns WHERE call_id = $1 ORDER BY seq", call_id)
        return _call(row, tuple(_turn(t) for t in turns))

    async def find_by_channel(self, channel_id: str) -> CallRecord | None:
        row = await self._pool.fetchrow(
            f"SELECT {_CALL_COLUMNS} FROM calls c WHERE c.channel_id = $1 "
            "ORDER BY c.started_at DESC LIMIT 1",  # the latest visit (a channel may come back)
            channel_id,
        )
        return _call(row) if row else None

    async def list_recent(
        self,
        *,
        property_id: str | None = None,
        limit: int = 20,
        since: dt.datetime | None = None,
        active_only: bool = False,
    ) -> list[CallRecord]:
        """Newest first, with turn counts (not the turns themselves)."""
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        rows = await self._pool.fetch(
            f"""
            SELECT {_CALL_COLUMNS}, (SELECT count(*) FROM turns t WHERE t.call_id = c.id) AS turn_count
            FROM calls c
            WHERE ($1::text IS NULL OR c.property_id = $1)
              AND ($2::timestamptz IS NULL OR c.started_at >= $2)
              AND (NOT $3 OR c.state <> 'ended')
            ORDER BY c.started_at DESC, c.id
            LIMIT $4
            """,
            property_id,
            since,
            active_only,
            limit,
        )
        return [_call(row, turn_count=row["turn_count"]) for row in rows]

    async def ended_page(
        self,
        *,
        property_id: str | None = None,
        before: tuple[dt.datetime, uuid.UUID] | None = None,
        limit: int = 20,
    ) -> list[CallRecord]:
        """Ended calls, newest first, with their summary and turn count: one page, the
        calls started before `before` (the last row of the previous page: started_at, id)."""
        if not 1 <= limit <= 200:
            raise ValueError("limit must be between 1 and 200")
        rows = await self._pool.fetch(
            f"""
            SELECT {_CALL_COLUMNS}, (SELECT count(*) FROM turns t WHERE t.call_id = c.id) AS turn_count
            FROM calls c
            WHERE c.state = 'ended'
              AND ($1::text IS NULL OR c.property_id = $1)
              AND ($2::timestamptz IS NULL OR (c.started_at, c.id) < ($2, $3::uuid))
            ORDER BY c.started_at DESC, c.id DESC
            LIMIT $4
            """,
            property_id,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
        return [_call(row, turn_count=row["turn_count"]) for row in rows]

    async def _update(self, call_id: uuid.UUID, sql: str, *args: Any) -> None:
        status = await self._pool.execute(sql, call_id, *args)
        if status == "UPDATE 0":
            exists = await self._pool.fetchval("SELECT state FROM calls WHERE id = $1", call_id)
            if exists is None:
                raise LookupError(f"no call {call_id}")
            raise ValueError(f"call {call_id} has already ended")
