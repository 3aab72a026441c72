"""The settings every image provider builds on, and the knob groups several vendors share.

A vendor's section under ``providers:`` is validated by its own model (named in
:mod:`bot.providers.registry`): :class:`ProviderSettings` when it has no knobs of its own, else a
subclass with exactly its extra keys, so a key set on a vendor that has no such knob is refused as
unknown. The models are light (pydantic only): ``bot.settings`` imports them all at start, while a
vendor's HTTP code is imported only when that vendor is used::

    ProviderSettings            base_url, api_key, model, timeout_s, max_concurrency, models, options,
    │                           max_response_mb (openai, openai-compatible, openai-responses, gemini,
    │                           openrouter, xai, flux, replicate)
    └── DiffusionSettings       + cfg_scale, denoising_strength (stability)
        ├── BedrockSettings     + region (bedrock/settings.py)
        └── SamplerSettings     + steps, sampler (sdwebui)
            └── ComfyUISettings + workflow (comfyui/settings.py)
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr

from bot.sections import SettingsSection

__all__ = ["DiffusionSettings", "ProviderSettings", "SamplerSettings", "SettingsSection"]


class ProviderSettings(SettingsSection):
    """One image provider. ``base_url`` may be a list of backends for local servers."""

    base_url: str | list[str] | None = None
    api_key: SecretStr | None = None
    model: str | None = None
    timeout_s: float | None = Field(default=None, gt=0)
    """Seconds for one attempt (default: ``generation.attempt_timeout_s``)."""
    max_concurrency: int | None = Field(default=None, ge=1, le=64)
    """Requests in flight at once, per backend URL (default: 1 for local servers, 4 for clouds)."""
    models: list[str] = []
    """Extra model names to list in `easel providers` (next to the built-in catalogue)."""
    options: dict[str, Any] = {}
    """Extra request fields passed through as they are (for API features Easel has no key for)."""
    max_response_mb: float = Field(default=64.0, gt=0, le=4096)
    """The largest answer read from the provider (after decompression); a bigger one is cut off and
    counts as the provider being unavailable. Result image downloads have their own 32 MB cap."""

    @property
    def configured(self) -> bool:
        return self.base_url is not None or self.api_key is not None


class DiffusionSettings(ProviderSettings):
    """Diffusion models' guidance and image-to-image strength (sdwebui, comfyui, stability, bedrock)."""

    cfg_scale: float | None = Field(default=None, ge=0, le=50)
    """How closely the image follows the prompt (classifier-free guidance)."""
    denoising_strength: float | None = Field(default=None, ge=0, le=1)
    """How far edits may move from the reference image (0 keeps it, 1 ignores it)."""


class SamplerSettings(DiffusionSettings):
    """A diffusion server of the user's own, whose sampling is chosen per request (sdwebui, comfyui)."""

    steps: int | None = Field(default=None, ge=1, le=200)
    """Sampling steps."""
    sampler: str | None = None
    """Sampler name, as the server spells it."""
