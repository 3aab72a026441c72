"""The images of one ComfyUI run: queue it, fetch its first ``n`` saved outputs (``GET /view``).

ComfyUI answers a workflow it has run before from its cache, naming the output files of that earlier
run; when those files were deleted meanwhile, the cache is emptied (``POST /free``) and the workflow
submitted once more. A second cached answer with missing files is given up on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.core.errors import InvalidRequest
from bot.core.i18n import _
from bot.core.types import Image
from bot.providers.comfyui.events import cached_outputs, output_images
from bot.providers.comfyui.wire import OutputGone, Wire

__all__ = ["fetch_outputs"]

log = logging.getLogger(__name__)


async def fetch_outputs(
    wire: Wire,
    base: str,
    submit: Callable[[], Awaitable[Mapping[str, Any]]],
    *,
    n: int,
    model: str | None,
    seed: int | None,
    provider: str,
) -> list[Image]:
    """``submit()`` (queue and wait for the history entry), fetch the first ``n`` saved images. A cached
    answer whose file is gone: POST /free, one resubmit."""
    for attempt in (1, 2):
        entry = await submit()
        refs = output_images(entry)[:n]  # a batch workflow makes more than asked
        try:
            return [await wire.view(base, ref, model, seed) for ref in refs]
        except OutputGone:
            if not cached_outputs(entry):
                raise
            if attempt == 2:
                raise InvalidRequest(
                    f"{provider}: ComfyUI answered from its cache with output files that were deleted, "
                    "even after POST /free",
                    provider=provider,
                    user_message=_(
                        "ComfyUI answered with an earlier result whose file was deleted; an admin needs to "
                        "restart "
                        "ComfyUI or change the workflow."
                    ),
                ) from None
            log.info(
                "%s: cached result on %s names a deleted file; freeing the cache and resubmitting",
                provider,
                base,
            )
            await wire.free(base)
    raise AssertionError("unreachable")
