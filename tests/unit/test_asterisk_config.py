"""asterisk-config/ as a telecom admin and a security review expect it, and its generated parts."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from app.hotel.config import load_hotel_config
from app.pbx.secrets import (
    Secrets,
    SecretsError,
    browser_auth_names,
    passwords_from_env,
    staff_auth_names,
    write,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "asterisk-config"


def _sections(name: str) -> dict[str, list[dict[str, str]]]:
    """Asterisk's .conf: sections (which may repeat) of key = value lines."""
    sections: dict[str, list[dict[str, str]]] = {}
    current: dict[str, str] | None = None
    for raw in (CONFIG / name).read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        match = re.match(r"^\[([^\]]+)\](\(([^)]*)\))?$", line)
        if match:
            current = {"(template)": match.group(3) or ""}
            sections.setdefault(match.group(1), []).append(current)
        elif current is not None and ("=" in line) and not line.startswith("#"):
            key, _, value = line.replace("=>", "=").partition("=")
            current[key.strip()] = current.get(key.strip(), "") + value.strip()
    return sections


def test_no_secret_is_in_the_repository_configuration() -> None:
    for path in CONFIG.glob("*.conf"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split(";", 1)[0]
            assert not re.search(r"^\s*(password|secret)\s*=", code), f"{path.name}:{number}"


def test_ari_ami_and_the_web_socket_listen_on_loopback_only() -> None:
    http = _sections("http.conf")["general"][0]
    assert http["bindaddr"] == "127.0.0.1"
    assert http["tlsbindaddr"].startswith("127.0.0.1:")
    manager = _sections("manager.conf")["general"][0]
    assert manager["bindaddr"] == "127.0.0.1"


def test_nobody_unknown_gets_an_endpoint() -> None:
    pjsip = _sections("pjsip.conf")
    assert "anonymous" not in pjsip["global"][0]["endpoint_identifier_order"]
    assert "anonymous" not in pjsip
    # every staff endpoint logs in with a password (an auth section), the trunk by address
    for name, sections in pjsip.items():
        for section in sections:
            if section["(template)"] in ("staff-phone", "webrtc-phone"):
                assert section.get("auth") == name, name
    # the trunk only by its source address: a From user of "trunk" must not find it
    trunk = next(s for s in pjsip["trunk"] if s.get("type") is None or s["(template)"])
    assert trunk["identify_by"] == "ip" and trunk["acl"] == "carrier-networks"
    # no address is written into the shipped file: they come from the environment
    assert not [s for s in pjsip["trunk"] if s.get("type") == "identify"]
    staff = pjsip["staff-phone"][0]
    assert staff["identify_by"] == "username" and staff["acl"] == "staff-networks"
    assert "permit" not in staff  # not "every private range": guest Wi-Fi is private too
    assert pjsip["webrtc-phone"][0]["identify_by"] == "username"
    assert "#tryinclude acl_networks.conf" in (CONFIG / "acl.conf").read_text()
    assert "#tryinclude pjsip_networks.conf" in (CONFIG / "pjsip.conf").read_text()


def test_the_networks_are_generated_from_the_settings(tmp_path: Path) -> None:
    write(
        tmp_path,
        Secrets(
            ari_user="frontdesk",
            ari_password="ari-pass-123",
            carrier_networks=("54.172.60.0/30", "54.244.51.0/30"),
            staff_networks=("192.168.20.0/24",),
        ),
    )
    identify = (tmp_path / "pjsip_networks.conf").read_text()
    assert "[trunk]\ntype = identify\nendpoint = trunk\n" in identify
    assert "match = 54.172.60.0/30\nmatch = 54.244.51.0/30\n" in identify
    acls = (tmp_path / "acl_networks.conf").read_text()
    carrier, staff = acls.split("[staff-networks]")
    # deny everything first, then permit: Asterisk's last matching rule wins
    assert carrier.index("deny = 0.0.0.0/0.0.0.0") < carrier.index("permit = 54.172.60.0/30")
    assert "permit = 192.168.20.0/24" in staff and "54.172" not in staff
    assert staff.index("deny = 0.0.0.0/0.0.0.0") < staff.index("permit")


def test_without_networks_nobody_is_let_in(tmp_path: Path) -> None:
    write(tmp_path, Secrets(ari_user="frontdesk", ari_password="ari-pass-123"))
    assert "type = identify" not in (tmp_path / "pjsip_networks.conf").read_text()
    acls = (tmp_path / "acl_networks.conf").read_text()
    assert "permit" not in acls
    assert acls.count("deny = 0.0.0.0/0.0.0.0") == 2


def test_browser_phones_get_webrtc_media() -> None:
    template = _sections("pjsip.conf")["webrtc-phone"][0]
    assert template["webrtc"] == "yes" and template["transport"] == "transport-wss"
    # μ-law: no codec_opus in this build to reach the AI's μ-law leg from Opus
    assert template["allow"] == "ulaw"


def test_every_hotel_department_has_a_phone_or_queue_in_the_pbx() -> None:
    endpoints = {
        name
        for name, sections in _sections("pjsip.conf").items()
        if any(s["(template)"] in ("staff-phone", "webrtc-phone") for s in sections)
    }
    queues = set(_sections("queues.conf")) - {"general", "queue-defaults"}
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    for prop in hotel.properties:
        for key, department in prop.departments.items():
            if department.extension:
                assert department.extension in endpoints, f"{prop.id}.{key}"
            else:
                assert department.queue in queues, f"{prop.id}.{key}"


def test_queues_announce_positions_with_our_own_prompts() -> None:
    defaults = _sections("queues.conf")["queue-defaults"][0]
    assert defaults["announce-position"] == "yes"
    assert defaults["musicclass"] == "default"
    for key in ("queue-youarenext", "queue-thereare", "queue-callswaiting", "periodic-announce"):
        prompt = defaults[key]
        assert (ROOT / "sounds" / "en" / f"{prompt}.wav").exists(), prompt
        assert (ROOT / "sounds" / "es" / f"{prompt}.wav").exists(), prompt


def test_only_listed_modules_load_and_the_security_log_is_written() -> None:
    modules = _sections("modules.conf")["modules"][0]
    assert modules["autoload"] == "no"
    loaded = re.findall(r"^load\s*=>\s*(\S+)\.so", (CONFIG / "modules.conf").read_text(), re.M)
    assert "res_ari" in loaded and "chan_pjsip" in loaded and "app_queue" in loaded
    for dangerous in ("func_shell", "res_agi", "app_system", "chan_iax2", "pbx_lua"):
        assert dangerous not in loaded
    assert _sections("logger.conf")["logfiles"][0]["security.log"] == "security"


def test_the_staff_auth_sections_are_generated_with_private_permissions(tmp_path: Path) -> None:
    names = staff_auth_names(CONFIG / "pjsip.conf")
    assert {"2001", "3100", "4100"} <= set(names)
    found, missing = passwords_from_env(names, {"SIP_PASSWORD_2001": "s3cret-one"})
    assert found == {"2001": "s3cret-one"} and "3100" in missing
    written = write(
        tmp_path,
        Secrets(
            ari_user="frontdesk",
            ari_password="ari-pass-123",
            ami_user="frontdesk",
            ami_password="ami-pass-123",
            sip_passwords=found,
            trunk_username="hotel",
            trunk_password="trunk-pass",
        ),
    )
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    auth = (tmp_path / "pjsip_auth.conf").read_text()
    assert "[2001]\ntype = auth" in auth and "password = s3cret-one" in auth
    assert "[3100]" not in auth  # no password set: no way in
    assert "[trunk-auth]" in auth
    ari = (tmp_path / "ari_users.conf").read_text()
    assert "ari-pass-123" not in ari or "password_format = plain" in ari
    manager = (tmp_path / "manager_users.conf").read_text()
    assert "permit = 127.0.0.1/255.255.255.255" in manager and "deny = 0.0.0.0/0.0.0.0" in manager
    assert "write = system,reporting\n" in manager  # never config or command


@pytest.mark.parametrize("bad", ["has space", "semi;colon", "[bracket]", 'quo"te'])
def test_a_password_asterisk_could_misread_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SecretsError):
        write(tmp_path, Secrets(ari_user="frontdesk", ari_password=bad))


def test_browser_phones_get_no_password_from_a_file_but_may_get_one_in_memory() -> None:
    """A browser phone's auth is the app's to provision (ARI): none is generated from the
    environment, and sorcery.conf lets res_pjsip auth objects live in memory beside the file's."""
    browsers = browser_auth_names(CONFIG / "pjsip.conf")
    assert {"2002", "2003"} <= set(browsers)
    assert not set(browsers) & set(staff_auth_names(CONFIG / "pjsip.conf"))
    for name in browsers:
        endpoint = next(
            s for s in _sections("pjsip.conf")[name] if s["(template)"] == "webrtc-phone"
        )
        assert endpoint["auth"] == name
    sorcery = (CONFIG / "sorcery.conf").read_text()
    lines = [line.split(";", 1)[0].strip() for line in sorcery.splitlines()]
    assert [line for line in lines if line] == [
        "[res_pjsip]",
        "auth = config,pjsip.conf,criteria=type=auth",
        "auth = memory",
    ]
    modules = (CONFIG / "modules.conf").read_text()
    assert "load => res_sorcery_memory.so" in modules and "load => res_ari_asterisk.so" in modules
