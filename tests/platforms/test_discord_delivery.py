"""Discord delivery: the 15-minute token, lost interactions, missing permissions, 429s, upload limits."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image as PILImage

from bot.core.errors import Refused
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth, Reply, Target
from tests.fakes.discord_harness import RunningDiscord, picture, running_discord
from tests.fakes.discord_world import ATTACH_FILES, CHANNEL, EPHEMERAL, EVERYONE_PERMISSIONS, USER
from tests.fakes.scripted import ScriptedProvider

NOISE_SIZE = (300, 200)


class NoisyProvider:
    """Makes incompressible PNGs (about 180 kB each), so upload limits bite."""

    name = "noisy"
    capabilities = Capabilities(edit=True, max_n=4, seed=True)

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        return [self._image(i) for i in range(request.n)]

    @staticmethod
    def _image(index: int) -> Image:
        width, height = NOISE_SIZE
        noise = random.Random(index).randbytes(width * height * 3)
        buffer = io.BytesIO()
        PILImage.frombytes("RGB", NOISE_SIZE, noise).save(buffer, format="PNG")
        return Image(buffer.getvalue(), "image/png", width, height, seed=index, provider="noisy", model="n1")

    async def check(self) -> ProviderHealth:
        return ProviderHealth(ok=True)

    async def aclose(self) -> None:
        pass


NOISE_BYTES = len(NoisyProvider._image(0).data)


@pytest.fixture
async def gate() -> asyncio.Event:
    return asyncio.Event()


@pytest.fixture
async def gated(tmp_path: Path, gate: asyncio.Event) -> AsyncIterator[RunningDiscord]:
    """A bot whose provider waits for ``gate``."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}"
    async with running_discord(tmp_path, url, providers=[ScriptedProvider(gate=gate)]) as running:
        yield running


@pytest.fixture
async def noisy(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}"
    async with running_discord(tmp_path, url, providers=[NoisyProvider()]) as running:
        yield running


async def job_status(bot: RunningDiscord, job_id: int, within_s: float = 10.0) -> str:
    """The job's status once it is no longer open (queued/running/generated)."""
    for _ in range(int(within_s / 0.02)):
        job = await bot.easel.jobs.get_job(job_id=job_id)
        if job is not None and job.status not in ("queued", "running", "generated"):
            return str(job.status)
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job_id} is still open")


def channel_results(bot: RunningDiscord) -> list[dict[str, object]]:
    return [
        m for m in bot.dc.channel_messages(CHANNEL) if m["attachments"] and "interaction_metadata" not in m
    ]


async def test_a_job_outliving_the_token_is_posted_to_the_channel(
    gated: RunningDiscord, gate: asyncio.Event
) -> None:
    """Finished 16 minutes after its interaction (by the injected clock), the result goes to the channel."""
    it = gated.dc.slash("imagine", {"prompt": "a slow fox"})
    await gated.dc.wait_for(lambda: it.response_type == 5)
    gated.clock.advance(minutes=16)
    gate.set()
    await gated.dc.wait_for(lambda: channel_results(gated))
    posted = channel_results(gated)[0]
    assert f"<@{USER}>" in posted["content"] and gated.dc.custom_ids(posted)
    original = gated.dc.original(it)
    assert original is not None and not original["attachments"]


async def test_a_token_discord_no_longer_accepts_falls_back_to_the_channel(
    gated: RunningDiscord, gate: asyncio.Event
) -> None:
    """When editing the original answers 401 Invalid Webhook Token, the result is posted to the channel."""
    it = gated.dc.slash("imagine", {"prompt": "a slow fox"})
    await gated.dc.wait_for(lambda: it.response_type == 5)
    gated.dc.expire(it)
    gate.set()
    await gated.dc.wait_for(lambda: channel_results(gated))


async def test_missing_permissions_are_explained_to_the_invoker(
    gated: RunningDiscord, gate: asyncio.Event
) -> None:
    """403 Missing Permissions on the original response → an ephemeral explanation, once."""
    it = gated.dc.slash("imagine", {"prompt": "a fox"})
    await gated.dc.wait_for(lambda: it.response_type == 5)
    gated.dc.fail_next("original", 403, code=50013, times=50)
    gate.set()
    await gated.dc.wait_for(lambda: gated.dc.followups(it))
    notices = gated.dc.followups(it)
    assert (
        len(notices) == 1
        and notices[0]["flags"] & EPHEMERAL
        and "missing permissions" in notices[0]["content"]
    )
    assert await job_status(gated, 1) == "failed"  # the result could not be delivered: failed, user told


async def test_a_429_is_retried_by_discord_py(gated: RunningDiscord, gate: asyncio.Event) -> None:
    """A 429 (with Via and retry_after) on the result edit is slept on and retried; the result arrives."""
    it = gated.dc.slash("imagine", {"prompt": "a fox"})
    await gated.dc.wait_for(
        lambda: it.response_type == 5 and gated.dc.original(it) and gated.dc.original(it)["content"]
    )
    gated.dc.fail_next("original", 429, retry_after=0.05, uploads_only=True)
    gate.set()
    await gated.result_of(it)
    assert not gated.dc.faults


async def test_an_image_over_the_upload_limit_is_re_encoded(noisy: RunningDiscord) -> None:
    """With attachment_size_limit below the PNG's size, a smaller JPEG is uploaded instead."""
    limit = NOISE_BYTES // 2
    it = noisy.dc.slash("imagine", {"prompt": "static"}, filesize_limit=limit)
    message = await noisy.result_of(it)
    data = noisy.dc.file_bytes(message["attachments"][0])
    assert len(data) <= limit and picture(data).format == "JPEG"


async def test_images_over_the_upload_limit_together_are_split(noisy: RunningDiscord) -> None:
    """Three images that only fit two at a time arrive in the original response plus a followup."""
    it = noisy.dc.slash("imagine", {"prompt": "static", "count": 3}, filesize_limit=int(NOISE_BYTES * 2.5))
    message = await noisy.result_of(it)
    await noisy.dc.wait_for(lambda: noisy.dc.followups(it))
    counts = [len(message["attachments"])] + [len(m["attachments"]) for m in noisy.dc.followups(it)]
    assert counts == [2, 1]
    assert all(picture(noisy.dc.file_bytes(a)).format == "PNG" for a in message["attachments"])


@pytest.fixture
async def refusing(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}"
    refusal = Refused("policy", provider="scripted", user_message="The provider refused this prompt.")
    async with running_discord(tmp_path, url, providers=[ScriptedProvider(errors=[refusal])]) as running:
        yield running


async def test_a_failed_job_replaces_the_deferral_with_an_ephemeral_notice(refusing: RunningDiscord) -> None:
    """A refused prompt: the public "thinking" response goes away, the reason comes as an ephemeral."""
    it = refusing.dc.slash("imagine", {"prompt": "something forbidden"})
    await refusing.dc.wait_for(lambda: refusing.dc.followups(it))
    notice = refusing.dc.followups(it)[0]
    assert notice["flags"] & EPHEMERAL and "refused" in notice["content"]
    assert refusing.dc.original(it) is None


async def test_a_reply_over_2000_characters_is_split(noisy: RunningDiscord) -> None:
    """A 5,000-character answer arrives as the original response plus followups, none over 2000."""
    it = noisy.dc.slash("status")
    await noisy.dc.wait_for(lambda: noisy.dc.original(it) is not None)
    text = "\n".join(f"line {i:03} " + "x" * 60 for i in range(70))
    extra = {"token": it.token, "channel_id": str(CHANNEL), "issued_at": noisy.clock.now().timestamp()}
    ids = await noisy.adapter.send(Target("discord", str(CHANNEL), str(USER), extra=extra), Reply(text=text))
    original = noisy.dc.original(it)
    assert original is not None
    pieces = [original["content"]] + [m["content"] for m in noisy.dc.followups(it)]
    assert len(ids) == len(pieces) >= 3 and all(len(p) <= 2000 for p in pieces)
    assert "\n".join(pieces) == text


async def test_a_429_without_via_is_not_hidden(gated: RunningDiscord, gate: asyncio.Event) -> None:
    """A 429 discord.py cannot trust (no Via: Cloudflare) fails the delivery; the job waits, undelivered."""
    it = gated.dc.slash("imagine", {"prompt": "a fox"})
    await gated.dc.wait_for(lambda: (m := gated.dc.original(it)) is not None and "Generating" in m["content"])
    gated.dc.fail_next("original", 429, via=False, uploads_only=True)
    gate.set()
    await gated.dc.wait_for(lambda: not gated.dc.faults)
    job = await gated.easel.jobs.get_job(job_id=1)
    for _ in range(100):
        if job is not None and job.status != "running":
            break
        await asyncio.sleep(0.02)
        job = await gated.easel.jobs.get_job(job_id=1)
    assert job is not None and job.status == "generated"  # saved; delivered at the next start


async def test_a_channel_where_the_bot_cannot_attach_files_is_explained_first(noisy: RunningDiscord) -> None:
    """Without Attach Files in the channel, /imagine answers ephemerally what is missing; no job runs."""
    without_files = EVERYONE_PERMISSIONS & ~ATTACH_FILES
    it = noisy.dc.slash("imagine", {"prompt": "a fox"}, app_permissions=without_files)
    await noisy.dc.wait_for(lambda: noisy.dc.original(it) is not None)
    answer = noisy.dc.original(it)
    assert answer is not None and answer["flags"] & EPHEMERAL and "Attach Files" in answer["content"]
    assert await noisy.easel.jobs.get_job(job_id=1) is None
