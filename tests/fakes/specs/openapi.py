"""Request bodies checked against a vendored OpenAPI 3.0 schema excerpt (``tests/fakes/specs/<vendor>/``).

OpenAPI 3.0 is JSON Schema plus ``nullable``; that one keyword is rewritten (``type: [t, "null"]``,
or a ``null`` branch in ``anyOf``) and the rest goes to ``jsonschema``'s Draft 7 validator, local
``$ref``\\ s included. Multipart forms arrive as text: :func:`coerce_form` turns each field into the
type its schema names (integer, number, boolean) first, and file parts are passed as placeholders
so ``required`` and ``maxItems`` still apply to them. A problem comes back as OpenAI's error
envelope (``invalid_value``, ``invalid_type``, ``integer_below_min_value`` ...).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

HERE = Path(__file__).parent
Problem = tuple[int, dict[str, Any]]


@functools.cache
def document(vendor: str, name: str) -> dict[str, Any]:
    """The vendored file ``<vendor>/<name>.json`` with ``nullable`` rewritten to JSON Schema."""
    raw = json.loads((HERE / vendor / f"{name}.json").read_text())
    return {"components": _rewrite(raw["components"])}


def validate(
    vendor: str, name: str, schema: str, body: Mapping[str, Any], *, prefix: str = ""
) -> Problem | None:
    """The first way ``body`` breaks ``components.schemas[schema]``, as OpenAI reports it; None if none."""
    root = {**document(vendor, name), "$ref": f"#/components/schemas/{schema}"}
    validator = jsonschema.Draft7Validator(root)
    errors = sorted(validator.iter_errors(dict(body)), key=lambda e: (list(e.absolute_path), e.validator))
    if not errors:
        return None
    return _envelope(errors[0], prefix)


def coerce_form(fields: Mapping[str, str], vendor: str, name: str, schema: str) -> dict[str, Any]:
    """Multipart text fields typed as the schema's properties say (unparseable values stay strings)."""
    properties = document(vendor, name)["components"]["schemas"][schema].get("properties", {})
    typed: dict[str, Any] = {}
    for key, value in fields.items():
        kinds = _types(properties.get(key, {}))
        typed[key] = _coerce(value, kinds)
    return typed


def _rewrite(node: Any) -> Any:
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        elif "anyOf" in out:
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    return out


def _types(schema: Mapping[str, Any]) -> set[str]:
    kinds: set[str] = set()
    kind = schema.get("type")
    kinds.update([kind] if isinstance(kind, str) else kind or [])
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        kinds |= _types(branch)
    return kinds


def _coerce(value: str, kinds: set[str]) -> Any:
    if "integer" in kinds and value.lstrip("-").isdigit():
        return int(value)
    if "number" in kinds:
        try:
            return float(value)
        except ValueError:
            return value
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


_CODES = {
    "enum": "invalid_value",
    "type": "invalid_type",
    "minimum": "integer_below_min_value",
    "maximum": "integer_above_max_value",
    "maxLength": "string_above_max_length",
    "minLength": "string_below_min_length",
    "maxItems": "array_above_max_length",
    "required": "missing_required_parameter",
}


def _envelope(error: jsonschema.ValidationError, prefix: str) -> Problem:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        missing = str(error.message).split("'")[1]
        param = f"{prefix}{missing}"
        message = f"Missing required parameter: '{param}'."
    else:
        param = f"{prefix}{path}" if path else prefix.rstrip(".") or None
        message = f"Invalid value for '{param}': {error.message}."
    code = _CODES.get(str(error.validator), "invalid_value")
    return 400, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
