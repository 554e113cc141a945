"""The `frontdesk` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from app import users_cli
from app.analytics.exports import KPI_COLUMNS, kpi_rows, to_csv, to_json
from app.analytics.period import QueryError, last_days
from app.analytics.report import Scope
from app.analytics.weekly import render_text
from app.calls.engine_port import CallContext, EngineConnector, EngineError
from app.calls.records import CallRecord
from app.doctor import diagnose, render
from app.engines.converse import ConverseError, converse, read_script
from app.engines.local.server import CAPABILITIES as LOCAL_CAPABILITIES
from app.engines.local.voices import LocalVoices
from app.engines.local.whisper import WhisperSpeechToText
from app.engines.openai_tts import OpenAITextToSpeech
from app.engines.realtime_client import RealtimeConnector
from app.engines.speech import TextToSpeech
from app.hotel.config import HotelConfigError, load_hotel_config
from app.hotel.tools.registry import ToolContext
from app.log import configure_logging
from app.main import (
    build_destinations,
    build_engine,
    build_reports,
    build_tools,
    destination_rules,
    open_database,
    prepare_database,
    recording_storage,
    serve,
    start_local_engine,
)
from app.media.audio_file import FORMATS, Audio, AudioFileError, guess_format
from app.media.audio_file import convert as convert_audio
from app.media.audio_file import encode as encode_audio
from app.media.audio_file import load as load_audio
from app.media.vad import segments as vad_segments
from app.pbx import commands as pbx_commands
from app.pbx.sandbox import AsteriskUnavailable
from app.printable import printable
from app.redaction import mask_phone
from app.settings import Settings, SettingsError, load_settings
from app.storage import migrate
from app.storage.calls_repo import CallRepository
from app.storage.db import create_pool
from app.storage.recordings import RecordingError, RecordingRepository, open_recording
from app.storage.seed import SeedError, seed
from app.storage.server import DatabaseUnavailable, redact_url
from app.storage.tools_repo import ToolInvocationRepository

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontdesk", description="Front Desk Voice")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="serve calls and the web app until stopped")
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not upgrade the schema and load hotel.yaml at start-up",
    )

    db = sub.add_parser("db", help="schema migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="upgrade the schema (creates the database if missing)")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="downgrade the schema")
    down.add_argument("revision", nargs="?", default="-1", help="target revision, -1 or base")

    sub.add_parser("seed", help="load config/hotel.yaml into the database (safe to repeat)")

    calls = sub.add_parser("calls", help="call history")
    calls_sub = calls.add_subparsers(dest="calls_command", required=True, metavar="ACTION")
    listing = calls_sub.add_parser("list", help="recent calls, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--property", dest="property_id")
    listing.add_argument("--active", action="store_true", help="only calls still in progress")
    show = calls_sub.add_parser("show", help="one call with its turns")
    show.add_argument("call_id", type=uuid.UUID, metavar="ID")

    sub.add_parser("doctor", help="check configuration, database, Asterisk, engine, sounds")

    report = sub.add_parser(
        "report",
        help="the managers' summary of the last days: KPIs against their targets, outcomes, "
        "top tools, busiest hours (csv/json: the KPI rows)",
    )
    report.add_argument("--days", type=int, default=7, help="days up to today, included (1-366)")
    report.add_argument("--property", dest="property_id", help="one property (default: all)")
    report.add_argument("--format", choices=("text", "csv", "json"), default="text")

    audio = sub.add_parser("audio", help="convert an audio file and show its speech and silence")
    audio.add_argument("file", type=Path)
    audio.add_argument("--in-format", choices=FORMATS, help="default: from the file name")
    audio.add_argument("--in-rate", type=int, default=8000, help="rate of raw input (default 8000)")
    audio.add_argument("--out", type=Path, help="write the converted audio here")
    audio.add_argument("--out-format", choices=FORMATS, help="default: from the --out name")
    audio.add_argument("--out-rate", type=int, help="default: the input's rate")

    engine = sub.add_parser(
        "engine", help="the offline conversation engine: serve it, or try its speech"
    )
    what = engine.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--serve", action="store_true", help="serve the Realtime protocol on LOCAL_ENGINE_HOST:PORT"
    )
    what.add_argument("--audio", type=Path, metavar="FILE", help="transcribe an audio file")
    what.add_argument("--text", metavar="TEXT", help="speak TEXT into --out")
    what.add_argument(
        "--converse",
        type=Path,
        metavar="SCRIPT",
        help="play a scripted conversation (one caller line per line) over the real protocol, "
        "with the real tools against the app database, and print it with timings",
    )
    engine.add_argument("--out", type=Path, help="the WAV file --text writes (8 kHz)")
    engine.add_argument(
        "--voice",
        help="voice for --text: joe (Piper, the default), es (Spanish), flite's slt, kal, awb, "
        "rms, or OpenAI's",
    )
    engine.add_argument(
        "--tts",
        choices=("flite", "openai"),
        default="flite",
        help="--text: the offline voice, or OpenAI's speech (needs OPENAI_API_KEY)",
    )
    engine.add_argument("--property", help="--converse: the property called (default: the first)")
    engine.add_argument(
        "--caller", default="+14155550100", help="--converse: the caller's number (E.164)"
    )

    recordings = sub.add_parser("recordings", help="encrypted call recordings")
    rec_sub = recordings.add_subparsers(dest="recordings_command", required=True, metavar="ACTION")
    rec_list = rec_sub.add_parser("list", help="the recordings of a call")
    rec_list.add_argument("call_id", type=uuid.UUID, metavar="CALL_ID")
    export = rec_sub.add_parser(
        "export", help="decrypt one recording to a WAV file (needs RECORDING_IDENTITY)"
    )
    export.add_argument("recording_id", type=uuid.UUID, metavar="ID")
    export.add_argument("--out", type=Path, required=True, help="the WAV file to write")

    dialplan = sub.add_parser("dialplan", help="the hand-edited dialplan")
    dialplan_sub = dialplan.add_subparsers(dest="dialplan_command", required=True, metavar="ACTION")
    check = dialplan_sub.add_parser(
        "check",
        help="check dialplan/ (static), then load it into a real Asterisk when one is installed",
    )
    check.add_argument("--static", action="store_true", help="only the static check")
    build = dialplan_sub.add_parser(
        "build",
        help="write dialplan/hotel.conf (numbers, hours, menu keys, callbacks' country codes)",
    )
    build.add_argument("--check", action="store_true", help="only say whether it is current")
    reload = dialplan_sub.add_parser(
        "reload", help="check the dialplan, then reload it in the running Asterisk (AMI)"
    )
    reload.add_argument("--force", action="store_true", help="reload despite static problems")

    sounds = sub.add_parser("sounds", help="the phone menus' recorded prompts (sounds/)")
    sounds_sub = sounds.add_subparsers(dest="sounds_command", required=True, metavar="ACTION")
    sounds_build = sounds_sub.add_parser(
        "build", help="render what changed in hotel.yaml's prompt text (EN and ES, offline)"
    )
    sounds_build.add_argument(
        "--check", action="store_true", help="only list what a build would change"
    )

    pbx = sub.add_parser(
        "asterisk", help="development: run Asterisk with asterisk-config/ in .data/asterisk"
    )
    pbx_sub = pbx.add_subparsers(dest="asterisk_command", required=True, metavar="ACTION")
    pbx_sub.add_parser("start", help="start it in the background (ARI and SIP on loopback)")
    pbx_sub.add_parser("stop", help="stop it")
    cli = pbx_sub.add_parser("cli", help="run one Asterisk CLI command")
    cli.add_argument("words", nargs="+", metavar="WORD")
    generated = pbx_sub.add_parser(
        "secrets",
        help="deployment: write ari_users.conf, manager_users.conf and pjsip_auth.conf from "
        "the environment into Asterisk's configuration directory",
    )
    generated.add_argument("--etc", type=Path, required=True, help="e.g. /etc/asterisk")

    users_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"frontdesk: {exc}\n(fix the environment or .env; see .env.example)", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_format, settings.log_level)
    handler = _handler(args)
    try:
        return asyncio.run(handler(settings))
    except (HotelConfigError, DatabaseUnavailable, AsteriskUnavailable, SettingsError) as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_FAILED


def _handler(args: argparse.Namespace) -> Callable[[Settings], Coroutine[Any, Any, int]]:
    if args.command == "users":
        return lambda s: users_cli.run(s, args, _pool)
    if args.command == "run":
        return lambda s: _run(s, migrate_and_seed=not args.no_migrate)
    if args.command == "db":
        return lambda s: _db(s, args.db_command, args.revision)
    if args.command == "seed":
        return _seed
    if args.command == "calls" and args.calls_command == "list":
        return lambda s: _calls_list(s, args.limit, args.property_id, args.active)
    if args.command == "calls":
        return lambda s: _calls_show(s, args.call_id)
    if args.command == "report":
        return lambda s: _report(s, args.days, args.property_id, args.format)
    if args.command == "recordings" and args.recordings_command == "list":
        return lambda s: _recordings_list(s, args.call_id)
    if args.command == "recordings":
        return lambda s: _recordings_export(s, args.recording_id, args.out)
    if args.command == "engine":
        return lambda s: _engine(s, args)
    if args.command == "audio":
        return lambda s: _audio(args)
    if args.command == "dialplan" and args.dialplan_command == "build":
        return lambda s: pbx_commands.dialplan_build(s, args.check)
    if args.command == "dialplan" and args.dialplan_command == "reload":
        return lambda s: pbx_commands.dialplan_reload(s, args.force)
    if args.command == "dialplan":
        return lambda s: pbx_commands.dialplan_check(args.static)
    if args.command == "sounds":
        return lambda s: pbx_commands.sounds_build(s, args.check)
    if args.command == "asterisk" and args.asterisk_command == "secrets":
        return lambda s: pbx_commands.asterisk_secrets(s, args.etc)
    if args.command == "asterisk":
        words = " ".join(getattr(args, "words", []))
        return lambda s: pbx_commands.asterisk(s, args.asterisk_command, words)
    return _doctor


@contextlib.asynccontextmanager
async def _pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A small pool on the app database, for one command."""
    async with open_database(settings) as db:
        pool = await create_pool(db.url, min_size=1, max_size=2)
        try:
            yield pool
        finally:
            await pool.close()


async def _run(settings: Settings, *, migrate_and_seed: bool) -> int:
    await serve(settings, migrate_and_seed=migrate_and_seed)
    return EXIT_OK


async def _db(settings: Settings, action: str, revision: str) -> int:
    async with open_database(settings) as db:
        step = migrate.upgrade if action == "upgrade" else migrate.downgrade
        await asyncio.to_thread(step, db.url, revision)
        print(f"{action} to {revision}: done ({redact_url(db.url)})")
    return EXIT_OK


async def _seed(settings: Settings) -> int:
    hotel = load_hotel_config(settings.hotel_config)
    async with _pool(settings) as pool:
        try:
            report = await seed(pool, hotel)
        except SeedError as exc:
            print(f"frontdesk seed: {exc} (nothing was changed)", file=sys.stderr)
            return EXIT_FAILED
    print(
        f"seeded {report.properties} properties, {report.numbers} numbers, "
        f"{report.room_types} room types, {report.rates} seasonal rates; inventory rows "
        f"{report.inventory_rows_added} added, {report.inventory_rows_changed} changed"
    )
    for code in report.deactivated_room_types:
        print(f"room type {code} is no longer in {settings.hotel_config}: deactivated")
    return EXIT_OK


async def _calls_list(settings: Settings, limit: int, property_id: str | None, active: bool) -> int:
    async with _pool(settings) as pool:
        calls = await CallRepository(pool).list_recent(
            property_id=property_id, limit=limit, active_only=active
        )
    if not calls:
        print("no calls")
        return EXIT_OK
    print(
        f"{'ID':36}  {'STARTED (UTC)':19}  {'PROPERTY':12}  {'CALLER':14}  {'STATE':12}  "
        f"{'DURATION':>8}  {'TURNS':>5}  OUTCOME"
    )
    for call in calls:
        print(
            f"{call.id!s:36}  {call.started_at:%Y-%m-%d %H:%M:%S}  {call.property_id:12.12}  "
            f"{mask_phone(call.caller_e164) if call.caller_e164 else 'withheld':14}  "
            f"{call.state.value:12}  {_duration(call):>8}  {call.turn_count:>5}  "
            f"{call.outcome.value if call.outcome else '-'}"
        )
    return EXIT_OK


async def _calls_show(settings: Settings, call_id: uuid.UUID) -> int:
    async with _pool(settings) as pool:
        call = await CallRepository(pool).get(call_id)
        tools = await ToolInvocationRepository(pool).for_call(call_id)
    if call is None:
        print(f"frontdesk: no call {call_id}", file=sys.stderr)
        return EXIT_FAILED
    print(_describe_call(call))
    if tools:
        print(f"  tools      {len(tools)}")
    for tool in tools:
        offset = (tool.started_at - call.started_at).total_seconds()
        result = f"{tool.status}: {tool.error_message}" if tool.error_message else tool.status
        print(f"  {offset:7.1f}s {tool.name} ({tool.duration_ms} ms): {result}")
    return EXIT_OK


def _duration(call: CallRecord) -> str:
    if call.duration is None:
        return "live"
    seconds = int(call.duration.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def _describe_call(call: CallRecord) -> str:
    # Staff and managers read this: the caller's number is shown in full, as in the PBX's
    # own call log; logs never carry it.
    lines = [
        f"call {call.id}",
        f"  property   {call.property_id}",
        f"  direction  {call.direction.value}, mode {call.mode}, engine {call.engine or '-'}",
        f"  caller     {call.caller_e164 or 'withheld'} {printable(call.caller_name or '')}".rstrip(),
        f"  dialled    {call.dialled_e164 or '-'}",
        f"  started    {call.started_at:%Y-%m-%d %H:%M:%S %Z}",
        f"  ended      {f'{call.ended_at:%Y-%m-%d %H:%M:%S %Z}' if call.ended_at else 'still in progress'}"
        f" ({call.end_reason or call.state.value})",
        f"  duration   {_duration(call)}",
        f"  ivr path   {' > '.join(call.ivr_path) or '-'}",
        f"  outcome    {call.outcome.value if call.outcome else '-'}",
    ]
    if call.summary:
        lines.append(f"  summary    {printable(call.summary)}")
    lines.append(f"  turns      {len(call.turns)}")
    for turn in call.turns:
        offset = (turn.started_at - call.started_at).total_seconds()
        extra = []
        if turn.latency_ms is not None:
            extra.append(f"{turn.latency_ms} ms")
        if turn.interrupted:
            extra.append("interrupted")
        if turn.language:
            extra.append(turn.language)
        suffix = f"  ({', '.join(extra)})" if extra else ""
        lines.append(f"  {offset:7.1f}s {turn.role.value:>6}: {printable(turn.text)}{suffix}")
    return "\n".join(lines)


async def _report(settings: Settings, days: int, property_id: str | None, fmt: str) -> int:
    """`frontdesk report`: text for an email, or the KPI rows as CSV or JSON."""
    async with _pool(settings) as pool:
        reports = build_reports(settings, pool)
        scope = Scope(property_id=property_id)
        try:
            _, props, timezone = await reports.resolve(scope)
            if fmt == "text":
                weekly = await reports.weekly(scope, days)
                name = (
                    f"{props[0].name} ({props[0].id})"
                    if property_id
                    else f"all properties ({len(props)})"
                )
                sys.stdout.write(render_text(weekly, name))
                return EXIT_OK
            rows = kpi_rows(await reports.kpi_report(scope, last_days(days, timezone)))
        except QueryError as exc:
            print(f"frontdesk: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    sys.stdout.write(to_csv(rows, KPI_COLUMNS) if fmt == "csv" else to_json(rows) + "\n")
    return EXIT_OK


async def _doctor(settings: Settings) -> int:
    findings = await diagnose(settings)
    print(render(findings))
    return EXIT_FAILED if any(f.level == "fail" for f in findings) else EXIT_OK


async def _recordings_list(settings: Settings, call_id: uuid.UUID) -> int:
    async with _pool(settings) as pool:
        found = await RecordingRepository(pool).for_call(call_id)
    if not found:
        print(f"no recordings for call {call_id}")
    for recording_id, stored, duration in found:
        print(
            f"{recording_id}  {stored.storage}:{stored.location}  {(duration or 0) / 1000:.1f}s  "
            f"{stored.size_bytes} bytes  sha256 {stored.sha256[:16]}…  key {stored.key_id}"
        )
    return EXIT_OK


async def _recordings_export(settings: Settings, recording_id: uuid.UUID, out: Path) -> int:
    identity = settings.recording_identity
    if identity is None:
        print(
            "frontdesk: set RECORDING_IDENTITY (the age secret key) to export recordings",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    async with _pool(settings) as pool:
        stored = await RecordingRepository(pool).get(recording_id)
    if stored is None:
        print(f"frontdesk: no recording {recording_id}", file=sys.stderr)
        return EXIT_FAILED
    storage = recording_storage(settings, stored.storage)
    try:
        wav = await asyncio.to_thread(open_recording, storage, stored, identity.get_secret_value())
    except (RecordingError, OSError) as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return EXIT_FAILED
    await asyncio.to_thread(out.write_bytes, wav)
    print(f"wrote {out} ({len(wav)} bytes)")
    return EXIT_OK


async def _converse(settings: Settings, args: argparse.Namespace) -> int:
    try:
        lines = read_script(args.converse)
        hotel = load_hotel_config(settings.hotel_config)
        prop = hotel.get_property(args.property) if args.property else hotel.default_property
    except (OSError, KeyError) as exc:
        print(f"frontdesk engine: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    async with open_database(settings) as db:
        await prepare_database(db.url, hotel)
        pool = await create_pool(db.url, min_size=1, max_size=4)
        http = aiohttp.ClientSession()
        runner = None
        try:
            destinations = build_destinations(destination_rules(settings), hotel, pool)
            tools = build_tools(pool, None, destinations, settings, http)
            if settings.engine_kind == "local" and settings.local_engine_url is None:
                with socket.socket() as sock:  # a port of its own: `frontdesk run` may be up
                    sock.bind(("127.0.0.1", 0))
                    port = sock.getsockname()[1]
                runner = await start_local_engine(
                    hotel, "127.0.0.1", port, settings.default_language, settings.piper_voice
                )
                connector: EngineConnector = RealtimeConnector(
                    http,
                    f"ws://127.0.0.1:{port}/v1/realtime",
                    tools=tools.schemas(),
                    capabilities=LOCAL_CAPABILITIES,
                )
            else:
                connector = build_engine(settings, hotel, http, tools)
            session = await connector.open(CallContext(prop.id, args.caller))
            try:
                turns = await converse(
                    session, lines, tools, ToolContext(prop, None, args.caller), prop.greeting_words
                )
            finally:
                await session.close()
        except (ConverseError, EngineError) as exc:
            print(f"frontdesk engine: {exc}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            if runner is not None:
                await runner.cleanup()
            await http.close()
            await pool.close()
    print(f"({len(lines)} caller lines, {turns} agent turns)")
    return EXIT_OK


async def _engine(settings: Settings, args: argparse.Namespace) -> int:
    if args.converse is not None:
        return await _converse(settings, args)
    if args.serve:
        hotel = load_hotel_config(settings.hotel_config)
        runner = await start_local_engine(
            hotel,
            settings.local_engine_host,
            settings.local_engine_port,
            settings.default_language,
            settings.piper_voice,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()
        return EXIT_OK
    if args.audio is not None:
        try:
            audio = await asyncio.to_thread(load_audio, args.audio)
        except AudioFileError as exc:
            print(f"frontdesk engine: {exc}", file=sys.stderr)
            return EXIT_FAILED
        started = time.perf_counter()
        transcript = await asyncio.to_thread(
            WhisperSpeechToText().transcribe, audio.pcm, audio.rate
        )
        print(
            f"{transcript.text}\n({audio.seconds:.1f} s of audio, {time.perf_counter() - started:.2f} s "
            f"including the model load, language {transcript.language or '?'})"
        )
        return EXIT_OK
    if args.out is None:
        print("frontdesk engine: --text needs --out FILE.wav", file=sys.stderr)
        return EXIT_CONFIG
    tts: TextToSpeech
    if args.tts == "openai":
        if settings.openai_api_key is None:
            print("frontdesk engine: --tts openai needs OPENAI_API_KEY", file=sys.stderr)
            return EXIT_CONFIG
        tts = OpenAITextToSpeech(
            settings.openai_api_key.get_secret_value(),
            args.voice or settings.openai_voice,
            base_url=settings.openai_api_base,
        )
    else:
        tts = LocalVoices(settings.piper_voice)(args.voice or "joe")
    try:
        pcm = await asyncio.to_thread(tts.synthesize, args.text)
    except EngineError as exc:
        print(f"frontdesk engine: {exc}", file=sys.stderr)
        return EXIT_FAILED
    data = encode_audio(Audio(pcm, tts.rate), "wav")
    await asyncio.to_thread(args.out.write_bytes, data)
    print(f"wrote {args.out}: {len(pcm) / 2 / tts.rate:.2f} s")
    return EXIT_OK


async def _audio(args: argparse.Namespace) -> int:
    try:
        audio = await asyncio.to_thread(load_audio, args.file, args.in_format, args.in_rate)
        print(
            f"{args.file}: {audio.seconds:.2f} s at {audio.rate} Hz, peak {audio.peak_dbfs:.1f} dBFS, "
            f"rms {audio.rms_dbfs:.1f} dBFS"
        )
        vad_input = convert_audio(audio, 16000 if audio.rate in (16000, 24000, 48000) else 8000)
        parts = await asyncio.to_thread(vad_segments, vad_input.pcm, vad_input.rate)
        speech = sum(p.duration_ms for p in parts if p.kind == "speech")
        print(f"speech {speech / 1000:.2f} s in {sum(p.kind == 'speech' for p in parts)} segments")
        for part in parts:
            print(f"  {part.start_ms / 1000:7.2f} – {part.end_ms / 1000:7.2f} s  {part.kind}")
        if args.out is not None:
            out_format = args.out_format or guess_format(args.out)
            converted = convert_audio(audio, args.out_rate or audio.rate)
            data = await asyncio.to_thread(encode_audio, converted, out_format)
            await asyncio.to_thread(args.out.write_bytes, data)
            print(f"wrote {args.out}: {out_format}, {converted.rate} Hz, {len(data)} bytes")
    except AudioFileError as exc:
        print(f"frontdesk audio: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
