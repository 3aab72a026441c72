"""The web chat's guards: browser sessions, the optional access token, cross-site request checks and
security headers. Each is an aiohttp middleware so no handler can forget it.

- Session: an HttpOnly cookie with a random token. The user id is derived from it (stable across
  restarts); the CSRF token is an HMAC of it under a per-process key, fetched by the page from
  ``/api/session`` and sent back in the ``X-CSRF-Token`` header on every state-changing request.
- Access token (``web.auth_token``): ``Authorization: Bearer <token>``, or ``?token=<token>`` once, or the
  login form; the browser then holds a cookie with a hash of the token, never the token itself.
- Cross-site: a POST must come from this origin (``Origin`` / ``Sec-Fetch-Site``) and carry the
  session's CSRF token, unless it is authorised by a Bearer header (which browsers never add on their own).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

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

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user_id: str
    csrf: str


class Guard:
    """Sessions, the access token and the cross-site checks for one server."""

    def __init__(self, auth_token: str | None) -> None:
        self._key = secrets.token_bytes(32)
        self._auth_token = auth_token
        self._auth_cookie = _digest(auth_token) if auth_token else None

    # ---------------------------------------------------------------------------------- sessions

    def session(self, request: web.Request) -> Session:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not (16 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
            token = secrets.token_urlsafe(24)  # none yet (or garbage): a new session
        user_id = "u" + hashlib.sha256(f"easel-web-user:{token}".encode()).hexdigest()[:12]
        csrf = hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()
        return Session(token=token, user_id=user_id, csrf=csrf)

    # ------------------------------------------------------------------------------- access token

    def token_matches(self, candidate: str) -> bool:
        if self._auth_token is None:
            return True
        return hmac.compare_digest(candidate.encode(), self._auth_token.encode())

    def _bearer(self, request: web.Request) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return self._auth_token is not None and scheme.lower() == "bearer" and self.token_matches(value)

    def authorised(self, request: web.Request) -> bool:
        if self._auth_cookie is None:
            return True
        cookie = request.cookies.get(AUTH_COOKIE, "")
        return self._bearer(request) or hmac.compare_digest(cookie.encode(), self._auth_cookie.encode())

    def remember_login(self, response: web.StreamResponse) -> None:
        if self._auth_cookie is not None:
            response.set_cookie(
                AUTH_COOKIE, self._auth_cookie, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Strict"
            )

    # ------------------------------------------------------------------------------- middlewares

    @web.middleware
    async def headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Security headers on every answer, errors included."""
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(SECURITY_HEADERS)
            raise
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        return response

    @web.middleware
    async def access(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The access token, when one is configured; ``?token=`` is swapped for a cookie at once."""
        if self._auth_token is None or request.path in OPEN_PATHS:
            return await handler(request)
        given = request.query.get("token")
        if given is not None and request.method == "GET":
            if not self.token_matches(given):
                raise web.HTTPUnauthorized(text="Wrong access token.")
            clean = request.rel_url.with_query([(k, v) for k, v in request.query.items() if k != "token"])
            response = web.HTTPSeeOther(location=str(clean))
            self.remember_login(response)
            raise response
        if self.authorised(request):
            return await handler(request)
        if request.method == "GET" and not request.path.startswith(("/api/", "/images/", "/metrics")):
            raise web.HTTPSeeOther(location="/login")
        raise web.HTTPUnauthorized(
            text="This Easel needs its access token.", headers={"WWW-Authenticate": "Bearer"}
        )

    @web.middleware
    async def same_origin(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """State-changing requests only from this site's own pages."""
        if request.method in SAFE_METHODS or self._bearer(request):
            return await handler(request)
        if not _same_site(request):
            raise web.HTTPForbidden(text="Cross-site requests are not accepted.")
        if request.path != "/login":
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), self.session(request).csrf.encode()):
                raise web.HTTPForbidden(text="The page is out of date: reload it and try again.")
        return await handler(request)


def set_session_cookie(response: web.StreamResponse, session: Session) -> None:
    response.set_cookie(
        SESSION_COOKIE, session.token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Strict"
    )


def _same_site(request: web.Request) -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser's cross-site request (they always send Origin on POST)
    return origin == f"{request.scheme}://{request.host}"


def _digest(token: str) -> str:
    return hashlib.sha256(f"easel-web-auth:{token}".encode()).hexdigest()
