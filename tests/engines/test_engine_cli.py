"""`frontdesk engine`: speak, transcribe, serve."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import wave
from pathlib import Path

import aiohttp
import numpy as np
from aiohttp import web
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "engine", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )


def test_speak_then_transcribe(tmp_path: Path) -> None:
    out = tmp_path / "said.wav"
    spoken = _run("--text", "Your room is ready.", "--out", str(out))
    assert spoken.returncode == 0, spoken.stderr
    heard = _run("--audio", str(out))
    assert heard.returncode == 0, heard.stderr
    assert "room is ready" in heard.stdout.lower()
    assert _run("--text", "no file").returncode == 2


async def test_serve_speaks_the_protocol_and_stops_cleanly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "engine",
        "--serve",
        cwd=ROOT,
        env={**os.environ, "LOCAL_ENGINE_PORT": str(port), "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            async with asyncio.timeout(60):
                while True:
                    try:
                        ws = await http.ws_connect(f"http://127.0.0.1:{port}/v1/realtime")
                        break
                    except aiohttp.ClientConnectionError:
                        assert proc.returncode is None
                        await asyncio.sleep(0.2)
            first = json.loads((await ws.receive()).data)
            assert first["type"] == "session.created"
            await ws.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0


def test_converse_plays_a_script_over_the_protocol_with_the_real_tools(
    tmp_path: Path, db_url: str
) -> None:
    script = tmp_path / "booking.txt"
    script.write_text(
        "# a caller asks for a room\n"
        "I would like to book a room for Friday.\n"
        "\n"
        "Two nights.\n"
        "We are two adults.\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "engine", "--converse", str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
        env={**os.environ, "DATABASE_URL": db_url, "ENGINE": "local", "LOG_LEVEL": "WARNING"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "agent: Thank you for calling the Harborview Hotel" in out
    assert "caller (heard as): I would like to book a room for Friday." in out
    assert "agent: And how many nights will you be staying?" in out
    assert "tool check_availability(" in out and "→ ok in" in out
    assert "Which would you like?" in out
    assert "(3 caller lines, 5 agent turns)" in out
    missing = subprocess.run(
        [sys.executable, "-m", "app.cli", "engine", "--converse", str(tmp_path / "none.txt")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
        env={**os.environ, "DATABASE_URL": db_url},
    )
    assert missing.returncode == 2 and "none.txt" in missing.stderr


async def test_openai_speech_renders_a_prompt(tmp_path: Path) -> None:
    """OpenAI's TTS behind the same interface, against a local stand-in for the API."""
    seen: list[tuple[str, dict[str, object]]] = []
    tone = (np.sin(np.arange(12000) / 24000 * 2 * np.pi * 440) * 8000).astype("<i2").tobytes()

    async def speech(request: web.Request) -> web.Response:
        seen.append((request.headers.get("Authorization", ""), await request.json()))
        if len(seen) > 1:
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        return web.Response(body=tone, content_type="audio/pcm")

    app = web.Application()
    app.router.add_post("/v1/audio/speech", speech)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-test-key",
        "OPENAI_API_BASE": str(server.make_url("/v1")),
        "PYTHONPATH": str(ROOT),
    }
    out = tmp_path / "prompt.wav"
    try:
        for expected in (0, 1):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app.cli", "engine", "--text", "Welcome back.",
                "--tts", "openai", "--voice", "cedar", "--out", str(out),
                cwd=ROOT, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, err = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == expected, err.decode()[-1000:]
    finally:
        await server.close()
    auth, body = seen[0]
    assert auth == "Bearer sk-test-key"
    assert body == {
        "input": "Welcome back.",
        "model": "gpt-4o-mini-tts",
        "voice": "cedar",
        "response_format": "pcm",
    }
    with wave.open(str(out)) as reader:
        assert reader.getframerate() == 24000 and reader.getnframes() == 12000
    assert "OpenAI speech refused: 401" in err.decode()
