"""The generated parts of Asterisk's configuration: who may log in, from where, and with what.

asterisk-config/ holds no password. Its files #tryinclude these, written here from the
environment (`frontdesk asterisk secrets --etc DIR` for a deployment; the sandbox for
development and the live tests):

  ari_users.conf     the controller's ARI user (ASTERISK_ARI_USER / ASTERISK_ARI_PASSWORD)
  manager_users.conf the AMI user for `frontdesk dialplan reload` (ASTERISK_AMI_USER / _PASSWORD)
  pjsip_auth.conf    one auth section per staff desk phone (SIP_PASSWORD_<extension>), and the
                     trunk's outbound credentials (TWILIO_SIP_USERNAME / TWILIO_SIP_PASSWORD).
                     Browser phones (the `webrtc-phone` template) get none: the app gives
                     each sign-in a password of its own through ARI (sorcery.conf keeps their
                     auth objects in memory; app/telephony/phone_logins.py)
  pjsip_networks.conf  the trunk's identify section: the carrier's signalling addresses
                     (CARRIER_NETWORKS), the only sources whose calls reach the trunk
  acl_networks.conf  the named ACLs `carrier-networks` and `staff-networks` (STAFF_NETWORKS)
                     that pjsip.conf's trunk and staff phones use: deny all, permit these
  keys/asterisk.*    a self-signed certificate for TLS, when none is there (development)

Passwords are stored hashed where Asterisk allows it (ARI: sha512-crypt); the files are
readable by their owner only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_AUTH_LINE = re.compile(r"^\s*auth\s*=\s*(?P<name>[A-Za-z0-9_-]+)\s*(;.*)?$")
_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\](\((?P<template>[^)]*)\))?")
BROWSER_TEMPLATE = "webrtc-phone"  # pjsip.conf: browser phones, provisioned by the app
_SAFE = re.compile(r"^[^\s;\[\]\"\\]+$")


class SecretsError(Exception):
    """A secret is missing or cannot be written into Asterisk's syntax."""


@dataclass(frozen=True)
class Secrets:
    ari_user: str
    ari_password: str
    ami_user: str | None = None
    ami_password: str | None = None
    sip_passwords: Mapping[str, str] = field(default_factory=dict)  # auth name -> password
    trunk_username: str | None = None
    trunk_password: str | None = None
    # CIDR networks, already checked (app/settings.py); empty: nobody
    carrier_networks: tuple[str, ...] = ()
    staff_networks: tuple[str, ...] = ()


def _auths_by_template(pjsip_conf: Path) -> list[tuple[str, str]]:
    """(auth name, the template of the endpoint that refers to it), in file order."""
    found: list[tuple[str, str]] = []
    template = ""
    for line in pjsip_conf.read_text().splitlines():
        section = _SECTION.match(line.strip())
        if section:
            template = section.group("template") or ""
            continue
        match = _AUTH_LINE.match(line)
        if match and all(match.group("name") != name for name, _ in found):
            found.append((match.group("name"), template))
    return found


def staff_auth_names(pjsip_conf: Path) -> list[str]:
    """The auth sections the desk phones' endpoints refer to (`auth = 2001`), in file order:
    the passwords that come from the environment. Browser phones' are not among them."""
    return [
        name for name, template in _auths_by_template(pjsip_conf) if template != BROWSER_TEMPLATE
    ]


def browser_auth_names(pjsip_conf: Path) -> list[str]:
    """The auth sections of browser phones (`webrtc-phone`): never in a file, the app
    provisions them at each sign-in."""
    return [
        name for name, template in _auths_by_template(pjsip_conf) if template == BROWSER_TEMPLATE
    ]


def env_name(auth: str) -> str:
    """The environment variable that holds a staff phone's password: SIP_PASSWORD_2001."""
    return "SIP_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", auth).upper()


def passwords_from_env(
    names: list[str], env: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """(the passwords set, the names whose variable is not set)."""
    found = {name: env[env_name(name)] for name in names if env.get(env_name(name))}
    return found, [name for name in names if name not in found]


def _checked(value: str, what: str) -> str:
    if not _SAFE.match(value):
        raise SecretsError(f"{what} may not contain spaces, ';', brackets, quotes or backslashes")
    return value


def _hash_password(password: str) -> tuple[str, str]:
    """ari.conf takes plain or crypt(3); sha512-crypt through openssl when it is there."""
    openssl = shutil.which("openssl")
    if openssl:
        result = subprocess.run(
            [openssl, "passwd", "-6", "-stdin"],
            input=password,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return "crypt", result.stdout.strip()
    return "plain", password


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


def write(etc: Path, secrets: Secrets) -> list[Path]:
    """Write the generated includes into Asterisk's configuration directory."""
    etc.mkdir(parents=True, exist_ok=True)
    fmt, hashed = _hash_password(_checked(secrets.ari_password, "ASTERISK_ARI_PASSWORD"))
    written = [etc / "ari_users.conf"]
    _write_private(
        written[0],
        f"[{_checked(secrets.ari_user, 'ASTERISK_ARI_USER')}]\ntype = user\nread_only = no\n"
        f"password_format = {fmt}\npassword = {hashed}\n",
    )
    manager = ""
    if secrets.ami_user and secrets.ami_password:
        manager = (
            f"[{_checked(secrets.ami_user, 'ASTERISK_AMI_USER')}]\n"
            f"secret = {_checked(secrets.ami_password, 'ASTERISK_AMI_PASSWORD')}\n"
            "deny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.1/255.255.255.255\n"
            # Reload needs `system`, ShowDialPlan `reporting`; never `config` (UpdateConfig
            # could write a dialplan that runs commands) nor `command`.
            "read = system,reporting\nwrite = system,reporting\n"
        )
    written.append(etc / "manager_users.conf")
    _write_private(written[-1], manager)
    auth = []
    for name, password in secrets.sip_passwords.items():
        auth.append(
            f"[{_checked(name, 'a staff auth name')}]\ntype = auth\nauth_type = digest\n"
            f"username = {name}\npassword = {_checked(password, env_name(name))}\n"
        )
    if secrets.trunk_username and secrets.trunk_password:
        auth.append(
            "[trunk-auth]\ntype = auth\nauth_type = digest\n"
            f"username = {_checked(secrets.trunk_username, 'TWILIO_SIP_USERNAME')}\n"
            f"password = {_checked(secrets.trunk_password, 'TWILIO_SIP_PASSWORD')}\n"
        )
    written.append(etc / "pjsip_auth.conf")
    _write_private(written[-1], "\n".join(auth))
    written += write_networks(etc, secrets.carrier_networks, secrets.staff_networks)
    return written


_GENERATED = "; Generated by `frontdesk asterisk secrets` from {what}: never edit by hand.\n"


def _acl(name: str, networks: tuple[str, ...]) -> str:
    """A named ACL that denies everything but `networks` (nothing, when there are none)."""
    permits = "".join(f"permit = {_checked(n, name)}\n" for n in networks)
    return f"[{name}]\ndeny = 0.0.0.0/0.0.0.0\ndeny = ::/0\n{permits}"


def write_networks(etc: Path, carrier: tuple[str, ...], staff: tuple[str, ...]) -> list[Path]:
    """Where the trunk's calls and the staff phones may come from.

    The trunk is identified by source address alone (pjsip.conf: `identify_by = ip`), so
    without a carrier network no call reaches it; an endpoint whose named ACL is missing
    or empty refuses everyone (Asterisk treats an unknown ACL as deny-all)."""
    identify = _GENERATED.format(what="CARRIER_NETWORKS")
    if carrier:
        identify += "[trunk]\ntype = identify\nendpoint = trunk\n" + "".join(
            f"match = {_checked(n, 'CARRIER_NETWORKS')}\n" for n in carrier
        )
    else:
        identify += "; CARRIER_NETWORKS is empty: no address is the carrier's, no call comes in.\n"
    acls = _GENERATED.format(what="CARRIER_NETWORKS and STAFF_NETWORKS")
    acls += _acl("carrier-networks", carrier) + "\n" + _acl("staff-networks", staff)
    paths = [etc / "pjsip_networks.conf", etc / "acl_networks.conf"]
    _write_private(paths[0], identify)
    _write_private(paths[1], acls)
    return paths


def ensure_certificate(keys: Path, common_name: str = "frontdesk.local") -> bool:
    """A self-signed certificate for Asterisk's TLS (https/wss) when there is none; True when
    one was made. Production brings its own (a real name, a real CA)."""
    cert, key = keys / "asterisk.crt", keys / "asterisk.key"
    if cert.exists() and key.exists():
        return False
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SecretsError("openssl is needed to make a development TLS certificate")
    keys.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "825",
            "-subj",
            f"/CN={common_name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    key.chmod(0o600)
    return True
