"""Process settings, read from the environment (and a `.env` file beside the process).

Every variable is named in `.env.example`. Secrets have no defaults: a missing secret turns the
feature it guards off (and `frontdesk doctor` says so) instead of falling back to a default.
A bad value stops start-up with a message naming the variable and what it accepts.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.hotel.destinations import country_regions

# Where the project lives when run from a checkout (editable install): config/, sounds/, migrations/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

REALTIME_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)


class SettingsError(Exception):
    """Start-up configuration is invalid; the message names each variable and what it accepts."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
        env_ignore_empty=True,  # `OPENAI_API_KEY=` in .env means "not set", not an empty key
    )

    # --- the plan's variables -------------------------------------------------------------
    voice_enabled: bool = Field(
        True,
        description="answer calls at all (false: Stasis calls fall back to the front-desk queue)",
    )
    twilio_account_sid: str | None = Field(None, pattern=r"^AC[0-9a-fA-F]{32}$")
    twilio_auth_token: SecretStr | None = None
    twilio_phone_number: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$")
    openai_api_key: SecretStr | None = None
    openai_realtime_model: str = Field("gpt-realtime", min_length=1)
    # what transcribes the caller for the call's history (gpt-transcribe also says the language)
    openai_transcribe_model: str = Field("gpt-4o-mini-transcribe", min_length=1)
    voice_recording_enabled: bool = False
    recording_storage: Literal["local", "s3"] = "local"
    default_language: str = Field("en-US", pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")
    max_call_duration_minutes: int = Field(30, ge=1, le=240)

    # --- database -----------------------------------------------------------------------
    database_url: str | None = Field(None, pattern=r"^postgres(ql)?://")

    # --- Asterisk REST Interface ------------------------------------------------------------
    asterisk_ari_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8088/ari")
    asterisk_ari_user: str = Field("frontdesk", min_length=1)
    asterisk_ari_password: SecretStr | None = None
    asterisk_ari_app: str = Field("frontdesk", pattern=r"^[A-Za-z0-9_-]+$")
    # AMI, for `frontdesk dialplan reload` only (manager.conf: loopback)
    asterisk_ami_host: str = "127.0.0.1"
    asterisk_ami_port: int = Field(5038, ge=1, le=65535)
    asterisk_ami_user: str = Field("frontdesk", pattern=r"^[A-Za-z0-9_-]+$")
    asterisk_ami_password: SecretStr | None = None

    # --- media between Asterisk and us (externalMedia RTP) ------------------------------------
    rtp_bind_host: str = "127.0.0.1"
    # The address *Asterisk* sends our RTP to; in compose the app's service address. Defaults
    # to RTP_BIND_HOST, which is only right when both run on one host.
    rtp_advertise_host: str | None = None
    rtp_port_min: int = Field(40000, ge=1024, le=65534)
    rtp_port_max: int = Field(40999, ge=1025, le=65535)
    rtp_inactivity_seconds: float = Field(20.0, gt=0, le=600)
    # Where callers go when we cannot take them (engine down, shutting down, setup failed).
    fallback_context: str = Field("frontdesk-fallback", pattern=r"^[A-Za-z0-9_-]+$")
    fallback_extension: str = Field("s", pattern=r"^[A-Za-z0-9_+*#-]+$")
    drain_seconds: float = Field(20.0, ge=0, le=600)
    # The music-on-hold class callers hear while the agent runs a slow task (musiconhold.conf)
    moh_class: str = Field("frontdesk", pattern=r"^[A-Za-z0-9_-]+$")
    # Who may reach the PBX at all (written into Asterisk's configuration by `frontdesk asterisk
    # secrets`): the carrier's signalling addresses, the only sources the trunk takes calls
    # from; and the networks staff phones log in from (the staff network, not guest Wi-Fi,
    # which is private too). Comma-separated addresses or CIDR networks; empty: nobody.
    carrier_networks: Annotated[tuple[str, ...], NoDecode] = ()
    staff_networks: Annotated[tuple[str, ...], NoDecode] = ()
    # How callbacks are dialled: an ARI originate endpoint with {number} (E.164). The default
    # goes through the dialplan's [frontdesk-callback-out], which applies the same country and
    # prefix checks as the app before it dials the trunk (/n: the Local channel stays the one
    # in Stasis). Straight to a trunk (PJSIP/...) skips those checks: `frontdesk doctor` warns.
    callback_endpoint: str = Field("Local/{number}@frontdesk-callback-out/n", pattern=r"\{number\}")

    # --- who the product may dial or text (app/hotel/destinations.py) -----------------------
    # Countries besides each property's own (hotel.yaml address.country) that callbacks and
    # texts may reach: ISO 3166 codes separated by commas (CA,GB); empty: the home country only.
    # The dialplan's copy (DESTINATION_CODES in dialplan/hotel.conf) is written from this by
    # `frontdesk dialplan build`.
    destination_countries: str = ""
    # Texts sent plus callbacks arranged during one call, and to one number in 24 hours.
    destination_max_per_call: int = Field(3, ge=1, le=20)
    destination_max_per_number_day: int = Field(5, ge=1, le=100)

    # --- web ------------------------------------------------------------------------------
    web_host: str = "127.0.0.1"
    web_port: int = Field(8000, ge=1, le=65535)
    # Staff pages: the session cookie is Secure unless a plain-http development setup says not.
    web_secure_cookies: bool = True
    web_session_hours: int = Field(12, ge=1, le=24 * 14)
    # --- browser phones (/phone) ----------------------------------------------------------
    # Asterisk's SIP WebSocket, on loopback (http.conf): the app's /ws relays browsers to it.
    asterisk_ws_url: str = Field("ws://127.0.0.1:8088/ws", pattern=r"^wss?://[^\s]+$")
    # A browser phone's SIP password (provisioned through ARI) lives this long; the page
    # picks up a new one before then.
    phone_login_minutes: int = Field(60, ge=5, le=24 * 60)
    # TURN for browsers behind NAT (coturn, compose.yaml): its shared secret (--static-auth-
    # secret) and where it listens (turn:host:3478?transport=udp, comma-separated). With the
    # secret, each phone page gets credentials valid TURN_TTL_SECONDS; without it, STUN only
    # (TURN_URLS' STUN, and STUN_URLS).
    turn_secret: SecretStr | None = Field(None, min_length=16)
    turn_urls: Annotated[tuple[str, ...], NoDecode] = ()
    stun_urls: Annotated[tuple[str, ...], NoDecode] = ()
    turn_ttl_seconds: int = Field(3600, ge=300, le=24 * 3600)

    # --- recordings -----------------------------------------------------------------------
    recording_dir: Path = PROJECT_ROOT / ".data" / "recordings"
    # age public key (age1…) recordings are encrypted to; the matching secret key
    # (AGE-SECRET-KEY-1…) is only needed to export, never by the running service.
    recording_public_key: str | None = Field(None, pattern=r"^age1[0-9a-z]{58}$")
    recording_identity: SecretStr | None = None
    s3_recordings_bucket: str | None = None
    s3_endpoint_url: AnyHttpUrl | None = None

    # --- engine ---------------------------------------------------------------------------
    engine: Literal["auto", "openai", "local"] = "auto"
    openai_voice: str = "marin"
    # A call's engine session is renewed (conversation replayed) after this long, at a quiet
    # moment: OpenAI caps a Realtime session's lifetime at 60 minutes.
    engine_session_minutes: float = Field(55.0, gt=0, le=240)
    # A caller who says nothing, once the agent has finished speaking: "are you still there?"
    # after this many seconds, the front desk or a call back offered after as many again,
    # then goodbye and the call hung up after SILENCE_HANGUP_SECONDS more (app/calls/silence.py).
    silence_reprompt_seconds: float = Field(8.0, ge=2, le=120)
    silence_hangup_seconds: float = Field(10.0, ge=2, le=300)
    openai_realtime_url: str = Field("wss://api.openai.com/v1/realtime", pattern=r"^wss?://")
    # OpenAI's REST API (speech for prompts); unset: the SDK's default
    openai_api_base: str | None = Field(None, pattern=r"^https?://")
    # The offline engine: served by `frontdesk run` on this address, unless LOCAL_ENGINE_URL
    # points at one running elsewhere (`frontdesk engine serve`).
    local_engine_host: str = "127.0.0.1"
    local_engine_port: int = Field(8765, ge=1, le=65535)
    local_engine_url: str | None = Field(None, pattern=r"^wss?://")
    # The offline engine's neural voice: a Piper model (.onnx, its .onnx.json beside it);
    # unset, the packaged en_US-joe-medium. Missing or unloadable: flite speaks instead.
    piper_voice: Path | None = None

    # --- payments and text messages --------------------------------------------------------
    # offline: a signed, expiring link to the property's booking page (no payment service);
    # http: a payment service at PAYMENT_PROVIDER_URL (see app/payments/http_provider.py).
    payment_provider: Literal["offline", "http"] = "offline"
    payment_provider_url: AnyHttpUrl | None = None
    payment_provider_api_key: SecretStr | None = None
    # Signs offline links; unset, a random key lives as long as the process (links die with it).
    payment_link_secret: SecretStr | None = Field(None, min_length=16)
    twilio_api_base: AnyHttpUrl = AnyHttpUrl("https://api.twilio.com")
    # This service as Twilio reaches it (https://…): status callbacks and inbound texts are
    # verified against it.
    public_base_url: AnyHttpUrl | None = None

    # --- analytics (app/analytics/): estimated cost per minute, in USD --------------------
    # The trunk bills each started minute; the engine each minute of conversation.
    trunk_price_per_min_usd: float = Field(0.0045, ge=0, le=10, allow_inf_nan=False)
    engine_openai_price_per_min_usd: float = Field(0.20, ge=0, le=10, allow_inf_nan=False)
    engine_local_price_per_min_usd: float = Field(0.002, ge=0, le=10, allow_inf_nan=False)
    # The days of the group's reports (a property's own are in its timezone).
    report_timezone: str = "UTC"

    # --- hotel, logging -------------------------------------------------------------------
    hotel_config: Path = PROJECT_ROOT / "config" / "hotel.yaml"
    sounds_dir: Path = PROJECT_ROOT / "sounds"
    # A warm transfer's spoken summary for staff; Asterisk must read the same path.
    whisper_dir: Path = PROJECT_ROOT / ".data" / "whisper"
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _payment_provider_complete(self) -> Settings:
        if self.payment_provider == "http" and (
            self.payment_provider_url is None or self.payment_provider_api_key is None
        ):
            raise ValueError(
                "PAYMENT_PROVIDER=http needs PAYMENT_PROVIDER_URL and PAYMENT_PROVIDER_API_KEY"
            )
        return self

    @field_validator("carrier_networks", "staff_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        """`54.172.60.0/30, 10.20.0.0/24` -> ("54.172.60.0/30", "10.20.0.0/24"), each checked;
        a bare address is its own /32 (or /128)."""
        if isinstance(value, str):
            value = [part for part in re.split(r"[\s,]+", value) if part]
        if not isinstance(value, list | tuple):
            return value
        networks = []
        for part in value:
            try:
                network = ipaddress.ip_network(str(part), strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an address or network (e.g. 54.172.60.0/30)"
                ) from None
            if network.prefixlen == 0:
                raise ValueError(f"{part!r} is every address: name the networks themselves")
            networks.append(str(network))
        return tuple(networks)

    @field_validator("turn_urls", "stun_urls", mode="before")
    @classmethod
    def _ice_urls(cls, value: Any, info: Any) -> Any:
        """`turn:turn.hotel.example:3478?transport=udp, turns:…` -> a tuple, each checked."""
        if isinstance(value, str):
            value = [part for part in re.split(r"[\s,]+", value) if part]
        if not isinstance(value, list | tuple):
            return value
        schemes = ("turn:", "turns:") if info.field_name == "turn_urls" else ("stun:", "stuns:")
        for url in value:
            if not str(url).startswith(schemes) or not re.match(r"^[a-z]+:[^\s/]+$", str(url)):
                raise ValueError(
                    f"{url!r} is not a {' or '.join(schemes)} URL (e.g. {schemes[0]}host:3478)"
                )
        return tuple(str(url) for url in value)

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                urlsplit(value).port  # noqa: B018 (a bad port or host raises here)
            except ValueError:
                # Said without the value: it may hold the database password.
                raise ValueError(
                    "not a valid URL; the form is postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
                ) from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("openai_voice")
    @classmethod
    def _known_voice(cls, value: str) -> str:
        if value not in REALTIME_VOICES:
            raise ValueError(f"must be one of {', '.join(REALTIME_VOICES)}")
        return value

    @field_validator("destination_countries")
    @classmethod
    def _known_countries(cls, value: str) -> str:
        country_regions(value)  # ValueError names the unknown codes
        return value

    @field_validator("report_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known timezone (e.g. UTC, Europe/Madrid)") from None
        return value

    @field_validator("recording_identity")
    @classmethod
    def _identity_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("AGE-SECRET-KEY-1"):
            raise ValueError("must be an age secret key starting with AGE-SECRET-KEY-1")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.voice_recording_enabled and not self.recording_public_key:
            raise ValueError(
                "VOICE_RECORDING_ENABLED=true needs RECORDING_PUBLIC_KEY (an age1… public key): "
                "recordings are only ever written encrypted"
            )
        if self.recording_storage == "s3" and not self.s3_recordings_bucket:
            raise ValueError("RECORDING_STORAGE=s3 needs S3_RECORDINGS_BUCKET")
        if self.rtp_port_min >= self.rtp_port_max:
            raise ValueError("RTP_PORT_MIN must be below RTP_PORT_MAX")
        if self.engine == "openai" and self.openai_api_key is None:
            raise ValueError("ENGINE=openai needs OPENAI_API_KEY")
        return self

    @property
    def destination_regions(self) -> frozenset[str]:
        return country_regions(self.destination_countries)

    @property
    def engine_kind(self) -> Literal["openai", "local"]:
        """The engine calls talk to: OpenAI when a key is set (unless forced local)."""
        if self.engine == "auto":
            return "openai" if self.openai_api_key is not None else "local"
        return self.engine


_FIELD_RE = re.compile(r"^[a-z_]+$")


def _describe(error: Any) -> str:
    loc = [str(part) for part in error.get("loc", ()) if _FIELD_RE.match(str(part))]
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if not loc:
        return message
    name = loc[0].upper()
    value = error.get("input")
    shown = "" if isinstance(value, dict) or _may_hold_a_secret(loc[0]) else f"={value!r}"
    return f"{name}{shown}: {message}"


def _may_hold_a_secret(field: str) -> bool:
    """Never echo these values: secrets, and URLs (which can carry a password, even when
    malformed beyond redacting)."""
    info = Settings.model_fields.get(field)
    if info is not None and "SecretStr" in str(info.annotation):
        return True
    return field.endswith(("_key", "_token", "_password", "_identity", "_secret", "_url"))


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [_describe(error) for error in exc.errors()]
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None
