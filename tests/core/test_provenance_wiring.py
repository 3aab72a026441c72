"""The saved image carries its parameters (A1111's ``parameters`` text) unless the setting is off."""

from __future__ import annotations

import pytest
from PIL import Image as PILImage

from tests.core.conftest import Harness


async def test_a_saved_png_names_its_prompt_and_negative(harness: Harness) -> None:
    """/imagine ... --no ...: the stored PNG's parameters text holds the prompt and the negative."""
    reply = await harness.last("/imagine a red fox --no blurry")
    text = PILImage.open(reply.images[0].path).text["parameters"]
    assert text.startswith("a red fox") and "Negative prompt: blurry" in text


@pytest.mark.easel(env={"EASEL__GENERATION__EMBED_PARAMETERS": "false"})
async def test_no_parameters_text_when_the_setting_is_off(harness: Harness) -> None:
    """generation.embed_parameters false: the stored PNG has no parameters text."""
    reply = await harness.last("/imagine a red fox")
    assert "parameters" not in PILImage.open(reply.images[0].path).text
