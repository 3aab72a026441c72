"""``minimax``: MiniMax's ``image-01`` (``https://api.minimax.io/v1``; ``https://api.minimaxi.com/v1`` in
mainland China), Bearer key.

``POST {base}/image_generation`` (JSON) with ``model``, ``prompt`` (up to 1500 characters),
``aspect_ratio`` (eight ratios), ``n`` (1-9), ``seed`` and ``response_format: base64``; the answer is
``{"data": {"image_base64": [...]}, "metadata": {"success_count", "failed_count"}, "base_resp":
{"status_code", "status_msg"}}``. MiniMax reports failures in ``base_resp`` **inside an HTTP 200**:
``status_code`` 0 is success, 1002/1039/1041/2045 throttling, 1004/2049 a rejected key, 1008 no balance,
1026/1027 sensitive input/output (a refusal), 2013 invalid parameters, 1000/1024/1033 server trouble.
Edits and variations send the reference as ``subject_reference: [{"type": "character",
"image_file": "data:image/...;base64,..."}]``: MiniMax keeps the *subject* (a person's face) of the
reference and draws a new scene around it, so the prompt is the scene, not an instruction; it takes
JPEG and PNG only, so a WebP, a GIF or an animation goes as its first frame in PNG, with a note
(:mod:`bot.providers._http.references`). ``check()`` lists files (``GET {base}/files/list``), the
cheapest call that needs the key.

Sources: platform.minimax.io/docs (Text to Image and Image to Image OpenAPI, the image generation
guide, error codes, File Management: List Files).
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.core.errors import (
    InvalidRequest,
    Misconfigured,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Refused,
    Unavailable,
)
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import references
from bot.providers._http.common import (
    base_url,
    bearer,
    diffusion_prompt,
    encode_reference,
    is_edit,
    merge_options,
    read_object,
)
from bot.providers._http.errors import (
    KEY_REJECTED_TEXT,
    QUOTA_TEXT,
    REFUSED_TEXT,
    TIMEOUT_TEXT,
    UNAVAILABLE_TEXT,
    busy_text,
    could_not_text,
    raise_for_response,
    scrub,
    transport_errors,
)
from bot.providers._http.media import decode_base64, to_image
from bot.providers._http.multimodal import aspect_label
from bot.providers.settings import ProviderSettings

__all__ = ["MiniMaxProvider", "create", "raise_for_base_resp"]

DEFAULT_BASE_URL = "https://api.minimax.io/v1"
DEFAULT_MODEL = "image-01"
CATALOG = ("image-01",)
ASPECTS = tuple(Aspect(w, h) for w, h in ((1, 1), (16, 9), (4, 3), (3, 2), (2, 3), (3, 4), (9, 16), (21, 9)))
MAX_N = 9
MAX_PROMPT_CHARS = 1500
REFERENCE_TYPES = references.PNG_JPEG
CHECK_TIMEOUT_S = 10.0
_THROTTLED = frozenset({1002, 1039, 1041, 2045})
_KEY = frozenset({1004, 2049})
_SENSITIVE = frozenset({1026, 1027})
_SERVER = frozenset({1000, 1024, 1033})


class MiniMaxProvider:
    """MiniMax image generation over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "minimax"
    catalog = CATALOG
    capabilities = Capabilities(
        edit=True, max_n=MAX_N, aspects=ASPECTS, negative_prompt=False, seed=True, max_reference_images=1
    )

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        self._auth = bearer(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = settings.model or DEFAULT_MODEL
        self.options = dict(settings.options)
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """Up to nine images in one call; EDIT/VARY keep the reference's subject in a new scene."""
        edit = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, REFERENCE_TYPES, provider=self.name)
        model = request.model or self.model
        body = self._body(request, model, edit=edit)
        url = f"{self.base_url}/image_generation"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.post(url, json=body, headers=self._auth)
        raise_for_response(response, provider=self.name)
        payload = read_object(response, provider=self.name)
        raise_for_base_resp(payload, provider=self.name)
        images = self._images(payload, model)
        await on_progress(1.0, None)
        return references.noted(images, notes)

    async def check(self) -> ProviderHealth:
        """``GET {base}/files/list``: the server answers and takes the key."""
        url = f"{self.base_url}/files/list"
        try:
            with transport_errors(provider=self.name, url=url):
                response = await self._client.get(
                    url, params={"purpose": "t2a_async_input"}, headers=self._auth, timeout=CHECK_TIMEOUT_S
                )
            raise_for_response(response, provider=self.name)
            raise_for_base_resp(read_object(response, provider=self.name), provider=self.name)
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        return ProviderHealth(ok=True, detail="ok")

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    # ------------------------------------------------------------------------------------- internals

    def _body(self, request: ImageRequest, model: str, *, edit: bool) -> dict[str, Any]:
        prompt = diffusion_prompt(request) if edit else request.prompt
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InvalidRequest(
                f"{self.name}: prompt of {len(prompt)} characters (at most {MAX_PROMPT_CHARS})",
                provider=self.name,
                user_message=_("That prompt is too long for MiniMax (at most {limit} characters).").format(
                    limit=MAX_PROMPT_CHARS
                ),
            )
        body: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "aspect_ratio": aspect_label(request.aspect, ASPECTS),
            "n": max(1, min(request.n, MAX_N)),
            "response_format": "base64",
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if edit:
            reference = encode_reference(request.reference_images[0], provider=self.name, data_url=True)
            body["subject_reference"] = [{"type": "character", "image_file": reference}]
        return merge_options(body, self.options)

    def _images(self, payload: dict[str, Any], model: str) -> list[Image]:
        data = payload.get("data")
        encoded = data.get("image_base64") if isinstance(data, dict) else None
        images = [
            to_image(raw, provider=self.name, model=model, mime=mime)
            for raw, mime in (
                decode_base64(item, provider=self.name)
                for item in (encoded if isinstance(encoded, list) else [])
                if isinstance(item, str) and item
            )
        ]
        if images:
            return images
        metadata = payload.get("metadata")
        failed = metadata.get("failed_count") if isinstance(metadata, dict) else None
        raise Refused(
            f"{self.name}: HTTP 200 without images (failed_count {failed})",
            provider=self.name,
            user_message=_(REFUSED_TEXT),
        )


def raise_for_base_resp(payload: dict[str, Any], *, provider: str) -> None:
    """Raise the ProviderError that a non-zero ``base_resp.status_code`` (in an HTTP 200) means."""
    base = payload.get("base_resp")
    if not isinstance(base, dict):
        return
    try:
        code = int(base.get("status_code") or 0)
    except (TypeError, ValueError):
        code = -1
    if code == 0:
        return
    said = scrub(str(base.get("status_msg") or ""), limit=200)
    where = f"{provider}: base_resp {code}" + (f": {said}" if said else "")
    if code in _THROTTLED:
        raise RateLimited(f"{where} (rate limited)", provider=provider, user_message=busy_text(None))
    if code in _KEY:
        raise Misconfigured(
            f"{where} (the API key was rejected)", provider=provider, user_message=_(KEY_REJECTED_TEXT)
        )
    if code == 1008:
        raise Misconfigured(f"{where} (out of balance)", provider=provider, user_message=_(QUOTA_TEXT))
    if code in _SENSITIVE:
        raise Refused(
            f"{where} (refused: sensitive content)", provider=provider, user_message=_(REFUSED_TEXT)
        )
    if code == 1001:
        raise ProviderTimeout(f"{where} (timed out)", provider=provider, user_message=_(TIMEOUT_TEXT))
    if code in _SERVER:
        raise Unavailable(f"{where} (server error)", provider=provider, user_message=_(UNAVAILABLE_TEXT))
    raise InvalidRequest(
        f"{where} (request rejected)",
        provider=provider,
        user_message=could_not_text(said),
    )


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> MiniMaxProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return MiniMaxProvider(settings, client=client)
