"""Logging in: wrong tokens are throttled per client address, and the cookies are signed with a
per-installation secret kept in web.secret_file."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import httpx
import pytest

from bot.core.errors import ConfigError
from bot.platforms.web.security import AUTH_COOKIE, SESSION_COOKIE
from tests.web.conftest import WebRun, open_web

TOKEN = "correct-horse-battery"
GUESSES = 5
"""Wrong tokens an address may send in a minute (``bot.platforms.web.login.WRONG_TOKENS``)."""


def token_env(token: str = TOKEN) -> dict[str, str]:
    return {"EASEL__WEB__AUTH_TOKEN": token}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def use_up_guesses(run: WebRun) -> None:
    for _ in range(GUESSES):
        assert (await run.client.get("/api/session", headers=bearer("wrong-token-guess"))).status_code == 401


async def login_cookie(run: WebRun) -> str:
    response = await run.client.post("/login", data={"token": TOKEN})
    assert response.status_code == 303 and response.headers["location"] == "/"
    return response.cookies[AUTH_COOKIE]


# ------------------------------------------------------------------------------------------ throttle


async def test_wrong_bearer_tokens_are_throttled(tmp_path: Path) -> None:
    """After 5 wrong tokens the address gets 429 with Retry-After, even for the right token."""
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        await use_up_guesses(run)
        refused = await run.client.get("/api/session", headers=bearer(TOKEN))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_the_right_token_still_works_from_another_address(tmp_path: Path) -> None:
    """Guesses from 127.0.0.1 do not lock out 127.0.0.2."""
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        await use_up_guesses(run)
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(base_url=run.url, transport=transport) as other:
            assert (await other.get("/api/session", headers=bearer(TOKEN))).status_code == 200


async def test_login_form_guesses_are_throttled(tmp_path: Path) -> None:
    """The login form counts wrong tokens too: the sixth attempt is 429."""
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        for _ in range(GUESSES):
            wrong = await run.client.post("/login", data={"token": "wrong-token-guess"})
            assert wrong.headers["location"] == "/login?failed=1"
        assert (await run.client.post("/login", data={"token": TOKEN})).status_code == 429


async def test_a_german_browser_is_told_to_wait_in_german(tmp_path: Path) -> None:
    """The login form's sixth attempt from a German browser: the 429 text is German."""
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        german = {"Accept-Language": "de-DE,de;q=0.9"}
        for _ in range(GUESSES):
            await run.client.post("/login", data={"token": "wrong-token-guess"}, headers=german)
        refused = await run.client.post("/login", data={"token": TOKEN}, headers=german)
        assert refused.status_code == 429
        assert refused.text.startswith("Zu viele falsche Zugangstoken von deiner Adresse.")


async def test_token_in_the_url_guesses_are_throttled(tmp_path: Path) -> None:
    """``?token=`` counts wrong tokens too: the sixth attempt is 429."""
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        for _ in range(GUESSES):
            assert (await run.client.get("/", params={"token": "wrong"})).status_code == 401
        assert (await run.client.get("/", params={"token": TOKEN})).status_code == 429


# ------------------------------------------------------------------------------------------- cookies


async def test_the_login_cookie_differs_between_installations(tmp_path: Path) -> None:
    """Same token, two installations: two cookies, neither a plain hash of the token."""
    cookies = []
    for name in ("one", "two"):
        async with open_web(tmp_path / name, env=token_env(), authorise=False) as run:
            cookies.append(await login_cookie(run))
    assert cookies[0] != cookies[1]
    assert hashlib.sha256(f"easel-web-auth:{TOKEN}".encode()).hexdigest() not in cookies


async def test_a_new_token_logs_browsers_out(tmp_path: Path) -> None:
    """A cookie from before web.auth_token changed no longer authorises."""
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        cookie = await login_cookie(run)
    async with open_web(tmp_path, env=token_env("another-long-token"), authorise=False) as run:
        run.client.cookies.set(AUTH_COOKIE, cookie)
        assert (await run.client.get("/api/session")).status_code == 401


async def test_a_new_secret_logs_browsers_out(tmp_path: Path) -> None:
    """Deleting web.secret_file makes a new secret: old cookies no longer authorise."""
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        cookie = await login_cookie(run)
    (tmp_path / "data" / "web_secret").unlink()
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        run.client.cookies.set(AUTH_COOKIE, cookie)
        assert (await run.client.get("/api/session")).status_code == 401


async def test_the_login_cookie_survives_a_restart(tmp_path: Path) -> None:
    """Same secret and token after a restart: the browser stays logged in."""
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        cookie = await login_cookie(run)
    async with open_web(tmp_path, env=token_env(), authorise=False) as run:
        run.client.cookies.set(AUTH_COOKIE, cookie)
        assert (await run.client.get("/api/session")).status_code == 200


async def test_an_open_page_survives_a_restart(tmp_path: Path) -> None:
    """The CSRF key comes from the persisted secret: a page's token still works after a restart."""
    async with open_web(tmp_path) as run:
        csrf = await run.login()
        session = run.client.cookies[SESSION_COOKIE]
    async with open_web(tmp_path) as run:
        run.client.cookies.set(SESSION_COOKIE, session)
        response = await run.client.post(
            "/api/command", json={"text": "/status"}, headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 200, response.text


async def test_the_secret_file_is_made_private(tmp_path: Path) -> None:
    """First start: the directory is made and the secret (32 random bytes) is readable by its owner only."""
    async with open_web(tmp_path):
        pass
    secret = tmp_path / "data" / "web_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(bytes.fromhex(secret.read_text())) == 32


async def test_a_damaged_secret_file_is_a_config_error(tmp_path: Path) -> None:
    """A web.secret_file Easel did not write stops the start with a message saying what to do."""
    secret = tmp_path / "data" / "web_secret"
    secret.parent.mkdir()
    secret.write_text("not hex at all")
    with pytest.raises(ConfigError, match="delete it"):
        async with open_web(tmp_path):
            pass
