"""The multilingual Whisper model is joined from its two packages on first use."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.engines.local.models import whisper_base


def test_writers_joining_the_model_at_once_each_get_it_whole(tmp_path: Path) -> None:
    # A test run starting beside `frontdesk run` joins the model at the same moment: one
    # writer must not move another's half-written file away (it did: FileNotFoundError).
    if whisper_base(tmp_path / "probe") is None:
        pytest.fail("the multilingual Whisper packages are missing: make setup installs them")
    expected = (tmp_path / "probe" / "model.bin").stat().st_size
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def join() -> None:
        start.wait()
        try:
            whisper_base(tmp_path / "shared")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=join) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (tmp_path / "shared" / "model.bin").stat().st_size == expected
    assert not list((tmp_path / "shared").glob("*.partial*"))
