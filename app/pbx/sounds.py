"""`frontdesk sounds build`: render the prompts (app/pbx/prompts.py) into sounds/.

Each prompt becomes sounds/<language>/<name>.wav, 8 kHz mono 16-bit: what Asterisk plays
without transcoding on a G.711 call. English is said by flite (voice slt), Spanish by
espeak-ng, both Debian packages, both offline. sounds/manifest.json remembers which text and
voice made each file, so a build renders only what changed and removes what is no longer
wanted; files it did not make (the hold music) are never touched.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.media.audio_file import Audio, write_wav
from app.media.resample import resample
from app.pbx.prompts import Prompt

MANIFEST = "manifest.json"
RATE = 8000


class SoundsError(Exception):
    """A prompt could not be rendered (the speech program is missing or failed)."""


@dataclass(frozen=True)
class Voice:
    program: str  # flite or espeak-ng
    name: str

    @property
    def label(self) -> str:
        return f"{self.program}:{self.name}"

    def speak(self, text: str, out: Path) -> None:
        binary = shutil.which(self.program)
        if binary is None:
            raise SoundsError(f"{self.program} is not installed (apt-get install {self.program})")
        if self.program == "flite":
            command = [binary, "-voice", self.name, "-t", text, "-o", str(out)]
        else:
            command = [binary, "-v", self.name, "-s", "150", "-w", str(out), text]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SoundsError(f"{self.program} could not say {text!r}: {exc}") from exc


VOICES = {"en": Voice("flite", "slt"), "es": Voice("espeak-ng", "es+f3")}


@dataclass
class BuildReport:
    rendered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.rendered or self.removed)


def fingerprint(prompt: Prompt) -> str:
    voice = VOICES[prompt.language]
    return hashlib.sha256(f"{voice.label}\n{prompt.text}".encode()).hexdigest()[:16]


def read_manifest(root: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads((root / MANIFEST).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SoundsError(f"{root / MANIFEST} is unreadable ({exc}); delete it to rebuild") from exc
    return dict(data.get("files", {}))


def outdated(
    root: Path, prompts: Iterable[Prompt], manifest: dict[str, dict[str, str]] | None = None
) -> BuildReport:
    """What a build would do, without doing it (`frontdesk sounds build --check`)."""
    manifest = read_manifest(root) if manifest is None else manifest
    report = BuildReport()
    wanted = {}
    for prompt in prompts:
        wanted[prompt.path] = prompt
        entry = manifest.get(prompt.path)
        if entry and entry.get("hash") == fingerprint(prompt) and (root / prompt.path).exists():
            report.unchanged += 1
        else:
            report.rendered.append(prompt.path)
    report.removed = sorted(path for path in manifest if path not in wanted)
    return report


def build(root: Path, prompts: Iterable[Prompt]) -> BuildReport:
    prompts = list(prompts)
    for prompt in prompts:
        if prompt.language not in VOICES:
            raise SoundsError(f"no voice for language {prompt.language!r} ({prompt.path})")
    manifest = read_manifest(root)
    plan = outdated(root, prompts, manifest)
    by_path = {p.path: p for p in prompts}
    for path in plan.rendered:
        prompt = by_path[path]
        render(prompt, root / path)
        manifest[path] = {
            "hash": fingerprint(prompt),
            "voice": VOICES[prompt.language].label,
            "text": prompt.text,
        }
    for path in plan.removed:
        (root / path).unlink(missing_ok=True)
        del manifest[path]
    if plan.changed or not (root / MANIFEST).exists():
        body = {
            "about": "made by `frontdesk sounds build` from config/hotel.yaml; "
            "edit the text there, not here",
            "files": dict(sorted(manifest.items())),
        }
        (root / MANIFEST).write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    return plan


def render(prompt: Prompt, out: Path) -> None:
    """Speak the text, then write it as 8 kHz mono 16-bit WAV (written whole, then renamed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        VOICES[prompt.language].speak(prompt.text, raw)
        with wave.open(str(raw)) as reader:
            if reader.getnchannels() != 1 or reader.getsampwidth() != 2:
                raise SoundsError(f"{prompt.path}: the voice did not give mono 16-bit audio")
            pcm = reader.readframes(reader.getnframes())
            rate = reader.getframerate()
    write_wav(out, Audio(pcm if rate == RATE else resample(pcm, rate, RATE), RATE))
