"""The router's own intents for /ban, /delete, /hide and /unhide (no longer ``Settings`` keys)."""

from __future__ import annotations

import pytest

from bot.core.chat.router import Router, RouterConfig
from bot.core.errors import InvalidInput
from bot.core.messages import BanCommand, Delete, Hide, Incoming, Intent

ROUTER = Router(RouterConfig(bot_username="EaselBot"))


def _route(text: str, **extra: object) -> Intent:
    return ROUTER.route(Incoming(platform="test", chat_id="c1", user_id="u1", text=text, **extra))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("/ban", BanCommand("list")),
        ("/ban add re:g[o0]re", BanCommand("add", "re:g[o0]re")),
        ("/ban REMOVE 2", BanCommand("remove", "2")),
        ("/ban guild", BanCommand("list", guild=True)),
        ("/ban guild add a red fox", BanCommand("add", "a red fox", guild=True)),
        ("/delete #12", Delete(12)),
        ("/hide #12", Hide(12)),
        ("/unhide 12", Hide(12, hidden=False)),
        ("/hide@EaselBot #7", Hide(7)),
    ],
)
def test_commands_become_their_own_intents(text: str, intent: Intent) -> None:
    """Each command routes to its intent type with its arguments."""
    assert _route(text) == intent


def test_hide_in_reply_names_the_replied_generation() -> None:
    """ "/hide" in reply to the bot's image #5 hides #5 (the whole set, whatever image was shown)."""
    assert _route("/hide", reply_to_generation_id=5, reply_to_image=1) == Hide(5)


@pytest.mark.parametrize("text", ["/hide", "/unhide", "/delete"])
def test_without_a_target_the_command_asks_which(text: str) -> None:
    """No number and no reply: InvalidInput asking which image, naming the command."""
    with pytest.raises(InvalidInput) as caught:
        _route(text)
    assert f"Reply to it with {text}" in caught.value.user_message


@pytest.mark.parametrize("text", ["/hide #x", "/hide #12/2", "/unhide 1 2", "/hide #" + "9" * 13])
def test_a_bad_target_is_refused(text: str) -> None:
    """Garbled or per-image targets are refused with an example, not crashed on."""
    with pytest.raises(InvalidInput):
        _route(text)
