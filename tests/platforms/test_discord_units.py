"""Discord rendering and option translation, without a network."""

from __future__ import annotations

import re

import pytest

import tests.fakes.discord_harness  # noqa: F401  (imports discord.py without its audioop warning)
from bot.core.errors import ConfigError, InvalidInput
from bot.core.messages import Generate, GenerationOptions
from bot.core.types import Action, Aspect
from bot.platforms.discord import files as discord_files
from bot.platforms.discord import render
from bot.platforms.discord.commands import imagine_intent
from bot.settings import DiscordSettings
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_world import TOKEN


def test_imagine_options_become_a_typed_intent() -> None:
    """Every option lands in its field of ``Generate``, checked as its flag would be."""
    intent = imagine_intent(
        "a  fox", aspect="16:9", count=3, seed=5, negative="blur, text", model="sdxl", provider="Built in"
    )
    assert intent == Generate(
        "a fox",
        GenerationOptions(
            aspect=Aspect(16, 9), n=3, seed=5, negative="blur, text", model="sdxl", provider="builtin"
        ),
    )


def test_a_bad_option_is_refused_with_the_flags_answer() -> None:
    """An aspect Discord's choices would not send (a forged request) gets the flag's message."""
    with pytest.raises(InvalidInput, match="bad aspect"):
        imagine_intent("a fox", aspect="99:1")


def test_custom_ids_name_only_the_action_and_generation() -> None:
    """A Delete button's custom id is ``easel:d:<id>``; an old one's requester is accepted and ignored;
    an id no row can have, or an image number on a Delete, names nothing."""
    button = render.Button(Action.DELETE, 2_147_483_647)
    custom_id = render.encode(button)
    match = re.fullmatch(render.BUTTON_TEMPLATE, custom_id)
    assert custom_id == "easel:d:2147483647" and match is not None
    assert render.decode(match["data"]) == button
    old = re.fullmatch(render.BUTTON_TEMPLATE, "easel:d:12:1300000000000000001")
    assert old is not None and render.decode(old["data"]) == render.Button(Action.DELETE, 12)
    assert re.fullmatch(render.BUTTON_TEMPLATE, "easel:d:\u0663") is None
    assert render.decode("d:123456789012") is None and render.decode("r:12:2") is None


def test_vary_of_image_2_has_its_own_custom_id() -> None:
    """Vary of image 2 is ``easel:v:12:2``, matched by the template and decoded to image 2 (0-based 1)."""
    custom_id = render.encode(render.Button(Action.VARY, 12, 1))
    match = re.fullmatch(render.BUTTON_TEMPLATE, custom_id)
    assert custom_id == "easel:v:12:2" and match is not None
    assert render.decode(match["data"]) == render.Button(Action.VARY, 12, 1)


def test_long_text_is_cut_at_line_breaks_within_2000() -> None:
    """Pieces stay within 2000 characters and are cut at a newline when there is one."""
    text = "\n".join("y" * 150 for _ in range(30))
    pieces = render.split_text(text)
    assert all(len(p) <= 2000 for p in pieces) and "\n".join(pieces) == text


def test_files_are_batched_by_count_and_bytes() -> None:
    """At most 10 files and ``limit`` bytes per message."""
    assert discord_files.batches([400] * 3, limit=1000) == [[0, 1], [2]]
    assert discord_files.batches([1] * 12, limit=1000) == [list(range(10)), [10, 11]]


async def test_a_rejected_token_is_a_config_error() -> None:
    """A token the API answers 401 for stops start-up with a ConfigError naming discord.token."""
    from bot.platforms.discord.adapter import DiscordAdapter

    async with FakeDiscord(token="someone-elses-token") as dc:
        settings = DiscordSettings.model_validate(
            {"token": TOKEN, "api_base_url": dc.api_base_url, "gateway_url": dc.gateway_url}
        )
        adapter = DiscordAdapter(settings)
        try:
            with pytest.raises(ConfigError, match=r"discord\.token"):
                await adapter.initialize()
        finally:
            await adapter.shutdown()


async def test_endpoints_are_restored_and_not_shared() -> None:
    """The REST root and gateway are set for one adapter at a time and restored afterwards."""
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from bot.platforms.discord.http import Endpoints

    before = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    first = Endpoints("http://127.0.0.1:1/api/v10", "ws://127.0.0.1:1/gateway")
    first.apply()
    try:
        assert Route.BASE == "http://127.0.0.1:1/api/v10"
        with pytest.raises(ConfigError):
            Endpoints("http://127.0.0.1:2/api/v10", "ws://127.0.0.1:2/gateway").apply()
    finally:
        first.restore()
    assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


def test_endpoint_settings_must_be_urls() -> None:
    """discord.api_base_url must be http(s) (trailing slash dropped) and gateway_url ws(s)."""
    settings = DiscordSettings.model_validate({"api_base_url": "http://127.0.0.1:9/api/v10/"})
    assert settings.api_base_url == "http://127.0.0.1:9/api/v10"
    with pytest.raises(ValueError, match="ws"):
        DiscordSettings.model_validate({"gateway_url": "https://gateway.discord.gg/"})
