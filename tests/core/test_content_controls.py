"""Content controls through the whole service: /ban, refused prompts, /ban refused, the policy."""

from __future__ import annotations

import pytest

from bot.core.content.policy import shown_as_spoiler
from bot.core.errors import Refused
from bot.core.rights import ADMINS_ONLY
from tests.core.conftest import Harness
from tests.fakes.scripted import ScriptedProvider


async def test_a_member_who_is_not_an_admin_cannot_add_to_the_ban_list(harness: Harness) -> None:
    """ "/ban add fox" by a group member is refused and bans nothing."""
    reply = await harness.last("/ban add fox")
    assert reply.is_error and reply.text == ADMINS_ONLY.format(what="manage the ban list")
    settings = await harness.easel.history.get_chat_settings(chat_id=await harness.chat_id())
    assert "ban" not in settings


async def test_a_banned_word_refuses_the_prompt_and_queues_nothing(harness: Harness) -> None:
    """After "/ban add fox", "/imagine a red fox" is refused with a clear answer and no job."""
    await harness.say("/ban add fox", is_admin=True)
    job = await harness.easel.service.handle(harness.message("/imagine a red Fox"))
    assert job is None
    reply = harness.platform.replies[-1]
    assert reply.is_error and "banned word or phrase" in reply.text and not reply.images
    assert (await harness.last("/imagine a foxglove")).images  # a whole word only


async def test_a_banned_pattern_refuses_an_edit_instruction(harness: Harness) -> None:
    """ "/ban add re:g[o0]re" refuses "make it g0ry-free... g0re" as an edit instruction."""
    await harness.last("/imagine a lighthouse")
    await harness.say("/ban add re:g[o0]re", is_admin=True)
    reply = await harness.last("/edit add some G0RE")
    assert reply.is_error and "your edit instruction has a banned word" in reply.text


async def test_a_catastrophic_pattern_is_refused_by_ban_add(harness: Harness) -> None:
    """ "/ban add re:(a+)+$" is answered as too slow to check, and not stored."""
    reply = await harness.last("/ban add re:(a+)+$", is_admin=True)
    assert "too long to check" in reply.text
    assert "Nothing is banned here" in (await harness.last("/ban list", is_admin=True)).text


async def test_ban_refused_lists_what_the_ban_list_refused(harness: Harness) -> None:
    """ "/ban refused" shows who was refused, for what and by which rule, to admins."""
    await harness.say("/ban add fox", is_admin=True)
    await harness.say("/imagine a fox in snow", user="u2")
    text = (await harness.last("/ban refused", is_admin=True)).text
    assert "u2 · prompt · rule 1 · a fox in snow" in text
    assert (await harness.last("/ban refused")).is_error  # not an admin


async def test_ban_remove_lets_the_prompt_through_again(harness: Harness) -> None:
    """After "/ban remove 1" the same prompt makes an image."""
    await harness.say("/ban add fox", is_admin=True)
    await harness.say("/ban remove 1", is_admin=True)
    assert (await harness.last("/imagine a fox")).images


async def test_settings_show_a_count_and_reset_keeps_the_content_controls(harness: Harness) -> None:
    """ "/settings" shows "ban: 1 rule(s)", not the words; "/settings reset" keeps bans and policy."""
    await harness.say("/ban add fox", is_admin=True)
    await harness.say("/settings policy spoiler", is_admin=True)
    text = (await harness.last("/settings")).text
    assert "ban: 1 rule(s)" in text and "fox" not in text and "policy: spoiler" in text
    await harness.say("/settings reset", is_admin=True)
    settings = await harness.easel.history.get_chat_settings(chat_id=await harness.chat_id())
    assert settings["ban"] == ["fox"] and settings["policy"] == "spoiler"


async def test_an_unknown_policy_is_refused(harness: Harness) -> None:
    """ "/settings policy nsfw" is refused, listing safe, spoiler and off."""
    reply = await harness.last("/settings policy nsfw", is_admin=True)
    assert reply.is_error and "safe" in reply.text and "spoiler" in reply.text and "off" in reply.text


async def test_the_policy_travels_with_the_job(harness: Harness) -> None:
    """Under "/settings policy spoiler" a job's payload says its result goes out as a spoiler."""
    await harness.say("/settings policy spoiler", is_admin=True)
    job_id = await harness.easel.service.handle(harness.message("/imagine a lighthouse"))
    assert job_id is not None
    await harness.easel.queue.wait_for(job_id)
    job = await harness.easel.jobs.get_job(job_id=job_id)
    assert job is not None and shown_as_spoiler(job.payload)


async def test_under_the_spoiler_policy_the_result_goes_out_hidden(harness: Harness) -> None:
    """ "/settings policy spoiler": the delivered reply is a spoiler; under "off" it is not."""
    await harness.say("/settings policy spoiler", is_admin=True)
    hidden = await harness.last("/imagine a lighthouse")
    await harness.say("/settings policy off", is_admin=True)
    shown = await harness.last("/imagine a harbour")
    assert hidden.images and hidden.spoiler and shown.images and not shown.spoiler


async def test_a_reroll_of_a_now_banned_prompt_is_refused(harness: Harness) -> None:
    """A word banned after the image was made refuses its reroll too."""
    await harness.last("/imagine a fox")
    await harness.say("/ban add fox", is_admin=True)
    reply = await harness.last("/reroll")
    assert reply.is_error and "banned" in reply.text


@pytest.mark.easel(
    providers=lambda: [ScriptedProvider("strict", errors=[Refused("policy", provider="strict")])]
)
async def test_ban_refused_lists_what_a_provider_refused_too(harness: Harness) -> None:
    """A prompt the provider refused shows in "/ban refused" with its generation and provider."""
    await harness.say("/imagine a lighthouse at night")
    text = (await harness.last("/ban refused", is_admin=True)).text
    assert "refused by the provider · a lighthouse at night" in text


def test_the_policy_off_asks_providers_for_low_moderation() -> None:
    """build_request: policy off → moderation "low"; safe or unset → the provider's default."""
    from bot.core.generation.requests import Defaults, build_request
    from bot.core.messages import GenerationOptions
    from bot.core.types import SQUARE

    defaults = Defaults(aspect=SQUARE, max_images=4)
    made = [
        build_request("a fox", GenerationOptions(), settings, defaults, seed=1).moderation
        for settings in ({"policy": "off"}, {"policy": "safe"}, {})
    ]
    assert made == ["low", None, None]
