"""The server's ban rules on their own: checked first, named S1, S2, ..., and in the refusals."""

from __future__ import annotations

import pytest

from bot.core.content.bans import check_text, find_ban, find_ban_in, refusal
from bot.core.content.commands import ban_command
from bot.core.errors import InvalidInput


def test_a_server_rule_is_found_and_labelled() -> None:
    """A word of the server's list is hit as S1, before the chat's own rules."""
    hit = find_ban(["fox"], "a fox and a cat", server=["cat"])
    assert hit is not None and hit.server and hit.label == "S1" and hit.entry == "cat"


def test_the_chat_rules_still_apply_under_a_server_list() -> None:
    """With a server list, the chat's own rule is found as 2, not S2."""
    hit = find_ban(["owl", "fox"], "a fox", server=["cat"])
    assert hit is not None and not hit.server and hit.label == "2"


def test_settings_with_both_lists_are_checked_together() -> None:
    """find_ban_in reads ``ban`` and ``guild_ban`` of the settings that apply in a channel."""
    settings = {"ban": ["owl"], "guild_ban": ["fox"]}
    assert find_ban_in(settings, "an owl") is not None
    assert find_ban_in(settings, "a fox") is not None
    assert find_ban_in(settings, "a cat") is None


def test_a_timed_out_server_pattern_names_its_rule() -> None:
    """A slow server pattern fails closed and the refusal names "rule S2"."""
    settings = {"guild_ban": ["cat", "re:(\\w+\\s?)*$"]}
    hit = find_ban([], "word " * 300 + "!", server=settings["guild_ban"], budget_s=0.01)
    assert hit is not None and hit.timed_out and hit.label == "S2"
    assert "(rule S2)" in refusal(hit, "prompt").user_message


def test_a_stored_server_list_of_garbage_bans_nothing() -> None:
    """A server list that is not a list of strings is ignored, not crashed on."""
    check_text({"guild_ban": "fox"}, "a fox", "prompt")
    check_text({"guild_ban": [1, None]}, "a fox", "prompt")


def test_removing_a_server_rule_from_a_channel_is_refused() -> None:
    """ "/ban remove S1" with the channel's settings raises, naming /ban guild remove."""
    with pytest.raises(InvalidInput) as caught:
        ban_command("remove", "S1", {"ban": ["owl"], "guild_ban": ["fox"]})
    assert "/ban guild remove" in caught.value.user_message


def test_a_server_list_is_written_under_its_own_ban_key() -> None:
    """ "/ban guild add fox" on the server row's settings stores ``ban`` there (S1)."""
    answer, changed = ban_command("add", "fox", {}, server=True)
    assert answer == "Banned (rule S1)." and changed == {"ban": ["fox"]}


def test_removing_a_server_rule_that_does_not_exist_names_the_list() -> None:
    """ "/ban remove S7" where the server has one rule is not called a server rule; it asks for a number."""
    with pytest.raises(InvalidInput) as caught:
        ban_command("remove", "S7", {"ban": ["owl"], "guild_ban": ["fox"]})
    assert caught.value.user_message == "Name a rule by its number in /ban list (1 to 1)."
