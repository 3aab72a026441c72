"""DNS rebinding: the web chat answers only to its own names (``Host``) and posts only from its own
origins (``Origin``); web.allowed_hosts and web.public_url add names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.core.errors import ConfigError
from bot.platforms.web.hosts import HostPolicy
from bot.settings import WebSettings, load_settings
from tests.web.conftest import WebRun, open_web

TOKEN = "correct-horse-battery"
REBIND = "rebind.example"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/static/chat.js"),
        ("GET", "/api/session"),
        ("GET", "/api/gallery"),
        ("GET", "/api/events"),
        ("GET", "/images/1/0"),
        ("GET", "/metrics"),
        ("GET", "/no/such/page"),
        ("POST", "/api/command"),
    ],
)
async def test_a_rebound_name_is_misdirected(web: WebRun, method: str, path: str) -> None:
    """A page on rebind.example resolving to 127.0.0.1 gets 421 naming the setting, on every path."""
    host = f"{REBIND}:{web.port}"
    extra: dict[str, Any] = {"json": {"text": "/schedule list"}} if method == "POST" else {}
    response = await web.client.request(
        method, path, headers={"Host": host, "Origin": f"http://{host}"}, **extra
    )
    assert response.status_code == 421
    assert "web.allowed_hosts" in response.text


async def test_healthz_answers_any_host(web: WebRun) -> None:
    """Liveness probes send Host: <container-ip>:<port>; /healthz answers them (it reveals nothing)."""
    response = await web.client.get("/healthz", headers={"Host": f"{REBIND}:{web.port}"})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["localhost", "LocalHost", "easel.localhost", "127.0.0.2", "[::1]"])
async def test_loopback_names_are_answered(web: WebRun, name: str) -> None:
    """localhost, *.localhost, 127.0.0.0/8 and [::1] need no setting."""
    response = await web.client.get("/api/session", headers={"Host": f"{name}:{web.port}"})
    assert response.status_code == 200


async def test_allowed_hosts_add_names(tmp_path: Path) -> None:
    """An entry without a port admits the name on any port; host:port only on that port."""
    env = {"EASEL__WEB__ALLOWED_HOSTS": '["easel.lan", "photos.lan:9000"]'}
    async with open_web(tmp_path, env=env) as run:
        for host, status in [
            (f"easel.lan:{run.port}", 200),
            ("photos.lan:9000", 200),
            (f"photos.lan:{run.port}", 421),
        ]:
            response = await run.client.get("/api/session", headers={"Host": host})
            assert response.status_code == status, host


async def test_off_loopback_the_servers_ip_address_is_answered(tmp_path: Path) -> None:
    """Bound to 0.0.0.0, the operator on http://192.168.1.5:PORT gets in; a rebound name still does not."""
    env = {"EASEL__WEB__HOST": "0.0.0.0", "EASEL__WEB__AUTH_TOKEN": TOKEN}
    async with open_web(tmp_path, env=env) as run:
        lan = await run.client.get("/api/session", headers={"Host": f"192.168.1.5:{run.port}"})
        assert lan.status_code == 200
        rebound = await run.client.get("/api/session", headers={"Host": f"{REBIND}:{run.port}"})
        assert rebound.status_code == 421


async def test_a_reverse_proxys_public_url_may_post(tmp_path: Path) -> None:
    """Behind a proxy (Host rewritten or not), pages from web.public_url log in and post."""
    public = "https://easel.example.org"
    env = {"EASEL__WEB__PUBLIC_URL": public, "EASEL__WEB__AUTH_TOKEN": TOKEN}
    async with open_web(tmp_path, env=env, authorise=False) as run:
        client = run.client
        client.headers["Origin"] = public
        login = await client.post("/login", data={"token": TOKEN})  # Host: 127.0.0.1:PORT (rewritten)
        assert login.status_code == 303 and login.headers["location"] == "/"
        client.headers["Host"] = "easel.example.org"  # Host kept by the proxy
        await run.login()
        response = await client.post("/api/command", json={"text": "/status"})
        assert response.status_code == 200, response.text


async def test_a_post_from_another_local_port_is_refused(web: WebRun) -> None:
    """Another local server's page (http://localhost:3000) is not this server's origin."""
    response = await web.client.post(
        "/api/command", json={"text": "/status"}, headers={"Origin": "http://localhost:3000"}
    )
    assert response.status_code == 403


async def test_the_host_check_answers_over_ipv6_loopback(tmp_path: Path) -> None:
    """Bound to ::1, the browser's Host: [::1]:PORT is answered."""
    async with open_web(tmp_path, env={"EASEL__WEB__HOST": "::1"}) as run:
        assert run.url.startswith("http://[::1]:")
        assert (await run.client.get("/api/session")).status_code == 200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EASEL__WEB__ALLOWED_HOSTS": '["http://easel.lan"]'}, "not a host name"),
        ({"EASEL__WEB__ALLOWED_HOSTS": '["easel.lan:99999"]'}, "not a host name"),
        ({"EASEL__WEB__PUBLIC_URL": "https://easel.example.org/easel"}, "root of its address"),
        ({"EASEL__WEB__PUBLIC_URL": "easel.example.org"}, "not an http"),
        ({"EASEL__WEB__PUBLIC_URL": "https://easel.example.org"}, r"needs web\.auth_token"),
    ],
)
def test_bad_host_settings_are_refused(env: dict[str, str], message: str) -> None:
    """allowed_hosts entries are names, public_url an origin, and a public URL needs a token."""
    with pytest.raises(ConfigError, match=message):
        load_settings(None, environ=env)


def test_a_host_name_the_server_binds_is_answered() -> None:
    """web.host given as a name (not an address) is one of the server's own names."""
    policy = HostPolicy.from_settings(WebSettings(host="nas.lan", auth_token=SecretStr(TOKEN)))
    assert policy.allows_host("nas.lan:8080") and policy.allows_host("10.0.0.7:8080")
    assert not policy.allows_host("rebind.example:8080")
