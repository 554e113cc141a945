"""`frontdesk sounds build`: prompts rendered by the offline voices, only when their text changes."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import pytest

from app.hotel.config import load_hotel_config
from app.pbx.prompts import Prompt, all_prompts
from app.pbx.sandbox import SOUNDS_DIR
from app.pbx.sounds import SoundsError, build, outdated

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (shutil.which("flite") and shutil.which("espeak-ng")),
    reason="flite and espeak-ng are needed (make test installs them)",
)


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        return reader.getnframes() / reader.getframerate()


def test_prompts_are_rendered_once_and_again_only_when_their_text_changes(tmp_path: Path) -> None:
    hello = Prompt("en", "frontdesk/hello", "Hello there.")
    hola = Prompt("es", "frontdesk/hello", "Hola, buenos días.")
    first = build(tmp_path, [hello, hola])
    assert sorted(first.rendered) == ["en/frontdesk/hello.wav", "es/frontdesk/hello.wav"]
    assert 0.5 < _seconds(tmp_path / "en/frontdesk/hello.wav") < 3
    assert 0.5 < _seconds(tmp_path / "es/frontdesk/hello.wav") < 3
    manifest = json.loads((tmp_path / "manifest.json").read_text())["files"]
    assert manifest["es/frontdesk/hello.wav"]["voice"] == "espeak-ng:es+f3"

    again = build(tmp_path, [hello, hola])
    assert (again.rendered, again.removed, again.unchanged) == ([], [], 2)

    longer = Prompt("en", "frontdesk/hello", "Hello there, and welcome to the hotel.")
    changed = build(tmp_path, [longer, hola])
    assert changed.rendered == ["en/frontdesk/hello.wav"]
    assert _seconds(tmp_path / "en/frontdesk/hello.wav") > 1.5


def test_a_prompt_no_longer_wanted_is_removed_but_other_files_are_not(tmp_path: Path) -> None:
    build(tmp_path, [Prompt("en", "frontdesk/a", "One."), Prompt("en", "frontdesk/b", "Two.")])
    (tmp_path / "en/frontdesk/mine.wav").write_bytes(b"the admin's own recording")
    report = build(tmp_path, [Prompt("en", "frontdesk/a", "One.")])
    assert report.removed == ["en/frontdesk/b.wav"]
    assert not (tmp_path / "en/frontdesk/b.wav").exists()
    assert (tmp_path / "en/frontdesk/mine.wav").read_bytes() == b"the admin's own recording"


def test_a_deleted_file_is_rendered_again(tmp_path: Path) -> None:
    prompt = Prompt("en", "frontdesk/a", "One.")
    build(tmp_path, [prompt])
    (tmp_path / "en/frontdesk/a.wav").unlink()
    assert outdated(tmp_path, [prompt]).rendered == ["en/frontdesk/a.wav"]
    build(tmp_path, [prompt])
    assert (tmp_path / "en/frontdesk/a.wav").exists()


def test_a_language_without_a_voice_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(SoundsError, match="no voice"):
        build(tmp_path, [Prompt("en", "frontdesk/a", "One."), Prompt("fr", "frontdesk/a", "Un.")])
    assert not (tmp_path / "en").exists()


def test_a_broken_manifest_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(SoundsError, match="delete it to rebuild"):
        build(tmp_path, [Prompt("en", "frontdesk/a", "One.")])


def test_the_committed_sounds_match_hotel_yaml() -> None:
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    report = outdated(SOUNDS_DIR, all_prompts(hotel))
    assert not report.changed, f"run `frontdesk sounds build`: {report.rendered + report.removed}"
