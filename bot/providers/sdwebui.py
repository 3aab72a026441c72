"""``sdwebui``: AUTOMATIC1111 / Forge / SD.Next through their ``/sdapi/v1`` API (start them with ``--api``).

``base_url`` is the server root (``http://127.0.0.1:7860``) or a list of identical servers; each runs
one job at a time (a global queue lock), so by default one request per backend is in flight.
``api_key`` is ``user:pass`` when the server runs with ``--api-auth user:pass`` (HTTP Basic auth).

Generations are ``POST txt2img``; edits and variations are ``POST img2img`` with the reference as
``init_images`` (and ``mask`` when given). An upscale is ``POST extra-single-image`` (the Extras tab:
``resize_mode`` 0, ``upscaling_resize`` the factor) with the best upscaler ``GET upscalers`` lists
(:data:`UPSCALERS`, in that order; a named upscaler the server lacks is a 500 ``AssertionError``, and
``"None"`` would return the image unchanged). The POST blocks until the images are done, so progress
comes from polling ``GET progress`` on a second request. The seed the server reports (``info``) is
recorded on each image. A cancelled or timed-out generation interrupts the backend so the GPU stops.

The body sent, and which images of an answer are kept (no grid, no extension images), are in
:mod:`bot.providers.sdwebui_payload`. An unknown ``sampler`` is ``404 "Sampler not found"`` up to A1111
1.9 (400 in code after PR #16140); 1.10 replaces it with its default sampler instead, which is logged.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, Unavailable
from bot.core.i18n import N_, _
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http.backends import BackendPool
from bot.providers._http.common import base_urls, encode_reference, is_edit, read_json
from bot.providers._http.errors import (
    error_info,
    raise_for_response,
    scrub,
    transport_errors,
)
from bot.providers._http.local_servers import check_all
from bot.providers._http.media import decode_base64, to_image
from bot.providers.sdwebui_payload import build_body, pick_images
from bot.providers.settings import SamplerSettings

__all__ = ["SDWebUIProvider", "create"]

log = logging.getLogger(__name__)

API = "/sdapi/v1"
PROGRESS_INTERVAL_S = 1.0
SIDE_CALL_TIMEOUT_S = 10.0
"""Progress polls, interrupts and health checks: short, whatever the generation timeout is."""
CANCELLED_TEXT = N_("The image was cancelled before it was finished.")
UPSCALERS = ("R-ESRGAN 4x+", "ESRGAN_4x", "SwinIR 4x", "ScuNET GAN", "Lanczos")
"""Extras upscalers by preference: the model ones A1111 ships (downloaded on first use), then Lanczos,
which every install has."""


@dataclass(eq=False)
class _Job:
    base: str
    interrupted: bool = False


class SDWebUIProvider:
    """The A1111 ``/sdapi/v1`` API over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "sdwebui"
    capabilities = Capabilities(
        edit=True,
        max_n=4,
        aspects=None,
        negative_prompt=True,
        seed=True,
        max_reference_images=1,
        upscale=True,
    )
    catalog: tuple[str, ...] = ("sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors")
    """Common checkpoint file names; the installed ones come from :meth:`list_models`."""

    def __init__(
        self,
        settings: SamplerSettings,
        *,
        client: httpx.AsyncClient,
        poll_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        urls = base_urls(settings, provider=self.name, example="http://127.0.0.1:7860")
        self.pool = BackendPool(urls, max_per_backend=settings.max_concurrency or 1)
        self.model = settings.model
        self._settings = settings
        self._auth = _basic_auth(settings)
        self._client = client
        self._poll_s = poll_interval_s
        self._jobs: set[_Job] = set()

    # ------------------------------------------------------------------------------------ the protocol

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """txt2img, or img2img of the first reference image for EDIT/VARY; fail over between backends."""
        edit = is_edit(request, provider=self.name)
        model = request.model or self.model
        body = build_body(
            request, self._settings, model=model, edit=edit, max_n=self.capabilities.max_n, provider=self.name
        )
        route = "img2img" if edit else "txt2img"
        images = await self.pool.call(lambda base: self._run(base, route, body, request, on_progress))
        await on_progress(1.0, None)
        return images

    async def upscale(self, image: bytes, factor: int, *, on_progress: ProgressCallback) -> Image | None:
        """The Extras tab's upscale (``POST extra-single-image``); fails over between backends."""
        encoded = encode_reference(image, provider=self.name, data_url=False)

        async def run(base: str) -> Image:
            upscaler = await self._upscaler(base)
            body = {"resize_mode": 0, "upscaling_resize": factor, "upscaler_1": upscaler, "image": encoded}
            url = f"{base}{API}/extra-single-image"
            with transport_errors(provider=self.name, url=url):
                response = await self._client.post(url, json=body, headers=self._auth)
            self._raise_for(response)
            payload = read_json(response, provider=self.name)
            item = payload.get("image") if isinstance(payload, dict) else None
            if not isinstance(item, str) or not item:
                raise Unavailable(f"{self.name}: the extras answer has no image", provider=self.name)
            data, mime = decode_base64(item, provider=self.name)
            return to_image(data, provider=self.name, model=upscaler, mime=mime)

        result = await self.pool.call(run)
        await on_progress(1.0, None)
        return result

    async def _upscaler(self, base: str) -> str:
        """The first of :data:`UPSCALERS` the server has (``GET upscalers``), else its first real one."""
        url = f"{base}{API}/upscalers"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.get(url, headers=self._auth, timeout=SIDE_CALL_TIMEOUT_S)
        self._raise_for(response)
        listed = read_json(response, provider=self.name)
        names = (
            [str(u["name"]) for u in listed if isinstance(u, dict) and u.get("name")]
            if isinstance(listed, list)
            else []
        )
        for wanted in UPSCALERS:
            if wanted in names:
                return wanted
        real = [name for name in names if name != "None"]
        if not real:
            raise Unavailable(f"{self.name}: the server lists no upscaler", provider=self.name)
        return real[0]

    async def check(self) -> ProviderHealth:
        """GET ``sd-models`` on every backend (this also proves the login): ok when any answers."""

        async def probe(base: str) -> str:
            return f"ok ({len(await self._models(base))} checkpoints)"

        return await check_all(self.pool.urls, probe, provider=self.name)

    async def aclose(self) -> None:
        """Nothing to close: the HTTP client belongs to the app."""

    async def list_models(self) -> list[str]:
        """The installed checkpoints' titles, from the first backend that answers."""
        last: Exception | None = None
        for base in self.pool.urls:
            try:
                return await self._models(base)
            except Unavailable as exc:
                last = exc
        assert last is not None
        raise last

    async def interrupt(self) -> None:
        """Stop the jobs this provider is running (``POST interrupt`` on their backends)."""
        jobs = list(self._jobs)
        for job in jobs:
            job.interrupted = True
        await asyncio.gather(*(self._interrupt(base) for base in {job.base for job in jobs}))

    # ------------------------------------------------------------------------------------ one backend

    async def _run(
        self,
        base: str,
        route: str,
        body: dict[str, Any],
        request: ImageRequest,
        on_progress: ProgressCallback,
    ) -> list[Image]:
        job = _Job(base)
        self._jobs.add(job)
        watcher = asyncio.create_task(self._watch_progress(base, on_progress))
        try:
            url = f"{base}{API}/{route}"
            with transport_errors(provider=self.name, url=url):
                response = await self._client.post(url, json=body, headers=self._auth)
        except (asyncio.CancelledError, ProviderTimeout):
            await asyncio.shield(self._interrupt(base))  # the server would go on drawing for nobody
            raise
        finally:
            self._jobs.discard(job)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        if job.interrupted:
            raise InvalidRequest(
                f"{self.name}: the job was interrupted", provider=self.name, user_message=_(CANCELLED_TEXT)
            )
        self._raise_for(response)
        return pick_images(
            read_json(response, provider=self.name),
            request,
            model=request.model or self.model,
            sampler=self._settings.sampler,
            max_n=self.capabilities.max_n,
            provider=self.name,
        )

    async def _watch_progress(self, base: str, on_progress: ProgressCallback) -> None:
        """Poll ``GET progress`` while the POST blocks; report new fractions and previews."""
        last: tuple[float, bytes | None] = (0.0, None)
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                with transport_errors(provider=self.name):
                    response = await self._client.get(
                        f"{base}{API}/progress",
                        params={"skip_current_image": "false"},
                        headers=self._auth,
                        timeout=SIDE_CALL_TIMEOUT_S,
                    )
                state = response.json() if response.status_code == 200 else None
            except (Unavailable, ProviderTimeout, ValueError):
                continue
            if not isinstance(state, dict):
                continue
            fraction = state.get("progress")
            if not isinstance(fraction, int | float) or isinstance(fraction, bool) or fraction <= 0:
                continue
            preview = _preview(state.get("current_image"))
            current = (min(float(fraction), 0.99), preview or last[1])
            if current != last:
                last = current
                await on_progress(current[0], preview)

    async def _interrupt(self, base: str) -> None:
        """Best effort: a failure to interrupt is logged, never raised."""
        try:
            with transport_errors(provider=self.name):
                response = await self._client.post(
                    f"{base}{API}/interrupt", headers=self._auth, timeout=SIDE_CALL_TIMEOUT_S
                )
            if response.status_code >= 400:
                log.warning("sdwebui: interrupt on %s answered HTTP %d", base, response.status_code)
        except (Unavailable, ProviderTimeout, Misconfigured) as exc:
            log.warning("sdwebui: could not interrupt %s: %s", base, exc)

    async def _models(self, base: str) -> list[str]:
        url = f"{base}{API}/sd-models"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.get(url, headers=self._auth, timeout=SIDE_CALL_TIMEOUT_S)
        self._raise_for(response)
        payload = read_json(response, provider=self.name)
        if not isinstance(payload, list):
            raise Unavailable(f"{self.name}: sd-models is not a list", provider=self.name)
        return [str(item["title"]) for item in payload if isinstance(item, dict) and item.get("title")]

    def _raise_for(self, response: httpx.Response) -> None:
        """A1111's statuses: 400/404 a named thing not found, 401 login, 404 no route, 422 validation, 500."""
        status = response.status_code
        if status < 400:
            return
        info = error_info(response)
        said = f": {info.message}" if info.message else ""
        where = f"{self.name}: HTTP {status}"
        if status == 401:
            raise Misconfigured(
                f"{where}: login rejected{said}",
                provider=self.name,
                user_message=_(
                    "The Stable Diffusion WebUI rejected the bot's login; an admin needs to set "
                    "providers.sdwebui.api_key to the server's --api-auth user:pass."
                ),
            )
        if status in (400, 404) and info.message not in ("", "Not Found"):  # "Sampler not found", ...
            raise InvalidRequest(
                f"{where}{said}",
                provider=self.name,
                user_message=_(
                    "The Stable Diffusion WebUI could not do that: {reason} (check "
                    "providers.sdwebui.sampler/model)."
                ).format(reason=scrub(info.message, limit=160)),
            )
        if status == 404:
            raise Misconfigured(
                f"{where}: no such route (wrong base_url, or the server runs without --api){said}",
                provider=self.name,
                user_message=_(
                    "The Stable Diffusion WebUI has no API at that address; an admin needs to check "
                    "providers.sdwebui.base_url and start the server with --api."
                ),
            )
        if status == 422:
            detail = _validation_detail(response) or info.message
            raise InvalidRequest(
                f"{where}: request rejected: {detail}",
                provider=self.name,
                user_message=_("The Stable Diffusion WebUI rejected the request: {reason}.").format(
                    reason=scrub(detail, limit=160)
                ),
            )
        raise_for_response(response, provider=self.name)


# ------------------------------------------------------------------------------------------ helpers


def _basic_auth(settings: SamplerSettings) -> dict[str, str]:
    """The ``Authorization: Basic`` header for ``user:pass`` (none without an api_key)."""
    if settings.api_key is None:
        return {}
    user, colon, password = settings.api_key.get_secret_value().partition(":")
    if not colon or not user:
        raise Misconfigured(
            "providers.sdwebui.api_key must be user:pass (the server's --api-auth value)",
            provider="sdwebui",
            user_message=_("providers.sdwebui.api_key must look like user:pass; an admin needs to fix it."),
        )
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def _preview(value: object) -> bytes | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        data, _mime = decode_base64(value, provider="sdwebui")
    except Unavailable:
        return None
    return data


def _validation_detail(response: httpx.Response) -> str:
    """FastAPI's 422 ``{"detail": [{"loc": [...], "msg": ...}]}`` as ``steps: value is not ...``."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(detail, list):
        return ""
    parts = []
    for item in detail:
        if isinstance(item, dict):
            loc = (
                [str(p) for p in item.get("loc", []) if p != "body"]
                if isinstance(item.get("loc"), list)
                else []
            )
            parts.append(f"{'.'.join(loc) or 'body'}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)


def create(settings: SamplerSettings, *, client: httpx.AsyncClient) -> SDWebUIProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return SDWebUIProvider(settings, client=client)
