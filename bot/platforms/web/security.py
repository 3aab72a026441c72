"""The web chat's guards: security headers and error answers, browser sessions, the optional access
token and cross-site request checks. Each is an aiohttp middleware (or, for the headers, the
``on_response_prepare`` signal, which every answer passes through — errors, redirects and event
streams included) so no handler can forget it. Which ``Host`` and ``Origin`` are accepted is
:mod:`.web_hosts`; throttling wrong tokens is :mod:`.web_login`; the keys are :mod:`.web_secret`.

- Session: an HttpOnly cookie with a random token. The user id is derived from it (stable across
  restarts); the CSRF token is an HMAC of it under a key derived from the installation's secret
  (so open pages survive a restart), fetched by the page from ``/api/session`` and sent back in the
  ``X-CSRF-Token`` header on every state-changing request.
- Access token (``web.auth_token``): ``Authorization: Bearer <token>``, or ``?token=<token>`` once, or the
  login form; the browser then holds a cookie with an HMAC of the token under the installation's
  secret, never the token itself. Wrong tokens are throttled per client address.
- Cross-site: a POST must come from one of this server's own origins (``Origin`` / ``Sec-Fetch-Site``)
  and carry the session's CSRF token, unless it is authorised by a Bearer header (which browsers
  never add on their own).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.core.i18n import _
from bot.platforms.web.hosts import HostPolicy
from bot.platforms.web.login import LoginThrottle
from bot.platforms.web.secret import Keys, derive_keys

log = logging.getLogger(__name__)
SESSION_COOKIE = "easel_session"
AUTH_COOKIE = "easel_auth"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_MAX_AGE = 365 * 24 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/healthz", "/login", "/static/style.css", "/static/login.js", "/static/icon.svg"})
"""Reachable without the access token (``/healthz`` is for liveness probes and says nothing private)."""
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
BEARER = web.RequestKey("easel_bearer", bool)
"""Set on a request authorised by a right ``Authorization: Bearer`` token."""


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user_id: str
    csrf: str


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: runs as any answer starts, whatever made it."""
    response.headers.update(SECURITY_HEADERS)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A handler's unexpected exception: logged with its traceback, answered with a generic 500."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        if request.writer.output_size > 0:
            raise  # the answer has begun: aiohttp logs it and drops the connection
        log.exception("the web chat failed to answer %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return web.json_response({"error": _("Something went wrong on the server.")}, status=500)
        return web.Response(status=500, text=_("Something went wrong on the server.") + "\n")


class Guard:
    """Sessions, the access token and the cross-site checks for one server."""

    def __init__(self, auth_token: str | None, hosts: HostPolicy) -> None:
        self.hosts = hosts
        self.throttle = LoginThrottle()
        self._auth_token = auth_token
        self._keys: Keys | None = None

    def use_secret(self, secret: bytes) -> None:
        """Derive the keys from the installation's secret (``bot.platforms.web.secret.load_secret``)."""
        self._keys = derive_keys(secret, self._auth_token)

    @property
    def keys(self) -> Keys:
        if self._keys is None:
            raise RuntimeError("the web chat's secret is not loaded: initialize() it first")
        return self._keys

    # ---------------------------------------------------------------------------------- sessions

    def session(self, request: web.Request) -> Session:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not _SESSION_TOKEN.fullmatch(token):
            token = secrets.token_urlsafe(24)  # none yet (or garbage): a new session
        user_id = "u" + hashlib.sha256(f"easel-web-user:{token}".encode()).hexdigest()[:12]
        csrf = hmac.new(self.keys.csrf, token.encode(), hashlib.sha256).hexdigest()
        return Session(token=token, user_id=user_id, csrf=csrf)

    # ------------------------------------------------------------------------------- access token

    def attempt(self, request: web.Request, candidate: str) -> bool:
        """Whether ``candidate`` is the access token. Wrong ones count against the client's address,
        which gets 429 (for every token, right or wrong) once it has used up its guesses."""
        if self._auth_token is None:
            return True
        self.throttle.check(request)
        if hmac.compare_digest(candidate.encode(), self._auth_token.encode()):
            return True
        self.throttle.wrong(request)
        return False

    def _cookie_ok(self, request: web.Request) -> bool:
        expected = self.keys.auth_cookie
        if expected is None:
            return True
        return hmac.compare_digest(request.cookies.get(AUTH_COOKIE, "").encode(), expected.encode())

    def remember_login(self, response: web.StreamResponse) -> None:
        cookie = self.keys.auth_cookie
        if cookie is not None:
            response.set_cookie(AUTH_COOKIE, cookie, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Strict")

    # ------------------------------------------------------------------------------- middlewares

    @web.middleware
    async def access(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The access token, when one is configured; ``?token=`` is swapped for a cookie at once."""
        if self._auth_token is None or request.path in OPEN_PATHS:
            return await handler(request)
        given = request.query.get("token")
        if given is not None and request.method == "GET":
            if not self.attempt(request, given):
                raise web.HTTPUnauthorized(text=_("Wrong access token."))
            clean = request.rel_url.with_query([(k, v) for k, v in request.query.items() if k != "token"])
            response = web.HTTPSeeOther(location=str(clean))
            self.remember_login(response)
            raise response
        scheme, _sep, bearer = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            if not self.attempt(request, bearer.strip()):
                raise web.HTTPUnauthorized(
                    text=_("Wrong access token."), headers={"WWW-Authenticate": "Bearer"}
                )
            request[BEARER] = True
            return await handler(request)
        if self._cookie_ok(request):
            return await handler(request)
        if request.method == "GET" and not request.path.startswith(("/api/", "/images/", "/metrics")):
            raise web.HTTPSeeOther(location="/login")
        raise web.HTTPUnauthorized(
            text=_("This Easel needs its access token."), headers={"WWW-Authenticate": "Bearer"}
        )

    @web.middleware
    async def same_origin(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """State-changing requests only from this site's own pages."""
        if request.method in SAFE_METHODS or request.get(BEARER, False):
            return await handler(request)
        if not self._same_site(request):
            raise web.HTTPForbidden(text=_("Cross-site requests are not accepted."))
        if request.path != "/login":
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), self.session(request).csrf.encode()):
                raise web.HTTPForbidden(text=_("The page is out of date: reload it and try again."))
        return await handler(request)

    def _same_site(self, request: web.Request) -> bool:
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser's cross-site request (they always send Origin on POST)
        return self.hosts.allows_origin(origin, request.headers.get("Host"))


def set_session_cookie(response: web.StreamResponse, session: Session) -> None:
    response.set_cookie(
        SESSION_COOKIE, session.token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Strict"
    )
