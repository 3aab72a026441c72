"""The web chat's per-installation secret (``web.secret_file``) and the keys derived from it.

The secret is 32 random bytes, written once (hex, mode 0600) the first time the web chat starts and
read on every start after, so login and CSRF cookies survive a restart but are worth nothing on
another installation. Deleting the file (or changing ``web.auth_token``) logs every browser out.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import ConfigError

log = logging.getLogger(__name__)
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Keys:
    """What the guards sign with: CSRF tokens, and the login cookie (None without ``web.auth_token``)."""

    csrf: bytes
    auth_cookie: str | None


def derive_keys(secret: bytes, auth_token: str | None) -> Keys:
    """Keys for one purpose each; the login cookie also depends on the token, so a new token (or a
    new secret) makes every old cookie worthless."""
    csrf = hmac.new(secret, b"easel-web-csrf", hashlib.sha256).digest()
    cookie = None
    if auth_token is not None:
        cookie = hmac.new(secret, f"easel-web-auth:{auth_token}".encode(), hashlib.sha256).hexdigest()
    return Keys(csrf=csrf, auth_cookie=cookie)


def load_secret(path: Path) -> bytes:
    """The secret in ``path``, made (with its directory) when there is none yet."""
    try:
        if not path.exists():
            _create(path)
        text = path.read_text(encoding="ascii").strip()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"The web chat cannot read or create web.secret_file {path}: {reason}.") from exc
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < SECRET_BYTES:
        raise ConfigError(
            f"web.secret_file {path} does not hold a secret Easel made: delete it (browsers will have "
            "to log in again) or point web.secret_file elsewhere."
        )
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("web.secret_file %s is readable by other users: chmod 600 it", path)
    return secret


def _create(path: Path) -> None:
    """Write a new secret atomically: a private temporary file linked into place, so two processes
    starting at once end up with the same secret and nobody reads a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_bytes(SECRET_BYTES).hex() + "\n"
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".web_secret.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(text)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process was first: use theirs
        except OSError:  # a file system without hard links: exclusive create instead
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as file:
                    file.write(text)
    finally:
        os.unlink(temporary)
