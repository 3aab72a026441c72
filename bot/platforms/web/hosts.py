"""Which names the web chat answers to, and which pages may post to it: the defence against DNS
rebinding (a page on ``rebind.example`` whose name is made to resolve to 127.0.0.1).

A browser always sends the name it was given in ``Host``, so a rebound page arrives with
``Host: rebind.example``. The web chat answers only:

- loopback names: ``localhost``, ``*.localhost``, 127.0.0.0/8, ``[::1]`` (any port);
- the entries of ``web.allowed_hosts`` (``name`` for any port, ``name:port`` for one), the host of
  ``web.public_url``, and ``web.host`` when it is a name;
- IP addresses, when the server is bound to a non-loopback address (``0.0.0.0``, a LAN address).
  An IP address cannot be rebound: a browser sends ``Host: 192.168.1.5:8080`` only to a page whose own
  origin is that address, so the operator on the LAN (or through Docker's ``-p``) is never locked out.
  With a loopback binding only loopback addresses are accepted.

Anything else is 421 Misdirected Request on every path except ``/healthz`` (liveness probes send
``Host: <container-ip>:<port>``, and it says nothing private).

A state-changing request's ``Origin`` must be one of this server's own: ``web.public_url``, an
``allowed_hosts`` entry, or exactly the address the request was sent to — which, checked above, is
itself an allowed one; another port of localhost or an attacker's IP address is not.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.core.i18n import _
from bot.core.ids import ascii_int
from bot.platforms.web.settings import WebSettings

UNCHECKED_PATHS = frozenset({"/healthz"})
DEFAULT_PORTS = {"http": 80, "https": 443}

Authority = tuple[str, int | None]
"""A lower-case host name or IP address (IPv6 without brackets) and the port, when one is given."""


def split_authority(value: str) -> Authority | None:
    """``Host: example.org:8080`` → ("example.org", 8080); None when it is not a host[:port]."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or not _is_ip(name):
            return None
    else:
        name, colon, port = value.partition(":")
        rest = colon + port
        name = name.rstrip(".")  # "localhost." is localhost
        if not name or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
            return None
        if not name.isascii():
            return None
    if not rest:
        return name, None
    number = ascii_int(rest[1:], max_digits=5) if rest.startswith(":") else None
    if number is None or number > 65535:
        return None
    return name, number


def is_loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class HostPolicy:
    allowed: frozenset[Authority]
    """``allowed_hosts`` and ``public_url``'s host; a None port matches any port."""
    public_origin: tuple[str, str, int] | None
    """``public_url`` as (scheme, host, port)."""
    any_ip: bool
    """The server listens off loopback: IP addresses are accepted as Host."""

    @classmethod
    def from_settings(cls, settings: WebSettings) -> HostPolicy:
        allowed = {found for entry in settings.allowed_hosts if (found := split_authority(entry))}
        if (bound := split_authority(settings.host)) is not None and not _is_ip(bound[0]):
            allowed.add((bound[0], None))  # web.host given as a name: the server's own name
        public = None
        if settings.public_url is not None:
            parts = urlsplit(settings.public_url)
            host = (parts.hostname or "").lower()
            allowed.add((host, parts.port))
            public = (parts.scheme, host, parts.port or DEFAULT_PORTS[parts.scheme])
        return cls(frozenset(allowed), public, any_ip=not is_loopback(settings.host))

    def allows_host(self, header: str) -> bool:
        """Whether the web chat answers to ``Host: header``."""
        authority = split_authority(header)
        if authority is None:
            return False
        name, _ = authority
        return is_loopback(name) or self._listed(authority) or (self.any_ip and _is_ip(name))

    def allows_origin(self, origin: str, host: str | None) -> bool:
        """Whether a page from ``origin`` may post to this server, reached as ``Host: host``."""
        parts = urlsplit(origin)
        if parts.scheme not in DEFAULT_PORTS or parts.path or parts.query or not parts.hostname:
            return False  # "null" (a sandboxed page, a file://) or not an origin at all
        authority = split_authority(parts.netloc)
        if authority is None:
            return False
        name, port = authority
        if self.public_origin == (parts.scheme, name, port or DEFAULT_PORTS[parts.scheme]):
            return True
        if self._listed(authority):
            return True
        return host is not None and self.allows_host(host) and split_authority(host) == authority

    def _listed(self, authority: Authority) -> bool:
        return authority in self.allowed or (authority[0], None) in self.allowed

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """421 for a ``Host`` this server does not answer to (``/healthz`` excepted)."""
        host = request.headers.get("Host")
        if host is None or request.path in UNCHECKED_PATHS or self.allows_host(host):
            return await handler(request)  # no Host: HTTP/1.0 tools, never a browser
        shown = host[:100]
        message = _(
            "This Easel does not answer to the name {name}. If that is how you reach it, add it to "
            "web.allowed_hosts (or set web.public_url when a reverse proxy serves it)."
        ).format(name=repr(shown))
        raise web.HTTPMisdirectedRequest(text=message + "\n")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
