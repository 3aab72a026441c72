"""The ban list's rules on their own: words, patterns, hostile patterns, the policy's meaning."""

from __future__ import annotations

import time

import pytest

from bot.core.content.bans import MAX_PATTERN_CHARS, find_ban, parse_entry
from bot.core.content.commands import ban_command
from bot.core.content.policy import (
    ContentPolicy,
    moderation_for,
    parse_policy,
    shown_as_spoiler,
)
from bot.core.errors import InvalidInput


def test_words_match_whole_words_case_insensitively() -> None:
    """A banned word matches "FOX!" and its full-width form, not "foxglove"."""
    rules = [parse_entry("Fox")]
    assert find_ban(rules, "a red FOX!") is not None
    assert find_ban(rules, "a \uff46\uff4f\uff58 at dawn") is not None
    assert find_ban(rules, "a foxglove in bloom") is None


def test_zero_width_characters_do_not_hide_a_word() -> None:
    """ "f\u200box" is "fox" for the ban list."""
    assert find_ban([parse_entry("fox")], "a f\u200box") is not None


def test_a_pattern_matches_and_names_its_rule_number() -> None:
    """``re:g[o0]re`` is rule 2 and matches "G0RE"."""
    hit = find_ban([parse_entry("cat"), parse_entry("re:g[o0]re")], "lots of G0RE")
    assert hit is not None and hit.number == 2 and not hit.timed_out


def test_a_catastrophic_pattern_is_refused_when_added_and_quickly() -> None:
    """``(a+)+$`` backtracks exponentially: refused as too slow within a fraction of a second."""
    started = time.monotonic()
    with pytest.raises(InvalidInput, match="slow ban pattern") as caught:
        parse_entry("re:(a+)+$")
    assert time.monotonic() - started < 1.0
    assert "too long to check" in caught.value.user_message


def test_a_stored_catastrophic_pattern_times_out_and_refuses() -> None:
    """A slow pattern that got into the list anyway is bounded by the budget and fails closed."""
    started = time.monotonic()
    hit = find_ban(["re:(\\w+\\s?)*$"], "word " * 300 + "!", budget_s=0.05)
    assert time.monotonic() - started < 0.5
    assert hit is not None and hit.timed_out


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("re:(", "not a valid pattern"),
        ("re:" + "a" * (MAX_PATTERN_CHARS + 1), "at most"),
        ("re:x*", "matches an empty text"),
        ("re:", "Give a pattern"),
        ("  ", "Name a word"),
    ],
)
def test_bad_entries_are_refused_with_a_reason(raw: str, why: str) -> None:
    """Unparsable, over-long, everything-matching or empty entries are refused, saying why."""
    with pytest.raises(InvalidInput) as caught:
        parse_entry(raw)
    assert why in caught.value.user_message


def test_remove_takes_the_number_from_the_list() -> None:
    """``/ban remove 1`` drops the first rule and keeps the rest."""
    _, settings = ban_command("add", "fox", {})
    assert settings is not None
    _, settings = ban_command("add", "re:g[o0]re", settings)
    assert settings is not None
    answer, settings = ban_command("remove", "1", settings)
    assert answer == "Removed rule 1." and settings is not None
    assert settings["ban"] == ["re:g[o0]re"]


def test_policy_values_and_the_moderation_they_ask_for() -> None:
    """safe → moderation auto, off → low; only spoiler hides results; a typo is refused."""
    assert moderation_for(parse_policy("SAFE")) == "auto"
    assert moderation_for(parse_policy("off")) == "low"
    assert shown_as_spoiler({"content": {"policy": ContentPolicy.SPOILER.value}})
    assert not shown_as_spoiler({"content": {"policy": "off"}})
    assert not shown_as_spoiler({})
    with pytest.raises(InvalidInput):
        parse_policy("nsfw")
