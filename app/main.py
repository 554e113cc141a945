"""The composition root: the one place that wires settings, adapters and domain together."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import asyncpg
from aiohttp import web

from app.aio import Supervised, supervise
from app.analytics.costs import Prices
from app.analytics.report import Reports
from app.calls.agent import AgentConversation, Opening
from app.calls.arrival import Arrival, Why
from app.calls.call_log import CallLog
from app.calls.callbacks import CallbackConversation, CallbackQueue, CallbackScheduler
from app.calls.conversation import Conversation, EchoConversation, FallbackConversation
from app.calls.engine_port import EngineConnector
from app.calls.live import LiveCalls
from app.calls.silence import SilenceWatch
from app.calls.write_behind import WriteBehind
from app.engines.health import EngineCheck
from app.engines.instructions import build_instructions
from app.engines.local.flite import FliteTextToSpeech
from app.engines.local.server import capabilities as local_capabilities
from app.engines.local.server import create_engine_app, languages_of
from app.engines.local.voices import LocalVoices
from app.engines.local.whisper import WhisperSpeechToText
from app.engines.realtime_client import RealtimeConnector
from app.health import HealthCheck, TaskCheck
from app.hotel import openings
from app.hotel.config import HotelConfig, load_hotel_config
from app.hotel.destinations import (
    DestinationPolicy,
    DestinationRules,
    ScreenedCallbacks,
    ScreenedOutbox,
)
from app.hotel.hours import after_hours
from app.hotel.payments import OfflinePaymentProvider, PaymentProvider
from app.hotel.tools.booking_tools import BookingTools
from app.hotel.tools.call_tools import call_tools
from app.hotel.tools.callback_tools import CallbackTools
from app.hotel.tools.payment_tools import PaymentTools
from app.hotel.tools.registry import ToolLog, ToolRegistry
from app.log import get_logger
from app.messaging.dispatcher import SmsDispatcher
from app.messaging.twilio import TwilioSms
from app.payments.http_provider import HttpPaymentProvider
from app.pbx.dialplan_globals import DialplanGlobalsError, blocked_prefixes
from app.pbx.sandbox import CONFIG_DIR, DIALPLAN_DIR
from app.pbx.secrets import browser_auth_names
from app.settings import PROJECT_ROOT, Settings, SettingsError
from app.staff.signin import SignIn
from app.storage import migrate
from app.storage.analytics_repo import AnalyticsRepository, CallRecordings
from app.storage.booking_repo import BookingRepository
from app.storage.callbacks_repo import CallbackRepository
from app.storage.calls_repo import CallRepository
from app.storage.console_audit import ConsoleAudit
from app.storage.db import create_pool
from app.storage.destinations_repo import UsageRepository
from app.storage.errors import is_transient
from app.storage.health import DatabaseCheck
from app.storage.payments_repo import PaymentRepository
from app.storage.recordings import (
    RecordingArchive,
    RecordingRepository,
    RecordingService,
    RecordingStorage,
    storage_for,
)
from app.storage.seed import seed
from app.storage.server import (
    LocalCluster,
    database_name,
    discover,
    ensure_database,
    redact_url,
    with_database,
)
from app.storage.sms_repo import SmsRepository
from app.storage.tools_repo import ToolInvocationRepository
from app.storage.users_repo import SessionRepository, UserRepository
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.ari.models import AriEvent
from app.telephony.ari_health import AriCheck
from app.telephony.call_control import StasisCallControl
from app.telephony.call_services import CallLimits, MediaSettings
from app.telephony.controller import ConversationFactory, StasisApp
from app.telephony.dialer import AriDialer, callback_of
from app.telephony.phone_logins import AriPhoneLogins, UnconfiguredPhoneLogins
from app.telephony.rtp_endpoint import PortPool
from app.telephony.whisper import WhisperFiles
from app.web.analytics_api import AnalyticsApi, add_analytics_routes
from app.web.app import create_app
from app.web.auth import AuthConfig
from app.web.console import add_console_routes
from app.web.dashboard import add_dashboard_routes
from app.web.phone import PhoneSetup, add_phone_routes
from app.web.sip_relay import RelayTarget
from app.web.sms_webhooks import add_sms_routes
from app.web.turn import IceSettings

log = get_logger(__name__)

APP_DATABASE = "frontdesk"
DEPARTMENTS_CONTEXT = "frontdesk-departments"  # dialplan/extensions.conf
LOCAL_CLUSTER_DIR = PROJECT_ROOT / ".data" / "postgres"


@dataclass
class Database:
    url: str
    cluster: LocalCluster | None  # set when we started a private cluster for `make run`


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The app database, created if missing; a private cluster is stopped on the way out."""
    server, cluster = await discover(settings.database_url, LOCAL_CLUSTER_DIR)
    try:
        if settings.database_url:
            name = database_name(settings.database_url)
            url = await ensure_database(with_database(settings.database_url, "postgres"), name)
        else:
            url = await ensure_database(server, APP_DATABASE)
        yield Database(url, cluster)
    finally:
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)


async def prepare_database(url: str, hotel: HotelConfig) -> None:
    """Schema to head, then the hotel configuration into the tables."""
    await asyncio.to_thread(migrate.upgrade, url)
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        report = await seed(pool, hotel)
    finally:
        await pool.close()
    log.info(
        "database ready",
        url=redact_url(url),
        properties=report.properties,
        room_types=report.room_types,
        inventory_rows_added=report.inventory_rows_added,
    )


async def serve(settings: Settings, *, migrate_and_seed: bool = True) -> None:
    """`frontdesk run`: serve until SIGTERM or SIGINT, then stop cleanly."""
    hotel = load_hotel_config(settings.hotel_config)
    rules = destination_rules(settings)  # before anything starts: a bad list stops start-up
    async with open_database(settings) as db:
        if migrate_and_seed:
            await prepare_database(db.url, hotel)
        # min_size=0: a database that goes away later is a /ready status, not a crash.
        pool = await create_pool(db.url, min_size=0, max_size=10)
        http = aiohttp.ClientSession()
        try:
            await _serve(settings, hotel, pool, http, build_destinations(rules, hotel, pool))
        finally:
            await http.close()
            await pool.close()
    log.info("stopped")


def recording_storage(settings: Settings, kind: str | None = None) -> RecordingStorage:
    """Where recordings are kept: the configured kind, or the kind a stored recording names."""
    endpoint = str(settings.s3_endpoint_url) if settings.s3_endpoint_url else None
    return storage_for(
        kind or settings.recording_storage,
        settings.recording_dir,
        settings.s3_recordings_bucket,
        endpoint,
    )


def payment_provider(settings: Settings, http: aiohttp.ClientSession) -> PaymentProvider:
    if settings.payment_provider == "http":
        assert settings.payment_provider_url and settings.payment_provider_api_key  # validated
        return HttpPaymentProvider(
            http,
            str(settings.payment_provider_url),
            settings.payment_provider_api_key.get_secret_value(),
        )
    if settings.payment_link_secret is None:
        log.warning(
            "payment links are signed with a key that dies with this process",
            fix="set PAYMENT_LINK_SECRET (32 random characters) so links outlive a restart",
        )
        return OfflinePaymentProvider(secrets.token_bytes(32))
    return OfflinePaymentProvider(settings.payment_link_secret.get_secret_value().encode())


def destination_rules(settings: Settings) -> DestinationRules:
    """Who the product may dial or text: the settings' countries and caps, the dialplan's
    BLOCKED_PREFIXES (one list for the app and the dialplan). SettingsError when unreadable."""
    extensions = DIALPLAN_DIR / "extensions.conf"
    try:
        return DestinationRules(
            also_allowed=settings.destination_regions,
            blocked_prefixes=blocked_prefixes(extensions),
            per_call=settings.destination_max_per_call,
            per_number_day=settings.destination_max_per_number_day,
        )
    except (DialplanGlobalsError, ValueError) as exc:
        raise SettingsError(f"invalid configuration:\n  {exc} ({extensions})") from None


def build_destinations(
    rules: DestinationRules, hotel: HotelConfig, pool: asyncpg.Pool
) -> DestinationPolicy:
    homes = {p.id: p.address.country for p in hotel.properties}
    return DestinationPolicy(rules, UsageRepository(pool), homes)


def build_tools(
    pool: asyncpg.Pool,
    log_to: ToolLog | None,
    destinations: DestinationPolicy,
    settings: Settings | None = None,
    http: aiohttp.ClientSession | None = None,
) -> ToolRegistry:
    """Every tool the agent may use, backed by the database; every number they call or text
    passes the destination policy."""
    booking = BookingTools(BookingRepository(pool))
    callbacks = CallbackTools(ScreenedCallbacks(CallbackRepository(pool), destinations))
    tools = [*booking.tools(), *callbacks.tools(), *call_tools()]
    if settings is not None and http is not None:
        payments = PaymentTools(
            PaymentRepository(pool),
            payment_provider(settings, http),
            ScreenedOutbox(SmsRepository(pool), destinations),
            settings.twilio_phone_number,
            may_text=lambda to, prop, call: destinations.admit(to, prop, "text", call),
        )
        tools.extend(payments.tools())
    return ToolRegistry(tools, log_to)


def build_analytics(settings: Settings, pool: asyncpg.Pool) -> AnalyticsApi:
    """The managers' analytics API: KPIs priced from the settings, recordings played back
    only where RECORDING_IDENTITY is set (an admin host, never the call server)."""
    identity = settings.recording_identity
    recordings = CallRecordings(
        pool,
        lambda kind: recording_storage(settings, kind),
        identity.get_secret_value() if identity else None,
    )
    return AnalyticsApi(build_reports(settings, pool), recordings)


def build_reports(settings: Settings, pool: asyncpg.Pool) -> Reports:
    prices = Prices(
        settings.trunk_price_per_min_usd,
        {
            "openai": settings.engine_openai_price_per_min_usd,
            "local": settings.engine_local_price_per_min_usd,
        },
    )
    return Reports(AnalyticsRepository(pool), prices, settings.report_timezone)


def build_web_auth(settings: Settings, pool: asyncpg.Pool) -> AuthConfig:
    """Staff sign-in for the web pages: users and sessions in the database."""
    public = urlsplit(str(settings.public_base_url)) if settings.public_base_url else None
    return AuthConfig(
        signin=SignIn(UserRepository(pool)),
        sessions=SessionRepository(pool),
        session_hours=settings.web_session_hours,
        secure_cookies=settings.web_secure_cookies,
        public_origin=f"{public.scheme}://{public.netloc}" if public else None,
    )


@dataclass
class Phones:
    setup: PhoneSetup
    job: Callable[[], Awaitable[None]] | None  # removes expired browser phone logins
    restore: Callable[[], Awaitable[object]] | None = None  # puts them back after a reconnect


def build_phones(settings: Settings, hotel: HotelConfig, http: aiohttp.ClientSession) -> Phones:
    """Browser phones: logins provisioned into Asterisk through ARI, the /ws relay, TURN."""
    ice = IceSettings(
        turn_urls=settings.turn_urls,
        stun_urls=settings.stun_urls,
        turn_secret=settings.turn_secret.get_secret_value() if settings.turn_secret else None,
        ttl_seconds=settings.turn_ttl_seconds,
    )
    job: Callable[[], Awaitable[None]] | None = None
    restore: Callable[[], Awaitable[object]] | None = None
    logins: AriPhoneLogins | UnconfiguredPhoneLogins = UnconfiguredPhoneLogins()
    if settings.asterisk_ari_password is not None:
        ari = AriPhoneLogins(
            ari_client(settings, http), dt.timedelta(minutes=settings.phone_login_minutes)
        )
        left_behind = browser_auth_names(CONFIG_DIR / "pjsip.conf")
        logins, job, restore = ari, lambda: ari.run_forever(left_behind), ari.restore
    setup = PhoneSetup(
        logins,
        RelayTarget(settings.asterisk_ws_url, http),
        ice,
        lambda property_id: (
            hotel.get_property(property_id) if property_id else hotel.default_property
        ),
    )
    return Phones(setup, job, restore)


def build_sms(
    settings: Settings,
    hotel: HotelConfig,
    pool: asyncpg.Pool,
    http: aiohttp.ClientSession,
    app: web.Application,
) -> SmsDispatcher | None:
    """Twilio for text messages when configured; otherwise they wait, queued, in the outbox."""
    sid, token, number = (
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_phone_number,
    )
    if sid is None or token is None or number is None:
        log.warning(
            "text messages stay queued",
            reason="TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER are not all set",
        )
        return None
    public = str(settings.public_base_url).rstrip("/") if settings.public_base_url else None
    store = SmsRepository(pool)
    if public is not None:
        add_sms_routes(
            app,
            store,
            token.get_secret_value(),
            public,
            lambda to: (hotel.property_for_number(to) or hotel.default_property).id,
        )
    sender = TwilioSms(
        http,
        sid,
        token.get_secret_value(),
        api_base=str(settings.twilio_api_base),
        status_callback=f"{public}/sms/status" if public else None,
    )
    return SmsDispatcher(store, sender, number)


def build_engine(
    settings: Settings,
    hotel: HotelConfig,
    http: aiohttp.ClientSession,
    tools: ToolRegistry | None = None,
) -> EngineConnector:
    """OpenAI Realtime with a key, else the offline engine: the same client either way."""
    schemas = (tools or ToolRegistry(call_tools())).schemas()
    if settings.engine_kind == "openai" and settings.openai_api_key is not None:
        return RealtimeConnector(
            http,
            f"{settings.openai_realtime_url}?model={settings.openai_realtime_model}",
            api_key=settings.openai_api_key.get_secret_value(),
            voice=settings.openai_voice,
            transcribe_model=settings.openai_transcribe_model,
            instructions=lambda context: build_instructions(
                hotel.get_property(context.property_id), context
            ),
            tools=schemas,
        )
    url = settings.local_engine_url or (
        f"ws://{settings.local_engine_host}:{settings.local_engine_port}/v1/realtime"
    )
    return RealtimeConnector(
        http,
        url,
        tools=schemas,
        # what it speaks depends on the property (its hotel.yaml languages)
        capabilities=lambda property_id: local_capabilities(hotel.get_property(property_id)),
    )


async def start_local_engine(
    hotel: HotelConfig,
    host: str,
    port: int,
    default_language: str = "en",
    piper_voice: Path | None = None,
) -> web.AppRunner:
    """The offline engine's WebSocket server; its speech model loads in a thread at start (its
    voices as it renders the greetings, before the first call). `default_language`
    (DEFAULT_LANGUAGE): the greeting's, for a caller who chose none."""
    # a caller's first words are heard as one of the languages the engine converses in
    spoken = frozenset().union(*(languages_of(prop) for prop in hotel.properties))
    stt = WhisperSpeechToText(languages=spoken)
    await asyncio.to_thread(stt.warm_up)
    # the fixed lines too (in the background): production's first audio, not the tests'
    app = create_engine_app(
        hotel, stt, LocalVoices(piper_voice), default_language, prerender_all=True
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("offline engine listening", host=host, port=port)
    return runner


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "wss" else 80)


def build_recordings(
    settings: Settings, pool: asyncpg.Pool, writes: WriteBehind
) -> RecordingService | None:
    if not settings.voice_recording_enabled or settings.recording_public_key is None:
        return None
    archive = RecordingArchive(recording_storage(settings), settings.recording_public_key)
    return RecordingService(archive, RecordingRepository(pool), writes)


def build_telephony(
    settings: Settings,
    hotel: HotelConfig,
    client: AriClient,
    call_log: CallLog,
    recordings: RecordingService | None = None,
    engine: EngineConnector | None = None,
    tools: ToolRegistry | None = None,
    callbacks: CallbackQueue | None = None,
    *,
    conversations: ConversationFactory | None = None,
) -> StasisApp:
    """The Stasis application with its conversations: wired here, nowhere else.
    `conversations` replaces the agent, echo and callback conversations wired here with
    stand-ins of a test's own (the live suite), the rest wired as for `frontdesk run`."""
    fallback = (settings.fallback_context, settings.fallback_extension)

    registry = tools or ToolRegistry(call_tools())

    def route(property_id: str, department_key: str) -> tuple[str, str]:
        """A department's phone or queue, through [frontdesk-departments] in the dialplan."""
        department = hotel.get_property(property_id).departments.get(department_key)
        if department is None:
            return fallback
        return (DEPARTMENTS_CONTEXT, department.destination)

    def agent(opening: Opening | None = None) -> AgentConversation:
        assert engine is not None
        return AgentConversation(
            engine,
            hotel.get_property,
            fallback,
            call_log,
            registry,
            route=route,
            opening=opening,
            renew_after=settings.engine_session_minutes * 60,
            silence=SilenceWatch(
                settings.silence_reprompt_seconds, settings.silence_hangup_seconds
            ),
        )

    def conversation(arrival: Arrival) -> Conversation:
        if arrival.mode == "echo":
            return EchoConversation()
        if engine is None:  # no engine configured: the front desk, never dead air
            return FallbackConversation(*fallback)
        if arrival.outbound:
            if callbacks is None or arrival.callback_id is None:
                return FallbackConversation(*fallback)
            return CallbackConversation(
                arrival.callback_id, callbacks, agent, openings.calling_back
            )
        # Why the dialplan sent the caller (dialplan/extensions.conf, [frontdesk-ai]).
        destination = arrival.destination or ""
        if arrival.why is Why.UNANSWERED:  # back from a department
            return agent(lambda prop: openings.after_unanswered(prop, destination))
        if arrival.why is Why.CLOSED:  # the menu key of a closed department
            return agent(lambda prop: openings.department_closed(prop, destination))
        if arrival.why is Why.CALLBACK_KEY:  # the menu's call-back key
            return agent(openings.callback_request)
        return agent()

    def property_for(dialled: str | None) -> str:
        found = hotel.property_for_number(dialled) if dialled else None
        return (found or hotel.default_property).id

    return StasisApp(
        client,
        media=MediaSettings(
            settings.rtp_bind_host, settings.rtp_advertise_host or settings.rtp_bind_host
        ),
        ports=PortPool(settings.rtp_port_min, settings.rtp_port_max),
        conversations=conversations or conversation,
        modes={"agent", "echo", "callback"},
        call_log=call_log,
        property_for=property_for,
        fallback=fallback,
        limits=CallLimits(
            rtp_inactivity=settings.rtp_inactivity_seconds,
            max_duration=settings.max_call_duration_minutes * 60.0,
        ),
        default_region=hotel.default_property.address.country,
        recordings=recordings,
        moh_class=settings.moh_class,
        whisper=_whisper_files(settings),
        properties=frozenset(p.id for p in hotel.properties),
        after_hours=lambda prop, at: after_hours(hotel.get_property(prop), at),
        survey_for=lambda prop: hotel.get_property(prop).end_of_call_survey,
        engine_label=None
        if engine is None
        else (
            f"openai:{settings.openai_realtime_model}"
            if settings.engine_kind == "openai"
            else "local"
        ),
    )


async def release_expired_holds(repo: BookingRepository, every: float = 60.0) -> None:
    """Rooms held for a booking nobody confirmed in time go back on sale."""
    while True:
        try:
            released = await repo.release_expired_holds()
            if released:
                log.info("expired room holds released", holds=released)
        except Exception:  # the database had a moment: next round
            log.exception("releasing expired holds failed")
        await asyncio.sleep(every)


def _callback_unanswered(scheduler: CallbackScheduler, channel_id: str, cause: str) -> None:
    callback_id = callback_of(channel_id)
    if callback_id is not None:
        scheduler.unanswered(callback_id, cause)


def ari_client(settings: Settings, http: aiohttp.ClientSession) -> AriClient:
    password = settings.asterisk_ari_password
    assert password is not None  # callers take calls only with one
    return AriClient(
        http,
        str(settings.asterisk_ari_url),
        settings.asterisk_ari_user,
        password.get_secret_value(),
        settings.asterisk_ari_app,
    )


@dataclass
class TakingCalls:
    stasis: StasisApp
    events: EventStream
    job: Supervised  # the events stream, supervised (for /ready)


@contextlib.asynccontextmanager
async def taking_calls(
    settings: Settings,
    stasis: StasisApp,
    client: AriClient,
    http: aiohttp.ClientSession,
    observe: Callable[[AriEvent], None] | None = None,
    on_reconnect: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIterator[TakingCalls]:
    """ARI's events flowing into the Stasis app. On the way out the app takes no new call,
    live calls have DRAIN_SECONDS to finish (then go to the front desk), and only then does
    the stream stop: a call finishing needs its events. `observe` sees every event first
    (the live suite records what the real Asterisk sent); `on_reconnect` runs each time the
    stream comes back (Asterisk may have restarted and forgotten what lived in its memory)."""

    def deliver(event: AriEvent) -> None:
        if observe is not None:
            observe(event)
        stasis.deliver(event)

    async def connected(reconnected: bool) -> None:
        await stasis.on_connected(reconnected)
        if reconnected and on_reconnect is not None:
            await on_reconnect()

    events = EventStream(http, client, deliver, connected)
    job = supervise("ari-events", events.run)
    try:
        yield TakingCalls(stasis, events, job)
    finally:
        try:
            await stasis.stop(settings.drain_seconds)
        finally:
            await job.stop()


async def _flush(writes: WriteBehind) -> None:
    if not await writes.drain(timeout=10):
        log.error("database writes still pending at exit", pending=writes.pending)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("stopping")
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def _serve(
    settings: Settings,
    hotel: HotelConfig,
    pool: asyncpg.Pool,
    http: aiohttp.ClientSession,
    destinations: DestinationPolicy,
) -> None:
    """Everything `frontdesk run` runs. The stack unwinds in reverse order, on a signal or on
    a failure half-way through start-up: the callback scheduler stops placing calls, then
    calls drain (to the front desk after DRAIN_SECONDS) while the events stream still runs,
    then the other background jobs stop, then the database writes still queued are flushed,
    then the web server and the offline engine stop."""
    password = settings.asterisk_ari_password
    local = (settings.local_engine_host, settings.local_engine_port)
    checks: list[HealthCheck] = [
        DatabaseCheck(pool, migrate.head_revision()),
        AriCheck(
            http,
            str(settings.asterisk_ari_url),
            settings.asterisk_ari_user,
            password.get_secret_value() if password else None,
        ),
        EngineCheck(
            settings.engine_kind,
            settings.openai_realtime_model,
            local if settings.local_engine_url is None else _host_port(settings.local_engine_url),
        ),
    ]
    async with contextlib.AsyncExitStack() as stack:
        if settings.engine_kind == "local" and settings.local_engine_url is None:
            engine_runner = await start_local_engine(
                hotel, *local, settings.default_language, settings.piper_voice
            )
            stack.push_async_callback(engine_runner.cleanup)

        app = create_app(
            checks, voice_enabled=settings.voice_enabled, auth=build_web_auth(settings, pool)
        )
        dispatcher = build_sms(settings, hotel, pool, http, app)  # adds its webhooks to app
        phones = build_phones(settings, hotel, http)
        add_phone_routes(app, phones.setup)
        add_analytics_routes(app, build_analytics(settings, pool))
        # the staff console: live calls as the call path reports them, recent calls' summaries
        live = LiveCalls()
        console = add_console_routes(app, live, CallRepository(pool), actions=ConsoleAudit(pool))
        add_dashboard_routes(app)  # the managers' page; its data is the analytics API's
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)

        # Background jobs run for the life of the process: a bug or an exception nobody
        # expected restarts them (with backoff) instead of stopping them for good; /ready
        # names one that is down.
        writes = WriteBehind(is_transient)
        jobs = [supervise("write-behind", writes.run)]
        stack.push_async_callback(jobs[-1].stop)
        stack.push_async_callback(_flush, writes)  # before the write-behind stops
        jobs.append(
            supervise("hold-sweeper", lambda: release_expired_holds(BookingRepository(pool)))
        )
        stack.push_async_callback(jobs[-1].stop)
        if dispatcher is not None:
            jobs.append(supervise("sms-dispatcher", dispatcher.run))
            stack.push_async_callback(jobs[-1].stop)
        if phones.job is not None:
            jobs.append(supervise("phone-logins", phones.job))
            stack.push_async_callback(jobs[-1].stop)

        if password is not None and settings.voice_enabled:
            client = ari_client(settings, http)
            call_log = CallLog(
                CallRepository(pool), writes, ToolInvocationRepository(pool), live=live
            )
            tools = build_tools(pool, call_log, destinations, settings, http)
            callbacks = CallbackRepository(pool)
            stasis = build_telephony(
                settings,
                hotel,
                client,
                call_log,
                build_recordings(settings, pool, writes),
                build_engine(settings, hotel, http, tools),
                tools,
                callbacks,
            )
            dialer = AriDialer(
                client, settings.callback_endpoint, {p.id: p.phone for p in hotel.properties}
            )
            scheduler = CallbackScheduler(
                callbacks,
                dialer,
                lambda due: destinations.screen(due.phone_e164, due.property_id, "call"),
            )
            console.control = StasisCallControl(stasis)  # listen-in, take-over, hang-up
            stasis.outbound_gone = lambda channel_id, cause: _callback_unanswered(
                scheduler, channel_id, cause
            )
            calls = await stack.enter_async_context(
                taking_calls(settings, stasis, client, http, on_reconnect=phones.restore)
            )
            jobs.append(calls.job)
            # Started after (so stopped before) the calls drain: a callback placed while the
            # app refuses calls would reach the front desk and be rung again later.
            jobs.append(supervise("callback-scheduler", scheduler.run))
            stack.push_async_callback(jobs[-1].stop)
        else:
            log.warning(
                "not taking calls",
                reason="ASTERISK_ARI_PASSWORD is not set"
                if password is None
                else "VOICE_ENABLED is false",
            )
        checks.extend(TaskCheck(job) for job in jobs)  # the app reads this same list

        site = web.TCPSite(runner, settings.web_host, settings.web_port, shutdown_timeout=10)
        await site.start()
        log.info(
            "listening",
            host=settings.web_host,
            port=settings.web_port,
            engine=settings.engine_kind,
            voice_enabled=settings.voice_enabled,
        )
        await _until_signalled()


def _whisper_files(settings: Settings) -> WhisperFiles | None:
    """Warm transfers' summaries for staff, spoken by flite; without it transfers go blind."""
    try:
        return WhisperFiles(settings.whisper_dir, FliteTextToSpeech().synthesize)
    except RuntimeError as exc:
        log.warning("warm transfers will be blind", error=str(exc))
        return None
