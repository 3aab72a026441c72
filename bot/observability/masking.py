"""Secrets masked in what Easel prints: a URL's password and secret-looking query values, every secret
field of a settings tree, and secret-looking keys of free-form options. Pure text work: it imports no
settings, so everything (settings, providers, logging) may use it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, SecretStr

__all__ = ["SECRET_NAME", "redact_url", "redacted"]

SECRET_NAME = re.compile(r"key|token|secret|password|passwd|auth|credential", re.IGNORECASE)
"""A setting or query parameter with such a name holds a secret (``options.api_key``, ``?sig=`` aside)."""
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/?#@\s:]*:)[^/?#\s]*@")
_URL_SECRET_PARAM = re.compile(
    r"(?i)([?&][^=&#\s]*(?:key|token|secret|password|passwd|auth|credential|sig)[^=&#\s]*=)[^&#\s'\"]+"
)


def redacted(settings: BaseModel) -> dict[str, Any]:
    """The effective settings as plain data with every secret replaced by ``***``: secret fields,
    passwords in any URL (``database_url``, each ``base_url``), and secret-looking ``options``."""
    data = settings.model_dump(mode="json", by_alias=True)
    masked: dict[str, Any] = _mask_secrets(settings, data)
    return masked


def _mask_secrets(model: object, data: Any) -> Any:
    """``data`` (the JSON dump of ``model``) masked: ``SecretStr`` fields, URL passwords in strings
    (also in lists), and in free-form mappings every value under a secret-looking key, at any depth."""
    if isinstance(model, BaseModel) and isinstance(data, dict):
        for name, field in type(model).model_fields.items():
            key = field.alias or name
            value = getattr(model, name)
            data[key] = "***" if isinstance(value, SecretStr) else _mask_secrets(value, data[key])
        return data
    if isinstance(data, dict):
        return {
            key: "***" if value is not None and SECRET_NAME.search(str(key)) else _mask_secrets(None, value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_mask_secrets(None, item) for item in data]
    return redact_url(data) if isinstance(data, str) else data


def redact_url(url: str) -> str:
    """``scheme://user:secret@host`` → ``scheme://user:***@host`` and ``?key=secret`` (any
    secret-looking parameter, ``sig`` too) → ``?key=***``; works on any text with URLs in it."""
    return _URL_SECRET_PARAM.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", url))
