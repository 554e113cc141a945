"""compose.yaml: the full stack, checked by structure (no Docker engine runs the tests)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


def test_the_stack_has_its_services_each_with_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "asterisk", "frontdesk", "coturn", "asterisk-setup"} <= set(services)
    for name in ("postgres", "asterisk", "frontdesk", "coturn"):
        assert services[name]["healthcheck"]["test"], name


def test_public_images_are_pinned_by_tag(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if "build" in service:
            assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).exists()
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image}"


def test_asterisk_runs_our_configuration_dialplan_and_sounds(compose: dict[str, Any]) -> None:
    asterisk = compose["services"]["asterisk"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in asterisk["volumes"]}
    assert mounts["/etc/asterisk/dialplan"] == "./dialplan"
    assert mounts["/var/lib/asterisk/sounds/en/frontdesk"] == "./sounds/en/frontdesk"
    assert mounts["/var/lib/asterisk/sounds/es/frontdesk"] == "./sounds/es/frontdesk"
    assert mounts["/var/lib/asterisk/frontdesk-moh"] == "./sounds/moh"
    for local in mounts.values():
        if local.startswith("./"):
            assert (ROOT / local).exists(), local
    setup = compose["services"]["asterisk-setup"]
    assert (ROOT / "docker" / "asterisk-setup.sh").exists()
    assert "asterisk-etc:/etc/asterisk" in setup["volumes"]
    assert asterisk["depends_on"]["asterisk-setup"]["condition"] == "service_completed_successfully"


def test_ari_is_never_published_and_no_password_has_a_default(compose: dict[str, Any]) -> None:
    text = (ROOT / "compose.yaml").read_text()
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port
            assert "8088" not in str(port) and "5038" not in str(port)
    # secrets only from .env, and compose refuses to start without them
    assert "${POSTGRES_PASSWORD:?" in text and "${TURN_SECRET:?" in text
    postgres = compose["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_asterisk_reads_the_warm_transfer_summaries_where_the_app_writes_them(
    compose: dict[str, Any],
) -> None:
    asterisk = compose["services"]["asterisk"]["volumes"]
    app = compose["services"]["frontdesk"]["volumes"]
    assert "whisper:/app/.data/whisper:ro" in asterisk
    assert "whisper:/app/.data/whisper" in app  # WHISPER_DIR's default inside the image


def test_the_app_reads_the_dialplan_asterisk_runs(compose: dict[str, Any]) -> None:
    # The destination policy reads BLOCKED_PREFIXES from the dialplan: the same file, not the
    # copy baked into the image when it was built.
    app = compose["services"]["frontdesk"]["volumes"]
    assert "./dialplan:/app/dialplan:ro" in app
    assert "./dialplan:/etc/asterisk/dialplan:ro" in compose["services"]["asterisk"]["volumes"]


def test_the_app_and_asterisk_share_loopback(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["asterisk"]["network_mode"] == services["frontdesk"]["network_mode"] == "host"
    assert services["frontdesk"]["environment"]["ASTERISK_ARI_URL"].startswith("http://127.0.0.1:")


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(
        ["docker", "compose", "version"], capture_output=True, check=False
    ).returncode,
    reason="no docker compose here: the structural checks above stand in for it",
)
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=x\nTURN_SECRET=y\n")
    result = subprocess.run(
        [
            "docker",
            "compose",
            "--env-file",
            str(env),
            "-f",
            str(ROOT / "compose.yaml"),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
