"""Background jobs that fail are restarted with backoff, and /ready names one that is down:
a real ARI events stream (against the recorded-ARI fake) hit by a bug, a real web app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from app.aio import supervise
from app.health import TaskCheck
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.ari.models import AriEvent
from app.web.app import create_app
from tests.fakes.ari import FakeAri


async def _until(condition: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    fake = FakeAri()
    await fake.start()
    yield fake
    await fake.stop()


async def test_the_events_stream_hit_by_a_bug_comes_back_and_ready_says_so_meanwhile(
    fake: FakeAri,
) -> None:
    url = f"http://127.0.0.1:{fake.port}/ari"
    delivered: list[AriEvent] = []
    connects = 0

    async def on_connected(reconnected: bool) -> None:
        nonlocal connects
        connects += 1
        if connects == 1:  # a bug of ours, not a network error: EventStream does not catch it
            raise KeyError("channel_ids")

    async with aiohttp.ClientSession() as http:
        client = AriClient(http, url, "frontdesk", "secret")
        events = EventStream(http, client, delivered.append, on_connected, backoff_min=0.05)
        # Long enough a pause for the test to ask /ready while the job waits to restart.
        job = supervise("ari-events", events.run, backoff_min=2.0)
        web = TestServer(create_app([TaskCheck(job)]), host="127.0.0.1")
        await web.start_server()
        try:
            await _until(lambda: job.state == "backoff")
            async with http.get(web.make_url("/ready")) as response:
                down = (response.status, await response.json())
            await _until(events.connected.is_set)
            await fake.incoming_call(["echo"])
            await _until(lambda: delivered)
            async with http.get(web.make_url("/ready")) as response:
                up = (response.status, await response.json())
        finally:
            await job.stop()
            await web.close()
    assert down[0] == 503 and down[1]["ready"] is False
    component = down[1]["components"]["ari-events"]
    assert component["status"] == "unavailable" and "KeyError" in component["detail"]
    assert up[0] == 200 and up[1]["components"]["ari-events"]["ok"] is True
    assert job.restarts == 1 and connects == 2 and job.state == "stopped"


async def test_each_restart_waits_twice_as_long_up_to_the_limit() -> None:
    failures = 0

    async def flaky() -> None:
        nonlocal failures
        failures += 1
        if failures <= 4:
            raise RuntimeError(f"failure {failures}")
        await asyncio.Event().wait()  # then it runs, as a healthy job does

    with capture_logs() as logs:
        job = supervise("sms-dispatcher", flaky, backoff_min=0.01, backoff_max=0.04)
        try:
            await _until(lambda: failures == 5 and job.up)
        finally:
            await job.stop()
    restarts = [e for e in logs if e["event"] == "background task failed, restarting"]
    assert [e["delay"] for e in restarts] == [0.01, 0.02, 0.04, 0.04]
    assert all(e["task"] == "sms-dispatcher" and e["log_level"] == "error" for e in restarts)
    assert job.restarts == 4 and job.last_error == "RuntimeError: failure 4"


async def test_a_job_that_returns_is_restarted_too() -> None:
    runs = 0

    async def returns_at_once() -> None:
        nonlocal runs
        runs += 1
        if runs > 2:
            await asyncio.Event().wait()

    job = supervise("callback-scheduler", returns_at_once, backoff_min=0.01)
    try:
        await _until(lambda: runs == 3 and job.up)
        assert job.restarts == 2 and job.last_error == "stopped by itself"
        assert (await TaskCheck(job).check()).ok
    finally:
        await job.stop()
    assert job.task.cancelled() and not (await TaskCheck(job).check()).ok
