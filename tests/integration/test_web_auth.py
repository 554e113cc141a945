"""Sign-in, sessions, roles, CSRF and WebSockets over real HTTP against real PostgreSQL.

Every claim in app/web/auth.py and app/web/signin.py is attacked here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from yarl import URL

from app.log import configure_logging
from app.messaging.twilio import signature
from app.staff.users import Role
from app.storage.sms_repo import SmsRepository
from app.storage.users_repo import UserRepository
from app.web.auth import ANY_ROLE, current_user, local_path, public, requires
from app.web.sms_webhooks import add_sms_routes
from tests.web_support import (
    PROPERTY,
    SeededUser,
    form_token,
    seed_users,
    serving,
    sign_in,
    staff_app,
)


@requires(*ANY_ROLE)
async def phone_stub(request: web.Request) -> web.Response:
    return web.Response(text=f"phone of {current_user(request).email}")


@requires("manager", "admin")
async def dashboard_stub(request: web.Request) -> web.Response:
    return web.Response(text="dashboard")


@requires(*ANY_ROLE)
async def change(request: web.Request) -> web.Response:
    return web.json_response({"changed_by": current_user(request).email})


@requires("staff", "manager")
async def feed(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(f"hello {current_user(request).role}")
    await ws.close()
    return ws


async def no_rule(request: web.Request) -> web.Response:
    return web.Response(text="nobody should see this")


@requires(*ANY_ROLE)
async def boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret detail 4111 1111 1111 1111")


@public
async def open_hook(request: web.Request) -> web.Response:
    return web.Response(text="hook ok")


def _routes(app: web.Application) -> None:
    app.router.add_get("/phone", phone_stub)
    app.router.add_get("/dashboard", dashboard_stub)
    app.router.add_post("/test/change", change)
    app.router.add_get("/test/feed", feed)
    app.router.add_get("/test/no-rule", no_rule)
    app.router.add_get("/test/boom", boom)
    app.router.add_post("/test/hook", open_hook)


@dataclass
class Site:
    base: str
    pool: asyncpg.Pool
    users: dict[Role, SeededUser]

    def browser(self) -> aiohttp.ClientSession:
        """A client that keeps cookies for 127.0.0.1 and asks for pages as a browser does."""
        return aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        )

    @contextlib.asynccontextmanager
    async def signed_in(self, role: Role) -> AsyncIterator[aiohttp.ClientSession]:
        async with self.browser() as http:
            user = self.users[role]
            response = await sign_in(http, self.base, user.email, user.password)
            assert response.status == 303, await response.text()
            yield http


@pytest.fixture
async def site(pool: asyncpg.Pool) -> AsyncIterator[Site]:
    users = await seed_users(pool)
    async with serving(staff_app(pool, _routes)) as base:
        yield Site(base, pool, users)


def _session_cookie(http: aiohttp.ClientSession) -> str:
    for cookie in http.cookie_jar:
        if cookie.key == "fdv_session":
            return cookie.value
    raise AssertionError("no session cookie")


# --- signing in --------------------------------------------------------------------------


async def test_staff_signs_in_and_lands_on_the_phone(site: Site) -> None:
    async with site.browser() as http:
        answer = await sign_in(
            http, site.base, "Staff@Harborview.example ", "staff-password-for-tests"
        )
        assert answer.status == 303 and answer.headers["Location"] == "/"
        async with http.get(f"{site.base}/", allow_redirects=False) as home:
            assert home.status == 302 and home.headers["Location"] == "/phone"
        async with http.get(f"{site.base}/phone") as page:
            assert await page.text() == "phone of staff@harborview.example"
    assert await site.pool.fetchval("SELECT last_login_at FROM users WHERE role = 'staff'")


@pytest.mark.parametrize("role", ["manager", "admin"])
async def test_managers_and_admins_land_on_the_console(site: Site, role: Role) -> None:
    async with (
        site.signed_in(role) as http,
        http.get(f"{site.base}/", allow_redirects=False) as home,
    ):
        assert home.status == 302 and home.headers["Location"] == "/console"


async def test_sign_in_goes_back_to_the_page_asked_for(site: Site) -> None:
    async with site.browser() as http:
        async with http.get(f"{site.base}/dashboard?range=7d", allow_redirects=False) as first:
            assert first.status == 303
            location = first.headers["Location"]
        assert location == "/login?next=%2Fdashboard%3Frange%3D7d"
        user = site.users["manager"]
        next_path = parse_qs(urlsplit(location).query)["next"][0]
        answer = await sign_in(http, site.base, user.email, user.password, next_path)
        assert answer.headers["Location"] == "/dashboard?range=7d"


async def test_the_session_token_is_stored_only_as_its_sha256(site: Site) -> None:
    async with site.signed_in("staff") as http:
        token = _session_cookie(http)
    row = await site.pool.fetchrow("SELECT * FROM web_sessions")
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token not in {str(v) for v in row.values()}
    assert len(token) >= 40  # 32 random bytes


async def test_wrong_password_gets_the_sign_in_page_again_with_a_clear_message(
    site: Site,
) -> None:
    async with site.browser() as http:
        answer = await sign_in(http, site.base, site.users["staff"].email, "not the password!")
        page = await answer.text()
        assert answer.status == 401
        assert "Wrong email or password." in page and 'role="alert"' in page
        assert 'value="staff@harborview.example"' in page  # the email is kept, not the password
        assert "not the password!" not in page
        assert not [c for c in http.cookie_jar if c.key == "fdv_session"]


async def test_unknown_email_gets_the_same_answer_in_about_the_same_time(site: Site) -> None:
    async def attempt(email: str) -> tuple[float, int, str]:
        async with site.browser() as http:
            async with http.get(f"{site.base}/login") as page:
                token = form_token(await page.text())
            start = time.perf_counter()
            form = {"email": email, "password": "a wrong password", "csrf_token": token}
            async with http.post(f"{site.base}/login", data=form) as answer:
                text = await answer.text()
                return time.perf_counter() - start, answer.status, text

    known = [await attempt(site.users["staff"].email) for _ in range(3)]
    unknown = [await attempt(f"nobody{n}@harborview.example") for n in range(3)]
    assert {status for _, status, _ in known + unknown} == {401}
    assert all("Wrong email or password." in text for _, _, text in known + unknown)
    # an argon2 verification (tens of ms) for the unknown email too, not a quick "no such user"
    assert statistics.median(t for t, _, _ in unknown) > 0.5 * statistics.median(
        t for t, _, _ in known
    )


async def test_a_disabled_user_is_told_only_when_the_password_is_right(site: Site) -> None:
    await site.pool.execute("UPDATE users SET disabled = true WHERE role = 'staff'")
    user = site.users["staff"]
    async with site.browser() as http:
        wrong = await sign_in(http, site.base, user.email, "not the password!")
        assert "Wrong email or password." in await wrong.text()
        right = await sign_in(http, site.base, user.email, user.password)
        assert right.status == 401
        assert "This account is disabled" in await right.text()
    assert await site.pool.fetchval("SELECT count(*) FROM web_sessions") == 0


async def test_disabling_a_user_ends_their_sessions(site: Site) -> None:
    async with site.signed_in("staff") as http:
        assert (await http.get(f"{site.base}/phone")).status == 200
        assert await UserRepository(site.pool).disable(site.users["staff"].email, "test")
        assert await site.pool.fetchval("SELECT count(*) FROM web_sessions") == 0
        async with http.get(f"{site.base}/phone", allow_redirects=False) as again:
            assert again.status == 303
            assert again.headers["Location"].startswith("/login?next=%2Fphone")


# --- the login form itself ---------------------------------------------------------------


async def test_a_sign_in_form_without_its_token_is_refused(site: Site) -> None:
    user = site.users["staff"]
    async with site.browser() as http:
        await http.get(f"{site.base}/login")  # has the login cookie, but the field is missing
        form = {"email": user.email, "password": user.password}
        async with http.post(f"{site.base}/login", data=form, allow_redirects=False) as answer:
            assert answer.status == 403
            assert "This sign-in form had expired" in await answer.text()
    # a form made on another site: its token does not match this browser's login cookie
    async with site.browser() as victim:
        await victim.get(f"{site.base}/login")
        forged = {**form, "csrf_token": "attacker-chosen"}
        async with victim.post(f"{site.base}/login", data=forged, allow_redirects=False) as answer:
            assert answer.status == 403
    assert await site.pool.fetchval("SELECT count(*) FROM web_sessions") == 0


async def test_a_form_missing_fields_or_with_a_file_is_a_clear_400(site: Site) -> None:
    async with site.browser() as http:
        async with http.get(f"{site.base}/login") as page:
            token = form_token(await page.text())
        async with http.post(
            f"{site.base}/login", data={"email": "", "password": "", "csrf_token": token}
        ) as empty:
            assert empty.status == 400
            assert "Enter both your email and your password." in await empty.text()
        data = aiohttp.FormData()
        data.add_field("csrf_token", token)
        data.add_field("email", site.users["staff"].email)
        data.add_field("password", b"\x00\xff" * 10, filename="pw.bin")
        async with http.post(f"{site.base}/login", data=data) as odd:
            assert odd.status == 400
        async with http.post(
            f"{site.base}/login",
            data=b"%zz=%%%",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as garbage:
            assert garbage.status in (400, 403)
            assert "Traceback" not in await garbage.text()


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/login",
    ],
)
async def test_next_never_leaves_the_site(site: Site, target: str) -> None:
    user = site.users["manager"]
    async with site.browser() as http:
        answer = await sign_in(http, site.base, user.email, user.password, target)
        assert answer.status == 303 and answer.headers["Location"] == "/"
        # signed in already, /login?next=… redirects straight away: the same rule
        async with http.get(
            f"{site.base}/login", params={"next": target}, allow_redirects=False
        ) as again:
            assert again.status == 303 and again.headers["Location"] == "/"
    assert local_path(target) == "/"
    assert local_path("/console?call=7#live") == "/console?call=7#live"


# --- sessions ----------------------------------------------------------------------------


async def test_the_session_cookie_is_httponly_strict_and_secure(pool: asyncpg.Pool) -> None:
    users = await seed_users(pool)
    user = users["staff"]
    for secure in (True, False):
        async with (
            serving(staff_app(pool, secure_cookies=secure, session_hours=8)) as base,
            # by hand: a client would not send a Secure cookie back over plain http
            aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        ):
            async with http.get(f"{base}/login") as page:
                token = form_token(await page.text())
                login_cookie = page.cookies["fdv_login"]
            assert login_cookie["httponly"] and login_cookie["samesite"] == "Strict"
            assert bool(login_cookie["secure"]) is secure
            form = {"email": user.email, "password": user.password, "csrf_token": token}
            async with http.post(
                f"{base}/login",
                data=form,
                headers={"Cookie": f"fdv_login={token}"},
                allow_redirects=False,
            ) as answer:
                assert answer.status == 303
                raw = [
                    c for c in answer.headers.getall("Set-Cookie") if c.startswith("fdv_session=")
                ]
        assert len(raw) == 1
        attributes = {part.strip().split("=")[0].lower() for part in raw[0].split(";")[1:]}
        assert {"httponly", "path", "samesite", "max-age"} <= attributes
        assert "SameSite=Strict" in raw[0] and "Path=/;" in raw[0] + ";"
        assert "Max-Age=28800" in raw[0]
        assert ("secure" in attributes) is secure


async def test_an_expired_session_is_absent_and_the_page_says_so(site: Site) -> None:
    async with site.signed_in("staff") as http:
        await site.pool.execute("UPDATE web_sessions SET expires_at = now() - interval '1 second'")
        async with http.get(f"{site.base}/phone", allow_redirects=False) as answer:
            assert answer.status == 303
            assert answer.headers["Location"] == "/login?next=%2Fphone&expired=1"
        async with http.get(f"{site.base}/login?next=%2Fphone&expired=1") as page:
            assert "Your session has ended. Please sign in again." in await page.text()
        # an unsafe request with the expired cookie: 401, a page saying so (no redirect)
        async with http.post(f"{site.base}/test/change", data={"csrf_token": "x"}) as post:
            assert post.status == 401
    # expired rows are cleared when someone signs in
    async with site.signed_in("manager"):
        pass
    assert (
        await site.pool.fetchval("SELECT count(*) FROM web_sessions WHERE expires_at <= now()") == 0
    )


async def test_sign_out_ends_the_session_on_the_server(site: Site) -> None:
    async with site.signed_in("staff") as http:
        token = _session_cookie(http)
        async with http.get(f"{site.base}/phone") as page:
            assert page.status == 200
        async with http.get(f"{site.base}/login?next=/phone", allow_redirects=False) as login:
            assert login.status == 303  # signed in: the login page sends you on
        csrf = await site.pool.fetchval("SELECT csrf_token FROM web_sessions")
        async with http.post(
            f"{site.base}/logout", data={"csrf_token": csrf}, allow_redirects=False
        ) as out:
            assert out.status == 303 and out.headers["Location"] == "/login?signed_out=1"
    assert await site.pool.fetchval("SELECT count(*) FROM web_sessions") == 0
    # the old cookie, replayed by someone who copied it, opens nothing
    async with (
        aiohttp.ClientSession() as thief,
        thief.get(
            f"{site.base}/phone",
            headers={"Cookie": f"fdv_session={token}", "Accept": "application/json"},
        ) as replay,
    ):
        assert replay.status == 401
        assert (await replay.json())[
            "error"
        ] == "Your session has ended. Sign in again to continue."


async def test_sign_out_needs_the_csrf_token(site: Site) -> None:
    async with (
        site.signed_in("staff") as http,
        http.post(f"{site.base}/logout", allow_redirects=False) as forged,
    ):
        assert forged.status == 403
    assert await site.pool.fetchval("SELECT count(*) FROM web_sessions") == 1


async def test_a_planted_session_token_is_never_adopted(site: Site) -> None:
    planted = "planted-by-someone-else-0123456789abcdefghijk"
    async with site.browser() as http:
        http.cookie_jar.update_cookies({"fdv_session": planted}, response_url=URL(site.base))
        async with http.get(f"{site.base}/phone", allow_redirects=False) as before:
            assert before.status == 303  # an unknown token signs nobody in
        user = site.users["manager"]
        assert (await sign_in(http, site.base, user.email, user.password)).status == 303
        assert _session_cookie(http) != planted
    stored = await site.pool.fetchval("SELECT token_hash FROM web_sessions")
    assert bytes(stored) != hashlib.sha256(planted.encode()).digest()


# --- CSRF and roles ----------------------------------------------------------------------


async def test_unsafe_requests_need_the_sessions_csrf_token(site: Site) -> None:
    async with site.signed_in("staff") as http:
        csrf = await site.pool.fetchval("SELECT csrf_token FROM web_sessions")
        async with http.post(f"{site.base}/test/change", data={"a": "1"}) as missing:
            assert missing.status == 403
            assert "security token is missing or wrong" in await missing.text()
        async with http.post(f"{site.base}/test/change", data={"csrf_token": "wrong"}) as wrong:
            assert wrong.status == 403
        async with http.post(
            f"{site.base}/test/change", json={"a": 1}, headers={"X-CSRF-Token": csrf[:-1] + "x"}
        ) as wrong_header:
            assert wrong_header.status == 403
        async with http.post(f"{site.base}/test/change", data={"csrf_token": csrf}) as form:
            assert form.status == 200
        async with http.post(
            f"{site.base}/test/change", json={"a": 1}, headers={"X-CSRF-Token": csrf}
        ) as header:
            assert (await header.json()) == {"changed_by": "staff@harborview.example"}


async def test_a_missing_role_gets_a_clear_403_page(site: Site) -> None:
    async with site.signed_in("staff") as http:
        async with http.get(f"{site.base}/dashboard") as answer:
            page = await answer.text()
            assert answer.status == 403
            assert "Your role (staff) does not give access to this page." in page
            assert "Signed in as <strong>Sam Staff</strong>" in page
        async with http.get(
            f"{site.base}/dashboard", headers={"Accept": "application/json"}
        ) as api:
            assert api.status == 403 and "role (staff)" in (await api.json())["error"]


async def test_a_route_without_an_access_rule_is_refused_to_everyone(site: Site) -> None:
    async with site.signed_in("admin") as http, http.get(f"{site.base}/test/no-rule") as answer:
        assert answer.status == 403
        assert "nobody should see this" not in await answer.text()
    async with site.browser() as anonymous, anonymous.get(f"{site.base}/test/no-rule") as answer:
        assert answer.status == 403


async def test_nav_shows_the_pages_a_role_may_open(site: Site) -> None:
    async with site.signed_in("staff") as staff:
        async with staff.get(f"{site.base}/login/nope") as page:  # any page on base.html
            html = await page.text()
        assert 'href="/phone"' in html and 'href="/dashboard"' not in html
        assert 'href="/console"' not in html  # not served by this app: no dead link
    async with site.signed_in("manager") as manager:
        async with manager.get(f"{site.base}/login/nope") as page:
            html = await page.text()
        assert 'href="/phone"' in html and 'href="/dashboard"' in html
        assert 'name="csrf-token"' in html and "Sign out" in html


# --- WebSockets --------------------------------------------------------------------------


async def test_a_websocket_needs_a_session_the_role_and_this_sites_origin(site: Site) -> None:
    url = f"{site.base}/test/feed"
    own = site.base
    async with aiohttp.ClientSession() as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as no_session:
            await anonymous.ws_connect(url, origin=own)
        assert no_session.value.status == 401
    async with site.signed_in("staff") as http:
        for origin in ("https://evil.example", "null", f"{own}.evil.example", None):
            with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
                await http.ws_connect(url, origin=origin)
            assert foreign.value.status == 403, origin
        async with http.ws_connect(url, origin=own) as ws:
            assert await ws.receive_str() == "hello staff"
    async with site.signed_in("admin") as admin:
        with pytest.raises(aiohttp.WSServerHandshakeError) as role:
            await admin.ws_connect(url, origin=own)
        assert role.value.status == 403


async def test_a_websocket_from_the_public_base_url_is_accepted(pool: asyncpg.Pool) -> None:
    users = await seed_users(pool)
    public_origin = "https://desk.example"
    app = staff_app(pool, _routes, public_origin=public_origin)
    async with (
        serving(app) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        await sign_in(http, base, users["staff"].email, users["staff"].password)
        async with http.ws_connect(f"{base}/test/feed", origin=public_origin) as ws:
            assert await ws.receive_str() == "hello staff"
        with pytest.raises(aiohttp.WSServerHandshakeError) as other:
            await http.ws_connect(f"{base}/test/feed", origin="https://desk.example.evil")
        assert other.value.status == 403


# --- rate limit --------------------------------------------------------------------------


async def test_five_failures_for_an_email_lock_it_for_five_minutes(site: Site) -> None:
    user = site.users["staff"]
    async with site.browser() as http:
        for _ in range(5):
            assert (await sign_in(http, site.base, user.email, "guess-guess-guess")).status == 401
        locked = await sign_in(http, site.base, user.email, user.password)  # even the right one
        assert locked.status == 429
        assert 240 <= int(locked.headers["Retry-After"]) <= 300
        assert "Too many failed sign-ins" in await locked.text()
        # other accounts from the same address still sign in
        other = site.users["manager"]
        assert (await sign_in(http, site.base, other.email, other.password)).status == 303


async def test_a_success_resets_the_emails_failures(site: Site) -> None:
    user = site.users["staff"]

    async def attempt(password: str) -> int:
        async with site.browser() as http:  # a fresh browser each time, same address
            return (await sign_in(http, site.base, user.email, password)).status

    assert [await attempt("typo-typo-typo") for _ in range(4)] == [401] * 4
    assert await attempt(user.password) == 303
    assert [await attempt("typo-typo-typo") for _ in range(4)] == [401] * 4
    assert await attempt(user.password) == 303


async def test_one_address_guessing_many_emails_is_stopped(site: Site) -> None:
    async with site.browser() as http:
        statuses = [
            (
                await sign_in(http, site.base, f"guess{n}@harborview.example", "password-guess")
            ).status
            for n in range(21)
        ]
        assert statuses[:20] == [401] * 20 and statuses[20] == 429
        user = site.users["staff"]  # the address is locked out, whichever email it tries
        assert (await sign_in(http, site.base, user.email, user.password)).status == 429


# --- public routes, errors, headers ------------------------------------------------------


async def test_health_and_public_routes_need_no_session_or_csrf(site: Site) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/health", "/voice/health", "/ready"):
            async with http.get(f"{site.base}{path}") as answer:
                assert answer.status == 200, path
        async with http.post(f"{site.base}/test/hook", data={"x": "1"}) as hook:
            assert hook.status == 200 and await hook.text() == "hook ok"


async def test_not_found_is_a_page_for_browsers_and_json_for_apis(site: Site) -> None:
    async with site.browser() as http:
        async with http.get(f"{site.base}/no/such/page") as page:
            assert page.status == 404 and "There is no page at this address" in await page.text()
        async with http.get(f"{site.base}/api/nothing") as api:
            assert api.status == 404 and (await api.json())["status"] == 404
        async with http.delete(f"{site.base}/login") as wrong_method:
            assert wrong_method.status == 405


async def test_an_unexpected_error_is_a_500_page_without_the_trace(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")  # as `frontdesk` runs: the traceback is logged, redacted
    async with site.signed_in("staff") as http:
        async with http.get(f"{site.base}/test/boom") as page:
            html = await page.text()
        assert page.status == 500
        assert "Something went wrong on our side" in html
        assert "secret detail" not in html and "Traceback" not in html
        reference = html.split("<code>")[1].split("</code>")[0]
        assert len(reference) == 8
    logged = capsys.readouterr()
    assert reference in logged.out + logged.err
    assert "4111 1111 1111 1111" not in logged.out + logged.err  # the log is redacted


async def test_a_database_that_went_away_is_a_503_page(pool: asyncpg.Pool) -> None:
    users = await seed_users(pool)
    async with (
        serving(staff_app(pool, _routes)) as base,
        aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Accept": "text/html"}
        ) as http,
    ):
        assert (
            await sign_in(http, base, users["staff"].email, users["staff"].password)
        ).status == 303
        await pool.close()
        async with http.get(f"{base}/phone") as page:
            assert page.status == 503
            assert "not answering right now" in await page.text()


async def test_pages_carry_the_security_headers(site: Site) -> None:
    async with site.browser() as http:
        async with http.get(f"{site.base}/login") as page:
            headers = page.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"
        async with http.get(f"{site.base}/static/app.css") as css:
            assert css.status == 200 and css.content_type == "text/css"
            assert "focus-visible" in await css.text()
        async with http.get(f"{site.base}/static/../auth.py") as escape:
            assert escape.status in (403, 404)


async def test_login_page_is_labelled_for_screen_readers(site: Site) -> None:
    async with site.browser() as http, http.get(f"{site.base}/login") as page:
        html = await page.text()
    assert '<label for="email">' in html and 'id="email"' in html
    assert '<label for="password">' in html and 'autocomplete="current-password"' in html
    assert '<html lang="en">' in html


async def test_session_lifetime_follows_the_setting(pool: asyncpg.Pool) -> None:
    users = await seed_users(pool)
    async with (
        serving(staff_app(pool, session_hours=3)) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        await sign_in(http, base, users["admin"].email, users["admin"].password)
    lifetime = await pool.fetchval("SELECT expires_at - created_at FROM web_sessions")
    assert abs(lifetime - dt.timedelta(hours=3)) < dt.timedelta(seconds=5)


async def test_sms_webhooks_need_twilios_signature_not_a_session(pool: asyncpg.Pool) -> None:
    token, public_url = "twilio-auth-token-for-tests", "https://desk.example"

    def configure(app: web.Application) -> None:
        add_sms_routes(app, SmsRepository(pool), token, public_url, lambda to: PROPERTY)

    await seed_users(pool)
    form = {"From": "+15550100777", "To": "+15550100100", "Body": "hello", "MessageSid": "SM7"}
    async with serving(staff_app(pool, configure)) as base, aiohttp.ClientSession() as twilio:
        signed = signature(token, f"{public_url}/sms/inbound", form)
        async with twilio.post(
            f"{base}/sms/inbound", data=form, headers={"X-Twilio-Signature": signed}
        ) as answer:  # no cookie, no CSRF token: Twilio has neither
            assert answer.status == 200 and answer.content_type == "application/xml"
        async with twilio.post(
            f"{base}/sms/inbound", data=form, headers={"X-Twilio-Signature": signed[::-1]}
        ) as forged:
            assert forged.status == 403 and await forged.text() == "invalid signature"
    assert await pool.fetchval("SELECT count(*) FROM sms_messages WHERE direction = 'inbound'") == 1


async def test_a_burst_of_parallel_guesses_cannot_pass_the_limit(site: Site) -> None:
    user = site.users["staff"]
    async with site.browser() as http:
        async with http.get(f"{site.base}/login") as page:
            token = form_token(await page.text())

        async def guess(n: int) -> int:
            form = {"email": user.email, "password": f"guess number {n}", "csrf_token": token}
            async with http.post(f"{site.base}/login", data=form) as answer:
                return answer.status

        statuses = await asyncio.gather(*(guess(n) for n in range(12)))
    assert sorted(statuses) == [401] * 5 + [429] * 7


async def test_signing_out_of_an_ended_session_just_signs_out(site: Site) -> None:
    async with site.signed_in("staff") as http:
        csrf = await site.pool.fetchval("SELECT csrf_token FROM web_sessions")
        await site.pool.execute("UPDATE web_sessions SET expires_at = now()")
        async with http.post(
            f"{site.base}/logout", data={"csrf_token": csrf}, allow_redirects=False
        ) as out:
            assert out.status == 303 and out.headers["Location"] == "/login?signed_out=1"
        assert not [c for c in http.cookie_jar if c.key == "fdv_session" and c.value]


async def test_signing_in_again_ends_the_browsers_previous_session(site: Site) -> None:
    user = site.users["manager"]
    async with site.signed_in("manager") as first:
        old = _session_cookie(first)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.get(f"{site.base}/login") as page:
            token = form_token(await page.text())
        form = {"email": user.email, "password": user.password, "csrf_token": token}
        async with http.post(
            f"{site.base}/login",
            data=form,
            headers={"Cookie": f"fdv_login={token}; fdv_session={old}"},
            allow_redirects=False,
        ) as answer:
            assert answer.status == 303
            new = answer.cookies["fdv_session"].value
    assert new != old
    rows = await site.pool.fetch("SELECT token_hash FROM web_sessions")
    hashes = {bytes(row["token_hash"]) for row in rows}
    assert hashes == {hashlib.sha256(new.encode()).digest()}
