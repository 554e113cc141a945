"""The `frontdesk` commands for the PBX side: dialplan, sounds, the development Asterisk."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import SecretStr

from app.hotel.config import load_hotel_config
from app.pbx import hotel_dialplan
from app.pbx import secrets as pbx_secrets
from app.pbx.ami import AmiError, reload_dialplan
from app.pbx.dialplan_check import check_with_asterisk
from app.pbx.dialplan_lint import lint
from app.pbx.prompts import all_prompts, hotel_config_problems
from app.pbx.sandbox import CONFIG_DIR, DIALPLAN_DIR, SOUNDS_DIR, AsteriskSandbox, find_asterisk
from app.pbx.sounds import SoundsError
from app.pbx.sounds import build as build_sounds
from app.pbx.sounds import outdated as sounds_outdated
from app.settings import PROJECT_ROOT, Settings

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
SANDBOX_DIR = PROJECT_ROOT / ".data" / "asterisk"
HOTEL_CONF = DIALPLAN_DIR / "hotel.conf"
ENV_FILE = Path(".env")


def _rel(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def _lint() -> list[str]:
    """The static check's problems, printed (file:line: what)."""
    problems = [p.relative_to(PROJECT_ROOT) for p in lint(CONFIG_DIR / "extensions.conf")]
    for problem in problems:
        print(problem)
    return problems


async def dialplan_check(static_only: bool) -> int:
    problems = _lint()
    how = "static check"
    if not static_only and find_asterisk() is not None:
        complaints = await asyncio.to_thread(check_with_asterisk)
        for complaint in complaints:
            print(complaint)
        problems += complaints
        how = "static check, then loaded into a real Asterisk"
    elif not static_only:
        how = "static check only: no asterisk binary here to load it into"
    if problems:
        print(f"{len(problems)} problem(s) ({how})", file=sys.stderr)
        return EXIT_FAILED
    print(f"dialplan ok ({how})")
    return EXIT_OK


async def dialplan_build(settings: Settings, check_only: bool) -> int:
    """Write dialplan/hotel.conf from hotel.yaml (--check: only say whether it is current)."""
    hotel = load_hotel_config(settings.hotel_config)
    if check_only:
        if hotel_dialplan.lags(hotel, HOTEL_CONF, settings.destination_regions):
            print(f"{_rel(HOTEL_CONF)} is out of date: run `frontdesk dialplan build`")
            return EXIT_FAILED
        print(f"{_rel(HOTEL_CONF)} is up to date")
        return EXIT_OK
    try:
        changed = hotel_dialplan.write(hotel, HOTEL_CONF, settings.destination_regions)
    except hotel_dialplan.HandEdited as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{_rel(HOTEL_CONF)} {'written' if changed else 'already up to date'}")
    if changed:
        print("load it with `frontdesk dialplan reload`")
    return EXIT_OK


async def dialplan_reload(settings: Settings, force: bool) -> int:
    """Check the dialplan, then reload it in the running Asterisk through AMI."""
    problems = _lint()
    if problems and not force:
        print(f"{len(problems)} problem(s): not reloaded (fix them, or --force)", file=sys.stderr)
        return EXIT_FAILED
    if settings.asterisk_ami_password is None:
        print(
            "frontdesk: ASTERISK_AMI_PASSWORD is not set (the AMI user Asterisk was given by "
            "`frontdesk asterisk secrets`)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        summary = await reload_dialplan(
            settings.asterisk_ami_host,
            settings.asterisk_ami_port,
            settings.asterisk_ami_user,
            settings.asterisk_ami_password.get_secret_value(),
        )
    except AmiError as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"dialplan reloaded: {summary}")
    return EXIT_OK


async def sounds_build(settings: Settings, check_only: bool) -> int:
    hotel = load_hotel_config(settings.hotel_config)
    problems = hotel_config_problems(hotel)
    for problem in problems:
        print(f"{settings.hotel_config}: {problem}", file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    prompts = all_prompts(hotel)
    try:
        if check_only:
            report = sounds_outdated(SOUNDS_DIR, prompts)
        else:
            report = await asyncio.to_thread(build_sounds, SOUNDS_DIR, prompts)
    except SoundsError as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return EXIT_FAILED
    verb = "to render" if check_only else "rendered"
    for path in report.rendered:
        print(f"{verb}: sounds/{path}")
    for path in report.removed:
        print(f"{'to remove' if check_only else 'removed'}: sounds/{path}")
    print(
        f"{len(report.rendered)} {verb}, {len(report.removed)} removed, {report.unchanged} unchanged"
    )
    return EXIT_FAILED if check_only and report.changed else EXIT_OK


def _secrets_from(settings: Settings, env: Mapping[str, str | None]) -> pbx_secrets.Secrets:
    names = pbx_secrets.staff_auth_names(CONFIG_DIR / "pjsip.conf")
    found, missing = pbx_secrets.passwords_from_env(names, {k: v for k, v in env.items() if v})
    for name in missing:
        print(f"note: {pbx_secrets.env_name(name)} is not set: phone {name} cannot register")
    ari = settings.asterisk_ari_password
    ami = settings.asterisk_ami_password
    return pbx_secrets.Secrets(
        ari_user=settings.asterisk_ari_user,
        ari_password=ari.get_secret_value() if ari else "",
        ami_user=settings.asterisk_ami_user if ami else None,
        ami_password=ami.get_secret_value() if ami else None,
        sip_passwords=found,
        trunk_username=env.get("TWILIO_SIP_USERNAME") or None,
        trunk_password=env.get("TWILIO_SIP_PASSWORD") or None,
        carrier_networks=settings.carrier_networks,
        staff_networks=settings.staff_networks,
    )


async def asterisk_secrets(settings: Settings, etc: Path) -> int:
    """A deployment's generated includes, from the environment (nothing is generated)."""
    if settings.asterisk_ari_password is None:
        print("frontdesk: ASTERISK_ARI_PASSWORD is not set; Asterisk needs it", file=sys.stderr)
        return EXIT_CONFIG
    env = {**dotenv_values(ENV_FILE), **os.environ}
    if not settings.carrier_networks:
        print("note: CARRIER_NETWORKS is not set: no call from the carrier will be taken")
    if not settings.staff_networks:
        print("note: STAFF_NETWORKS is not set: no staff phone can log in")
    try:
        written = pbx_secrets.write(etc, _secrets_from(settings, env))
        if pbx_secrets.ensure_certificate(etc / "keys"):
            print(f"made a self-signed certificate in {etc / 'keys'} (replace it with your own)")
    except pbx_secrets.SecretsError as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _development_secrets(settings: Settings) -> pbx_secrets.Secrets:
    """`make asterisk`: what is missing is generated, once, into .env (ignored by git), so
    `make run`, a softphone and the next start find the same values. Never a default."""
    env = {**dotenv_values(ENV_FILE), **os.environ}
    wanted = ["ASTERISK_ARI_PASSWORD", "ASTERISK_AMI_PASSWORD"] + [
        pbx_secrets.env_name(n) for n in pbx_secrets.staff_auth_names(CONFIG_DIR / "pjsip.conf")
    ]
    generated = {name: secrets.token_urlsafe(18) for name in wanted if not env.get(name)}
    if generated:
        with ENV_FILE.open("a", encoding="utf-8") as out:
            out.write("\n" + "".join(f"{k}={v}\n" for k, v in generated.items()))
        ENV_FILE.chmod(0o600)
        print(f"generated into .env: {', '.join(generated)}")
        env.update(generated)
    updated = settings.model_copy(
        update={
            "asterisk_ari_password": SecretStr(env["ASTERISK_ARI_PASSWORD"] or ""),
            "asterisk_ami_password": SecretStr(env["ASTERISK_AMI_PASSWORD"] or ""),
        }
    )
    return _secrets_from(updated, env)


async def asterisk(settings: Settings, action: str, command: str) -> int:
    if action == "start":
        found = _development_secrets(settings)
    else:
        ari = settings.asterisk_ari_password
        found = pbx_secrets.Secrets(
            settings.asterisk_ari_user, ari.get_secret_value() if ari else ""
        )
    sandbox = AsteriskSandbox(
        SANDBOX_DIR,
        ari_user=found.ari_user,
        ari_password=found.ari_password,
        ami=(found.ami_user, found.ami_password) if found.ami_user and found.ami_password else None,
        sip_passwords=dict(found.sip_passwords),
    )
    if action == "start":
        if sandbox.ari_ready():
            print(f"Asterisk is already running: ARI {sandbox.ari_url}")
            return EXIT_OK
        await asyncio.to_thread(sandbox.start)
        print(
            f"Asterisk {sandbox.binary} running from {SANDBOX_DIR}: SIP udp:{sandbox.sip_address}, "
            f"ARI {sandbox.ari_url}; logs in {sandbox.log_dir}; staff phones log in as their "
            "extension with SIP_PASSWORD_<extension> from .env"
        )
    elif action == "stop":
        await asyncio.to_thread(sandbox.stop)
        print("Asterisk stopped")
    else:
        print(await asyncio.to_thread(sandbox.cli, command), end="")
    return EXIT_OK
