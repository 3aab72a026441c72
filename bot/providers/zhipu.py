"""``zhipu``: Zhipu AI's CogView models (``https://open.bigmodel.cn/api/paas/v4``; Z.ai's international
``https://api.z.ai/api/paas/v4`` takes the same calls), Bearer key.

``POST {base}/images/generations`` (JSON, OpenAI-shaped): ``model``, ``prompt``, ``size`` and, on
cogview-4-250304, ``quality`` (``hd`` or ``standard``). The answer is ``{"created", "data": [{"url"}],
"content_filter": [...]}``: one image per call, always a URL (kept 30 days; downloaded at once).
CogView-4 takes any ``WxH`` with both sides 512-2048, multiples of 16, at most 2^21 pixels; other models
get the nearest of the seven recommended sizes. Errors are ``{"error": {"code": "1301", "message"}}``
with Zhipu's business codes, which say more than the HTTP status: 1301 is a content-safety refusal,
1302/1303/1305 throttling, 1113 an account in arrears, 1304 the daily limit, 1000-1004 the key, 1211 an
unknown model. There are no edits (CogView only draws from text) and no seed.

Sources: docs.bigmodel.cn / docs.z.ai "Generate Image" (request, sizes, response), bigmodel.cn
"HTTP Status Codes" and "Model Error Codes" (business codes), MetaGLM/zhipuai-sdk-python-v4
``api_resource/images.py``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderError, RateLimited, Refused
from bot.core.i18n import N_, _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import images_api
from bot.providers._http.common import base_url, bearer, is_edit, merge_options, read_object
from bot.providers._http.errors import (
    KEY_REJECTED_TEXT,
    NOT_FOUND_TEXT,
    QUOTA_TEXT,
    REFUSED_TEXT,
    busy_text,
    could_not_text,
    error_info,
    raise_for_response,
    retry_after_seconds,
    transport_errors,
)
from bot.providers._http.media import base_is_local
from bot.providers.settings import ProviderSettings

__all__ = ["ZhipuProvider", "canvas", "create"]

DEFAULT_BASE_URL = "https://open.bigmodel.cn/api/paas/v4"
DEFAULT_MODEL = "cogview-4-250304"
CATALOG = ("cogview-4-250304", "cogview-4", "cogview-3-flash")
RECOMMENDED = ("1024x1024", "768x1344", "864x1152", "1344x768", "1152x864", "1440x720", "720x1440")
MIN_SIDE, MAX_SIDE, MULTIPLE, MAX_PIXELS = 512, 2048, 16, 2**21
QUALITY_MODELS = ("cogview-4-250304",)
CHECK_TIMEOUT_S = 10.0
NO_EDIT_TEXT = N_("CogView only draws from text; it cannot edit a picture. Try another provider for edits.")
_KEY_CODES = frozenset({"1000", "1001", "1002", "1003", "1004"})
_THROTTLED = frozenset({"1302", "1303", "1305"})
_QUOTA = frozenset({"1110", "1111", "1112", "1113", "1304"})
_PARAMETER_CODES = frozenset({"1210", "1213", "1214"})


def canvas(aspect: Aspect, model: str) -> str:
    """The ``size`` for the aspect: a free ``WxH`` within CogView-4's rules, else a recommended size."""
    if not model.startswith("cogview-4"):
        return min(RECOMMENDED, key=lambda s: abs(_ratio(s) - aspect.ratio))
    width, height = aspect.size_for(1024, multiple=MULTIPLE)
    short = min(width, height)
    if short < MIN_SIDE:  # a narrow aspect: grow until the short side is allowed
        scale = MIN_SIDE / short
        width, height = (_fit(width * scale), _fit(height * scale))
    while width * height > MAX_PIXELS:
        width, height = _fit(width * 0.9), _fit(height * 0.9)
    return f"{width}x{height}"


def _fit(side: float) -> int:
    return max(MIN_SIDE, min(MAX_SIDE, round(side / MULTIPLE) * MULTIPLE))


def _ratio(size: str) -> float:
    width, height = size.split("x")
    return int(width) / int(height)


class ZhipuProvider:
    """CogView over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "zhipu"
    catalog = CATALOG
    capabilities = Capabilities(edit=False, max_n=1, aspects=None, negative_prompt=False, seed=False)

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        self._auth = bearer(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = settings.model or DEFAULT_MODEL
        self.options = dict(settings.options)
        self._allow_private = base_is_local(self.base_url)
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One image (CogView makes one per call) for the prompt; edits are InvalidRequest."""
        if is_edit(request, provider=self.name):
            raise InvalidRequest(
                f"{self.name}: CogView cannot edit images", provider=self.name, user_message=_(NO_EDIT_TEXT)
            )
        model = request.model or self.model
        body: dict[str, Any] = {
            "model": model,
            "prompt": request.prompt,
            "size": canvas(request.aspect, model),
        }
        if model in QUALITY_MODELS and request.quality in ("hd", "high"):
            body["quality"] = "hd"
        payload = await self._post(merge_options(body, self.options))
        items = images_api.result_items(payload, provider=self.name)
        images = await images_api.to_images(
            self._client,
            items[:1],
            provider=self.name,
            model=model,
            base=self.base_url,
            headers=self._auth,
            allow_private=self._allow_private,
        )
        await on_progress(1.0, None)
        return images

    async def check(self) -> ProviderHealth:
        """A generation request without a prompt: Zhipu answers 1213 (no prompt) once the key is
        accepted, and 401 when it is not; nothing is drawn or billed."""
        try:
            await self._post({"model": self.model}, seconds=CHECK_TIMEOUT_S)
        except InvalidRequest as exc:
            if any(f"code {code}" in str(exc) for code in _PARAMETER_CODES):
                return ProviderHealth(ok=True, detail="ok")
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        return ProviderHealth(ok=True, detail="ok")

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    async def _post(self, body: dict[str, Any], *, seconds: float | None = None) -> dict[str, Any]:
        url = f"{self.base_url}/images/generations"
        limit: Any = httpx.USE_CLIENT_DEFAULT if seconds is None else seconds
        with transport_errors(provider=self.name, url=url):
            response = await self._client.post(url, json=body, headers=self._auth, timeout=limit)
        raise_for_zhipu(response, provider=self.name)
        return read_object(response, provider=self.name)


def raise_for_zhipu(response: httpx.Response, *, provider: str) -> None:
    """Zhipu's business code first (see the module docstring), then the HTTP status."""
    if response.status_code < 400:
        return
    info = error_info(response)
    code = _code(response)
    where = f"{provider}: HTTP {response.status_code} code {code}: {info.message}"
    if code == "1301":
        raise Refused(f"{where} (refused: content safety)", provider=provider, user_message=_(REFUSED_TEXT))
    if code in _THROTTLED:
        wait = retry_after_seconds(response.headers)
        raise RateLimited(
            f"{where} (rate limited)", provider=provider, retry_after=wait, user_message=busy_text(wait)
        )
    if code in _QUOTA:
        raise Misconfigured(f"{where} (account or quota)", provider=provider, user_message=_(QUOTA_TEXT))
    if code in _KEY_CODES:
        raise Misconfigured(
            f"{where} (the API key was rejected)", provider=provider, user_message=_(KEY_REJECTED_TEXT)
        )
    if code == "1211":
        raise Misconfigured(f"{where} (unknown model)", provider=provider, user_message=_(NOT_FOUND_TEXT))
    if code in _PARAMETER_CODES:
        raise InvalidRequest(
            f"{where} (request rejected)",
            provider=provider,
            user_message=could_not_text(info.message),
        )
    raise_for_response(response, provider=provider)


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code is not None else None


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> ZhipuProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return ZhipuProvider(settings, client=client)
