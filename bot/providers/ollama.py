"""``ollama``: a local Ollama server's experimental image generation (keyless, local-first in ``auto``).

Ollama generated images from v0.14.3 (2026-01, PR #13753) until v0.32.6, whose first release removed
the MLX image generation code (#16615); the server's own version (``GET {base}/api/version``) is read
once per server, and a version without image generation is ``Misconfigured`` naming it. On the
versions that have it: ``POST {base}/api/generate`` with ``model`` (an image model such as
``x/z-image-turbo`` or ``x/flux2-klein``), ``prompt``, top-level ``width``/``height`` (each at most
4096) and ``steps``, the seed in ``options.seed`` and, for edits, ``images`` (bare base64; the FLUX.2
models use them as references). The answer streams NDJSON lines ``{"completed", "total", "done":
false}`` (progress) and a final ``{"done": true, "image": "<base64 png>", "done_reason"}``; an
``{"error"}`` line ends it early. A model that answers with text instead is not an image model.
References go as PNG, JPEG or WebP (what the image runner decodes: Go's image/png and image/jpeg and
x/image/webp, no GIF; anything else is sent as its first frame in PNG, with a note). Only 0.15.0 to
0.15.4 use them: the image runner of c01608b6a (#13846) conditioned FLUX.2 on them, and from 0.15.5
(d8cc798c2, #13838) the runner calls ``GenerateImage`` without them, so the picture is drawn from the
prompt alone and the image carries a note that says so.
``base_url`` is the server root (``http://127.0.0.1:11434``), or a list of identical servers.

Sources: ollama/ollama at v0.32.5 (``api/types.go`` GenerateRequest/GenerateResponse image fields,
``server/routes.go`` handleImageGenerate, ``docs/api.md`` "Image Generation (Experimental)") and the
removal commit 4713800b (first tagged in v0.32.6-rc0; v0.32.6+ answer 400 "image generation models
are not currently supported"); ``x/imagegen/runner/runner.go`` at v0.15.0-v0.15.4 and
``x/imagegen/imagegen.go`` (``handleImageCompletion``) from v0.15.5 for the references.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, Unavailable
from bot.core.i18n import N_, _
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import references
from bot.providers._http.backends import BackendPool
from bot.providers._http.common import (
    base_urls,
    diffusion_prompt,
    is_edit,
    merge_options,
    read_object,
)
from bot.providers._http.errors import UNAVAILABLE_TEXT, raise_for_response, scrub, transport_errors
from bot.providers._http.local_servers import check_all
from bot.providers._http.media import decode_base64, to_image
from bot.providers.settings import ProviderSettings

__all__ = ["FIRST", "REMOVED", "OllamaProvider", "create", "parse_version"]

DEFAULT_MODEL = "x/z-image-turbo"
CATALOG = ("x/z-image-turbo", "x/flux2-klein")
FIRST = (0, 14, 3)
"""The first version with image generation."""
REMOVED = (0, 32, 6)
"""The first version without it again."""
EDITS = ((0, 15, 0), (0, 15, 5))
"""The versions whose image runner uses reference images: from the first, before the second."""
REFERENCE_TYPES = references.PNG_JPEG_WEBP
LONG_SIDE = 1024
SIZE_MULTIPLE = 16
MAX_SIDE = 4096
CHECK_TIMEOUT_S = 10.0
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")
NOT_AN_IMAGE_MODEL_TEXT = N_(
    "The configured Ollama model is not an image generation model; an admin needs to set "
    "providers.ollama.model (for example x/z-image-turbo)."
)


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``(0, 20, 1)`` from ``"0.20.1"`` (or ``"0.20.1-rc0"``); None when it is no version."""
    match = _VERSION.match(text.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _label(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


def _edits(model: str) -> bool:
    """The FLUX.2 image models condition on reference images; Z-Image only draws from text."""
    return "flux2" in model.lower()


class OllamaProvider:
    """Ollama's /api/generate image models, implementing :class:`bot.core.ports.Provider`."""

    name = "ollama"
    catalog = CATALOG

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        urls = base_urls(settings, provider=self.name, example="http://127.0.0.1:11434")
        self.model = settings.model or DEFAULT_MODEL
        self.pool = BackendPool(urls, max_per_backend=settings.max_concurrency or 1)
        key = settings.api_key.get_secret_value().strip() if settings.api_key is not None else ""
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}  # a proxy in front, if any
        self._options = dict(settings.options)
        self._versions: dict[str, tuple[int, int, int]] = {}
        self._client = client
        edits = _edits(self.model)
        self.capabilities = Capabilities(
            edit=edits, max_n=1, aspects=None, negative_prompt=False, seed=True,
            max_reference_images=1 if edits else 0,
        )  # fmt: skip

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One image per call, its progress streamed; fail over between servers."""
        model = request.model or self.model
        edit = is_edit(request, provider=self.name)
        if edit and not _edits(model):
            raise InvalidRequest(
                f"{self.name}: {model} cannot edit images",
                provider=self.name,
                user_message=_(
                    "The Ollama model {model} only draws from text; pick a FLUX.2 model (x/flux2-klein) to "
                    "work "
                    "from a picture."
                ).format(model=model),
            )
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, REFERENCE_TYPES, provider=self.name)
        body = self._body(request, model, edit=edit)
        image = await self.pool.call(lambda base: self._generate_on(base, body, model, on_progress))
        await on_progress(1.0, None)
        return references.noted([image], notes)

    async def check(self) -> ProviderHealth:
        """``GET /api/version`` on every server: ok when one runs a version with image generation."""
        return await check_all(self.pool.urls, self._describe, provider=self.name)

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    # ------------------------------------------------------------------------------------- internals

    def _body(self, request: ImageRequest, model: str, *, edit: bool) -> dict[str, Any]:
        width, height = request.aspect.size_for(LONG_SIDE, multiple=SIZE_MULTIPLE)
        body: dict[str, Any] = {
            "model": model,
            "prompt": diffusion_prompt(request) if edit else request.prompt,
            "width": min(width, MAX_SIDE),
            "height": min(height, MAX_SIDE),
            "stream": True,
        }
        if request.seed is not None:
            body["options"] = {"seed": request.seed}
        if edit:  # prepared: an image of REFERENCE_TYPES
            body["images"] = [base64.b64encode(request.reference_images[0]).decode("ascii")]
        return merge_options(body, self._options)

    async def _version(self, base: str, *, checking: bool) -> tuple[int, int, int]:
        known = self._versions.get(base)
        if known is not None:
            return known
        url = f"{base}/api/version"
        timeout: Any = CHECK_TIMEOUT_S if checking else httpx.USE_CLIENT_DEFAULT  # a generation's own limit
        with transport_errors(provider=self.name, url=url):
            response = await self._client.get(url, headers=self._headers, timeout=timeout)
        raise_for_response(response, provider=self.name)
        said = str(read_object(response, provider=self.name).get("version") or "")
        version = parse_version(said)
        if version is None:
            raise Misconfigured(
                f"{self.name}: {base} reports version {scrub(said, limit=40)!r}, not an Ollama version",
                provider=self.name,
                user_message=_(
                    "The Ollama server did not say which version it is; an admin needs to check it."
                ),
            )
        self._versions[base] = version
        return version

    async def _supported(self, base: str, *, checking: bool = False) -> tuple[int, int, int]:
        version = await self._version(base, checking=checking)
        if not FIRST <= version < REMOVED:
            when = "added in 0.14.3" if version < FIRST else "removed in 0.32.6"
            raise Misconfigured(
                f"{self.name}: Ollama {_label(version)} at {base} has no image generation ({when}; it is in "
                f"{_label(FIRST)} to 0.32.5)",
                provider=self.name,
                user_message=_(
                    "This Ollama server (version {version}) cannot generate images: Ollama had image "
                    "generation only from 0.14.3 to 0.32.5. An admin needs to run one of those versions or "
                    "use "
                    "another provider."
                ).format(version=_label(version)),
            )
        return version

    async def _describe(self, base: str) -> str:
        version = await self._supported(base, checking=True)
        return f"ok (Ollama {_label(version)})"

    async def _generate_on(
        self, base: str, body: dict[str, Any], model: str, on_progress: ProgressCallback
    ) -> Image:
        version = await self._supported(base)
        url = f"{base}/api/generate"
        image: str | None = None
        text: list[str] = []
        done = 0.0
        with transport_errors(provider=self.name, url=url):
            async with self._client.stream("POST", url, json=body, headers=self._headers) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise_for_response(response, provider=self.name)
                async for line in response.aiter_lines():
                    event = _event(line, provider=self.name)
                    if event is None:
                        continue
                    if event.get("error"):
                        raise Unavailable(
                            f"{self.name}: the generation failed: {scrub(str(event['error']))}",
                            provider=self.name,
                            user_message=_(UNAVAILABLE_TEXT),
                        )
                    total, completed = event.get("total"), event.get("completed")
                    if isinstance(total, int) and isinstance(completed, int) and total > 0:
                        fraction = min(0.99, completed / total)
                        if fraction > done:
                            done = fraction
                            await on_progress(fraction, None)
                    if isinstance(event.get("image"), str) and event["image"]:
                        image = event["image"]
                    if isinstance(event.get("response"), str):
                        text.append(event["response"])
        if image is None:
            if "".join(text).strip():
                raise Misconfigured(
                    f"{self.name}: {model} answered with text: it is not an image generation model",
                    provider=self.name,
                    user_message=_(NOT_AN_IMAGE_MODEL_TEXT),
                )
            raise Unavailable(
                f"{self.name}: the generation ended without an image",
                provider=self.name,
                user_message=_(UNAVAILABLE_TEXT),
            )
        data, mime = decode_base64(image, provider=self.name)
        made = to_image(data, provider=self.name, model=model, mime=mime, seed=_seed(body))
        if body.get("images") and not EDITS[0] <= version < EDITS[1]:
            made = dataclasses.replace(made, notes=(_references_ignored(version),))
        return made


def _references_ignored(version: tuple[int, int, int]) -> str:
    return _(
        "Ollama {version} does not use the picture to work from (only 0.15.0 to 0.15.4 do); this image was "
        "drawn from the description alone."
    ).format(version=_label(version))


def _event(line: str, *, provider: str) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        event = json.loads(line)
    except ValueError as exc:
        raise Unavailable(
            f"{provider}: streamed answer is not JSON: {scrub(line, limit=80)}",
            provider=provider,
            user_message=_(UNAVAILABLE_TEXT),
        ) from exc
    if not isinstance(event, dict):
        raise Unavailable(f"{provider}: streamed answer is not JSON objects", provider=provider)
    return event


def _seed(body: dict[str, Any]) -> int | None:
    options = body.get("options")
    seed = options.get("seed") if isinstance(options, dict) else None
    return seed if isinstance(seed, int) else None


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> OllamaProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return OllamaProvider(settings, client=client)
