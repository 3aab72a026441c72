"""ComfyUI workflows in API format: the built-in templates, loading a user's file, filling placeholders.

A workflow maps node ids to ``{"class_type", "inputs"}``; an input is a literal or a link
``[node_id, output_index]``. Placeholders such as ``{{prompt}}`` are filled on the parsed document,
never by editing JSON text: a string that *is* a placeholder becomes the value itself (numbers stay
numbers), a placeholder inside a longer string is replaced by the value's text. So a prompt with
quotes or braces cannot break or inject into the workflow.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.errors import Misconfigured

__all__ = [
    "IMG2IMG",
    "PLACEHOLDERS",
    "TXT2IMG",
    "Workflows",
    "fill",
    "load_workflow",
    "placeholders",
]

PLACEHOLDERS = (
    "prompt",
    "negative",
    "seed",
    "width",
    "height",
    "steps",
    "cfg",
    "sampler",
    "denoise",
    "model",
    "image",
)
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

_COMMON: dict[str, Any] = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "{{model}}"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{prompt}}", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{negative}}", "clip": ["4", 1]}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": "{{seed}}",
            "steps": "{{steps}}",
            "cfg": "{{cfg}}",
            "sampler_name": "{{sampler}}",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "easel", "images": ["8", 0]}},
}

TXT2IMG: dict[str, Any] = {
    **_COMMON,
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": "{{width}}", "height": "{{height}}", "batch_size": 1},
    },
}
"""CheckpointLoaderSimple → CLIPTextEncode (x2) → EmptyLatentImage → KSampler → VAEDecode → SaveImage."""

IMG2IMG: dict[str, Any] = {
    **_COMMON,
    "10": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
    "5": {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}},
}
IMG2IMG["3"] = copy.deepcopy(_COMMON["3"])
IMG2IMG["3"]["inputs"]["denoise"] = "{{denoise}}"
"""LoadImage → VAEEncode → KSampler (denoise < 1) → VAEDecode → SaveImage; the size is the image's."""


@dataclass(frozen=True, slots=True)
class Workflows:
    """The workflow for new images and the one for edits (None: not offered).

    ``workflow`` alone keeps its old meaning: with an ``{{image}}`` it is the edit workflow (and new
    images are refused), without one it makes new images (and edits are not offered).
    ``edit_workflow`` (must use ``{{image}}``) adds edits; the built-in templates fill what is unset.
    """

    generate: dict[str, Any] | None
    edit: dict[str, Any] | None

    @classmethod
    def from_settings(cls, workflow: Path | None, edit_workflow: Path | None, *, provider: str) -> Workflows:
        main = load_workflow(workflow, provider=provider) if workflow else None
        edit = load_workflow(edit_workflow, provider=provider, key="edit_workflow") if edit_workflow else None
        if edit is not None and "image" not in placeholders(edit):
            raise Misconfigured(
                f"providers.{provider}.edit_workflow ({edit_workflow}) has no {{{{image}}}} placeholder "
                "for the picture to edit",
                provider=provider,
            )
        if main is not None and "image" in placeholders(main):
            if edit is not None:
                raise Misconfigured(
                    f"providers.{provider}.workflow ({workflow}) uses {{{{image}}}}: it edits; with "
                    "edit_workflow set, workflow must make new images",
                    provider=provider,
                )
            return cls(generate=None, edit=main)
        if main is not None:
            return cls(generate=main, edit=edit)
        return cls(generate=TXT2IMG, edit=edit if edit is not None else IMG2IMG)

    def builtin(self, template: Any) -> bool:
        return template is TXT2IMG or template is IMG2IMG

    def placeholders(self) -> set[str]:
        """What the new-image workflow (else the edit one) can take: seed, negative prompt."""
        return placeholders(self.generate if self.generate is not None else self.edit)


def load_workflow(path: Path, *, provider: str, key: str = "workflow") -> dict[str, Any]:
    """Read an API-format workflow file; Misconfigured (naming the file) when it cannot be used."""
    where = f"providers.{provider}.{key} ({path})"
    try:
        document = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise Misconfigured(f"{where}: cannot read it: {exc.strerror}", provider=provider) from exc
    except ValueError as exc:
        raise Misconfigured(f"{where}: not valid JSON: {exc}", provider=provider) from exc
    if isinstance(document, dict) and isinstance(document.get("prompt"), dict):
        document = document["prompt"]  # a saved /prompt body
    if not isinstance(document, dict) or not document or not all(_is_node(n) for n in document.values()):
        hint = " (this is the UI format; export it with 'Save (API Format)')" if _ui_format(document) else ""
        raise Misconfigured(
            f"{where}: not an API-format workflow of node id -> {{class_type, inputs}}{hint}",
            provider=provider,
        )
    return document


def placeholders(workflow: Any) -> set[str]:
    """The placeholder names used anywhere in the workflow."""
    if isinstance(workflow, str):
        return set(_PLACEHOLDER.findall(workflow))
    if isinstance(workflow, dict):
        return set().union(*(placeholders(v) for v in workflow.values())) if workflow else set()
    if isinstance(workflow, list):
        return set().union(*(placeholders(v) for v in workflow)) if workflow else set()
    return set()


def fill(workflow: Any, values: Mapping[str, str | int | float]) -> Any:
    """A copy of ``workflow`` with the placeholders that have values replaced (others left as they are)."""
    if isinstance(workflow, dict):
        return {key: fill(value, values) for key, value in workflow.items()}
    if isinstance(workflow, list):
        return [fill(value, values) for value in workflow]
    if not isinstance(workflow, str):
        return workflow
    whole = _PLACEHOLDER.fullmatch(workflow.strip())
    if whole and whole.group(1) in values:
        return values[whole.group(1)]

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(substitute, workflow)


def _is_node(node: object) -> bool:
    return (
        isinstance(node, dict)
        and isinstance(node.get("class_type"), str)
        and isinstance(node.get("inputs"), dict)
    )


def _ui_format(document: object) -> bool:
    return isinstance(document, dict) and isinstance(document.get("nodes"), list)
