"""A server's ban list (``/ban guild ...``) through the whole service: it applies in every channel of the
server with the channel's own list, only the server's admins change it, and a channel's writes never
copy or drop it."""

from __future__ import annotations

from typing import Any

from bot.core.chat.answers import GUILD_BAN_ADMINS_ONLY, NO_GUILD_BANS
from bot.core.content.bans import MAX_ENTRIES
from bot.core.types import Reply
from tests.core.conftest import Harness

GUILD = "g1"


async def _in(harness: Harness, text: str, chat: str = "c1", **extra: Any) -> Reply:
    """Say ``text`` in channel ``chat`` of the server."""
    return await harness.last(text, chat=chat, guild_id=GUILD, **extra)


async def _own(harness: Harness, chat: str) -> dict[str, Any]:
    return await harness.easel.history.get_chat_settings(chat_id=await harness.chat_id(chat))


async def test_a_server_rule_refuses_the_prompt_in_every_channel(harness: Harness) -> None:
    """ "/ban guild add fox" in one channel refuses "/imagine a fox" in another channel of the server."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    reply = await _in(harness, "/imagine a red fox", chat="c2")
    assert reply.is_error and "banned word or phrase" in reply.text
    assert (await _in(harness, "/imagine a red barn", chat="c2")).images


async def test_server_and_channel_rules_both_apply(harness: Harness) -> None:
    """A channel's own "cat" and the server's "fox" are both refused there; elsewhere only "fox"."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    await _in(harness, "/ban add cat", chat="c2", is_admin=True)
    assert (await _in(harness, "/imagine a fox", chat="c2")).is_error
    assert (await _in(harness, "/imagine a cat", chat="c2")).is_error
    assert (await _in(harness, "/imagine a cat", chat="c3")).images


async def test_a_server_rule_refuses_an_edit_instruction(harness: Harness) -> None:
    """A server pattern refuses "/edit add some g0re" in a channel."""
    await _in(harness, "/imagine a lighthouse")
    await _in(harness, "/ban guild add re:g[o0]re", is_admin=True)
    reply = await _in(harness, "/edit add some G0RE")
    assert reply.is_error and "your edit instruction has a banned word" in reply.text


async def test_a_server_rule_refuses_a_schedule_prompt(harness: Harness) -> None:
    """ "/schedule add ... a fox" in a channel is refused under the server's "fox"."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    reply = await _in(harness, "/schedule add every day at 09:00 a fox", is_admin=True)
    assert "your schedule prompt has a banned word" in reply.text


async def test_the_channel_list_shows_the_server_rules_marked(harness: Harness) -> None:
    """ "/ban list" in a channel lists its own rules and, under a heading, the server's as S1, S2."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    await _in(harness, "/ban guild add re:w[o0]lf", is_admin=True)
    await _in(harness, "/ban add cat", is_admin=True)
    text = (await _in(harness, "/ban list", is_admin=True)).text
    assert "1. cat" in text and "S1. fox" in text and "S2. pattern w[o0]lf" in text
    assert text.index("1. cat") < text.index("Banned in every channel of this server") < text.index("S1.")


async def test_a_channel_cannot_remove_a_server_rule(harness: Harness) -> None:
    """ "/ban remove S1" in a channel is refused, pointing to /ban guild; the rule stays."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    reply = await _in(harness, "/ban remove S1", is_admin=True)
    assert reply.is_error and "/ban guild remove" in reply.text
    assert (await _in(harness, "/imagine a fox")).is_error


async def test_a_member_cannot_change_the_server_list(harness: Harness) -> None:
    """ "/ban guild add fox" by a member without Manage Server is refused and stores nothing."""
    reply = await _in(harness, "/ban guild add fox")
    assert reply.is_error and reply.text == GUILD_BAN_ADMINS_ONLY
    guild = await harness.easel.history.upsert_chat(platform="test", external_id=f"guild:{GUILD}")
    assert "ban" not in await harness.easel.history.get_chat_settings(chat_id=guild)
    assert (await _in(harness, "/imagine a fox")).images


async def test_ban_guild_outside_a_server_says_there_is_none(harness: Harness) -> None:
    """ "/ban guild add fox" in a chat of no server says /ban is the chat's list."""
    reply = await harness.last("/ban guild add fox", is_admin=True)
    assert reply.is_error and reply.text == NO_GUILD_BANS


async def test_a_bad_server_pattern_is_refused_and_not_stored(harness: Harness) -> None:
    """ "/ban guild add re:(" says why it is not a pattern; "re:(a+)+$" is too slow; neither is kept."""
    assert "not a valid pattern" in (await _in(harness, "/ban guild add re:(", is_admin=True)).text
    assert "too long to check" in (await _in(harness, "/ban guild add re:(a+)+$", is_admin=True)).text
    listed = (await _in(harness, "/ban guild list", is_admin=True)).text
    assert listed.startswith("This server bans nothing")


async def test_the_server_list_is_bounded(harness: Harness) -> None:
    """Past MAX_ENTRIES rules "/ban guild add" is refused as full and the list keeps its size."""
    guild = await harness.easel.history.upsert_chat(platform="test", external_id=f"guild:{GUILD}")
    full = [f"word{n}" for n in range(MAX_ENTRIES)]
    await harness.easel.history.set_chat_settings(chat_id=guild, settings={"ban": full})
    reply = await _in(harness, "/ban guild add fox", is_admin=True)
    assert reply.is_error and f"server's ban list is full ({MAX_ENTRIES})" in reply.text
    assert (await harness.easel.history.get_chat_settings(chat_id=guild))["ban"] == full


async def test_server_rules_are_removed_by_number(harness: Harness) -> None:
    """ "/ban guild remove S1" (or 1) removes the server's rule: the prompt goes through again."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    await _in(harness, "/ban guild add owl", is_admin=True)
    assert (await _in(harness, "/ban guild remove S1", is_admin=True)).text == "Removed rule S1."
    assert (await _in(harness, "/ban guild remove 1", is_admin=True)).text == "Removed rule S1."
    assert (await _in(harness, "/imagine a fox and an owl", chat="c2")).images


async def test_a_channel_write_neither_copies_nor_drops_server_rules(harness: Harness) -> None:
    """A channel's /ban add and /settings keep only the channel's rules as its own; the server's
    later removal applies in the channel."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    await _in(harness, "/ban add cat", is_admin=True)
    await _in(harness, "/settings aspect 16:9", is_admin=True)
    own = await _own(harness, "c1")
    assert own["ban"] == ["cat"] and "guild_ban" not in own
    await _in(harness, "/ban guild remove 1", is_admin=True)
    assert (await _in(harness, "/imagine a fox")).images


async def test_a_channel_rule_equal_to_the_servers_stays_the_channels(harness: Harness) -> None:
    """A channel that banned "fox" before its server did keeps "fox" after a settings write and after
    the server drops it."""
    await _in(harness, "/ban add fox", is_admin=True)
    await _in(harness, "/ban guild add fox", is_admin=True)
    await _in(harness, "/settings aspect 16:9", is_admin=True)
    assert (await _own(harness, "c1"))["ban"] == ["fox"]
    await _in(harness, "/ban guild remove 1", is_admin=True)
    assert (await _in(harness, "/imagine a fox")).is_error


async def test_a_word_the_server_bans_is_not_added_to_the_channel(harness: Harness) -> None:
    """ "/ban add fox" in a channel when the server bans it says so and stores nothing."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    reply = await _in(harness, "/ban add Fox", is_admin=True)
    assert reply.text == "Already banned in the whole server (rule S1)."
    assert "ban" not in await _own(harness, "c1")


async def test_ban_refused_names_the_server_rule(harness: Harness) -> None:
    """A prompt refused by a server rule is logged in the channel as "rule S1"."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    await _in(harness, "/imagine a fox in snow", user="u2")
    text = (await _in(harness, "/ban refused", is_admin=True)).text
    assert "u2 · prompt · rule S1 · a fox in snow" in text


async def test_settings_never_show_or_clear_the_lists(harness: Harness) -> None:
    """ "/settings guild" shows a count, "/settings guild reset" keeps the server's list, and
    "/settings ban" is refused instead of clearing a list."""
    await _in(harness, "/ban guild add fox", is_admin=True)
    shown = (await _in(harness, "/settings guild", is_admin=True)).text
    assert "1 rule(s)" in shown and "fox" not in shown
    await _in(harness, "/settings guild reset", is_admin=True)
    assert (await _in(harness, "/settings guild ban", is_admin=True)).is_error
    assert (await _in(harness, "/settings ban", is_admin=True)).is_error
    assert (await _in(harness, "/imagine a fox")).is_error
