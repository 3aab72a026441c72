"""``providers.bedrock``: the AWS region, besides the knobs of the diffusion models Bedrock hosts."""

from __future__ import annotations

from bot.providers.settings import DiffusionSettings

__all__ = ["BedrockSettings"]


class BedrockSettings(DiffusionSettings):
    """Amazon Bedrock: ``region`` with AWS credentials from the usual places, or a Bedrock API key."""

    region: str | None = None
    """AWS region (default: ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / the profile's)."""
