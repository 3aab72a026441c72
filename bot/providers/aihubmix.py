"""``aihubmix``: AIHubMix, an aggregator that serves OpenAI's Images API for the GPT image models at
``https://aihubmix.com/v1`` with its own Bearer key.

Its ``POST /v1/images/generations`` is documented as OpenAI's (same fields, limits and answer), so
this is the ``openai`` provider (:class:`bot.providers.openai.OpenAIProvider`: the GPT image model
rules, multipart edits, base64 answers, the OpenAI error envelope) pointed at AIHubMix, under its own
name and settings (AIHubMix lists gpt-image-1.5, gpt-image-1-mini and the gpt-image-1 that OpenAI shut
down on 2026-10-23; the catalogue is OpenAI's). AIHubMix's other families (Imagen, FLUX, Qwen,
Doubao...) go through its separate ``/v1/models/<model>/predictions`` API, which Easel does not
speak: use the ``imagen`` or ``flux`` providers with the vendors' own keys for those.

Sources: docs.aihubmix.com "Generate Images" (OpenAI-compatible API reference: POST /v1/images/
generations, Bearer key, OpenAI's request and ``{"created", "data": [{"b64_json" | "url",
"revised_prompt"}], "usage"}`` answer) and "Image Generation" (the model list). Unverified: that
``/v1/images/edits`` and ``GET /v1/models`` behave as OpenAI's (the docs found show neither).
"""

from __future__ import annotations

import httpx

from bot.providers.openai import OpenAIProvider
from bot.providers.settings import ProviderSettings

__all__ = ["AIHubMixProvider", "create"]

DEFAULT_BASE_URL = "https://aihubmix.com/v1"


class AIHubMixProvider(OpenAIProvider):
    """OpenAI's Images API at AIHubMix, implementing :class:`bot.core.ports.Provider`."""

    name = "aihubmix"

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        located = (
            settings if settings.base_url else settings.model_copy(update={"base_url": DEFAULT_BASE_URL})
        )
        super().__init__(located, client=client)


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> AIHubMixProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return AIHubMixProvider(settings, client=client)
