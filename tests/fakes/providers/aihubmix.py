"""A loopback fake of AIHubMix's OpenAI-compatible image API (``/v1/images/generations``, edits, models).

docs.aihubmix.com documents ``POST https://aihubmix.com/v1/images/generations`` as OpenAI's Images API
(its API reference reproduces OpenAI's schema: ``prompt`` required and up to 32000 characters for GPT
image models, ``n`` 1-10, the GPT sizes and quality words, the ``{"created", "data": [{"b64_json" |
"url", "revised_prompt"}], "usage"}`` answer) with a Bearer key, for the models gpt-image-1.5,
gpt-image-1 and gpt-image-1-mini. So this is the strict OpenAI fake
(:class:`tests.fakes.providers.openai_images.FakeOpenAIImages` with ``strict=True``, whose rules come
from OpenAI's OpenAPI document) serving AIHubMix's model list.

Unverified (no AIHubMix page found for them): the edits endpoint, ``GET /v1/models`` and the error
bodies are assumed to be OpenAI's, as the rest of the API is.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.providers.openai_images import FakeOpenAIImages

MODELS = ("gpt-image-1.5", "gpt-image-1-mini")


class FakeAIHubMix(FakeOpenAIImages):
    """``base_url`` ends in ``/v1``."""

    def __init__(self, *, api_key: str = "sk-aihubmix-test-0123456789", **kwargs: Any) -> None:
        super().__init__(api_key=api_key, strict=True, models=MODELS, **kwargs)
