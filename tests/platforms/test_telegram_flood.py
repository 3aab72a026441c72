"""Telegram's flood limits across replicas: two ``SharedFloodLimiter``s (own Redis clients) on one clock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.platforms.telegram.adapter import TelegramAdapter
from bot.platforms.telegram.flood import SharedFloodLimiter, Window
from bot.platforms.telegram.lanes import PriorityFloodLimiter
from bot.platforms.telegram.settings import TelegramSettings
from tests.coordination.redis_env import DEAD_REDIS_URL, REDIS_URL, redis_namespace
from tests.fakes.scripted import FakeTimer
from tests.fakes.telegram import TOKEN, FakeTelegram

WIDE: Window = (10_000, 1.0)
START = 1_700_000_000.0


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    async with redis_namespace() as prefix:
        yield prefix


@pytest.fixture
def wall() -> FakeTimer:
    """The replicas' wall clock; the limiters' sleeps advance it instead of waiting."""
    return FakeTimer(start=START)


class Replicas:
    """Two limiters for one bot token, as two replicas would have them; records when each call went out."""

    def __init__(self, namespace: str, wall: FakeTimer, **options: Any) -> None:
        self.wall = wall
        self.limiters = [
            SharedFloodLimiter(
                REDIS_URL, bot_id="123456", namespace=namespace, clock=wall.clock, sleep=wall.sleep, **options
            )
            for _ in range(2)
        ]
        self.sent: list[float] = []

    async def send(
        self, replica: int, chat_id: int | str | None, *, fail_with: list[Exception] | None = None
    ) -> Any:
        """One Bot API call through replica 0 or 1; ``fail_with`` errors are raised by the first tries."""
        errors = list(fail_with or [])

        async def call() -> bool:
            self.sent.append(round(self.wall.now - START, 3))  # ms, as the limiter counts
            if errors:
                raise errors.pop(0)
            return True

        data = {} if chat_id is None else {"chat_id": chat_id, "text": "hi"}
        return await self.limiters[replica].process_request(call, (), {}, "sendMessage", data, None)

    async def aclose(self) -> None:
        for limiter in self.limiters:
            await limiter.shutdown()


@pytest.fixture
async def make(namespace: str, wall: FakeTimer) -> AsyncIterator[Any]:
    made: list[Replicas] = []

    def build(**options: Any) -> Replicas:
        made.append(Replicas(namespace, wall, **options))
        return made[-1]

    yield build
    for replicas in made:
        await replicas.aclose()


async def test_thirty_a_second_overall_across_two_replicas(make: Any) -> None:
    """40 messages to 40 private chats, alternating replicas: 30 go at once, the other 10 a second later."""
    replicas = make()
    for n in range(40):
        await replicas.send(n % 2, 1000 + n)
    assert replicas.sent[:30] == [0.0] * 30
    assert all(1.0 <= t < 1.1 for t in replicas.sent[30:])


async def test_about_one_a_second_per_chat_across_replicas(make: Any) -> None:
    """Six messages to one private chat over two replicas: never more than 3 in 3 s."""
    replicas = make()
    for n in range(6):
        await replicas.send(n % 2, 42)
    assert replicas.sent[:3] == [0.0] * 3
    assert all(3.0 <= t < 3.1 for t in replicas.sent[3:])


async def test_twenty_a_minute_per_group_across_replicas(make: Any) -> None:
    """21 messages to one group (per-chat window widened): the 21st waits for the minute to pass."""
    replicas = make(per_chat=WIDE)
    for n in range(21):
        await replicas.send(n % 2, -100123)
    assert replicas.sent[:20] == [0.0] * 20
    assert 60.0 <= replicas.sent[20] < 60.1


async def test_a_channel_username_counts_as_a_group(make: Any) -> None:
    """An @username chat_id is a group or channel: the 20/minute window applies."""
    replicas = make(per_chat=WIDE, per_group=(1, 60.0))
    await replicas.send(0, "@easel_news")
    await replicas.send(1, "@easel_news")
    assert replicas.sent[1] >= 60.0


async def test_retry_after_on_one_replica_pauses_the_other(make: Any) -> None:
    """Telegram's "retry after 5" to replica A holds replica B's next message back as long."""
    replicas = make()
    with pytest.raises(RetryAfter):
        await replicas.send(0, 1, fail_with=[RetryAfter(5)])
    await replicas.send(1, 2)
    assert replicas.sent[0] == 0.0 and 5.1 <= replicas.sent[1] < 5.2


async def test_retry_after_is_retried_up_to_max_retries(make: Any) -> None:
    """With max_retries=2 two RetryAfter answers are waited out and the third try succeeds."""
    replicas = make(max_retries=2)
    assert await replicas.send(0, 1, fail_with=[RetryAfter(1), RetryAfter(1)]) is True
    assert len(replicas.sent) == 3 and replicas.sent[2] >= 2.2


async def test_retry_after_beyond_max_retries_is_raised(make: Any) -> None:
    """One RetryAfter more than max_retries reaches the caller (Easel's delivery handles it)."""
    replicas = make(max_retries=1)
    with pytest.raises(RetryAfter):
        await replicas.send(0, 1, fail_with=[RetryAfter(1), RetryAfter(1)])
    assert len(replicas.sent) == 2


async def test_calls_without_a_chat_are_not_throttled(make: Any) -> None:
    """getMe and the like (no chat_id) never wait for the windows."""
    replicas = make(overall=(1, 1.0))
    for n in range(5):
        await replicas.send(n % 2, None)
    assert replicas.sent == [0.0] * 5


async def test_keys_name_the_bot_id_never_the_token(make: Any, namespace: str) -> None:
    """The windows live under <namespace>:telegram:<bot id>:, with a TTL; the token's secret is absent."""
    replicas = make()
    await replicas.send(0, -100123)
    client = Redis.from_url(REDIS_URL)
    try:
        keys = sorted([key.decode() async for key in client.scan_iter(match=f"{namespace}:*")])
        assert keys == [
            f"{namespace}:telegram:123456:{name}" for name in ("all", "chat:-100123", "group:-100123")
        ]
        assert all([await client.pttl(key) > 0 for key in keys])
    finally:
        await client.aclose()


async def test_an_unreachable_redis_sends_anyway(caplog: pytest.LogCaptureFixture) -> None:
    """Without Redis the message still goes out (Telegram's own RetryAfter protects the bot), logged."""
    limiter = SharedFloodLimiter(DEAD_REDIS_URL, bot_id="123456")

    async def call() -> bool:
        return True

    with caplog.at_level(logging.WARNING, logger="bot.platforms.telegram.flood"):
        assert await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None) is True
    await limiter.shutdown()
    assert "sending anyway" in caplog.text and "hunter2" not in caplog.text


async def test_a_real_bot_retries_telegrams_429_through_the_shared_limiter(
    namespace: str, wall: FakeTimer
) -> None:
    """python-telegram-bot drives the limiter: a 429 from the fake Bot API is waited out and resent."""
    async with FakeTelegram() as tg:
        tg.world.chat(7)
        limiter = SharedFloodLimiter(
            REDIS_URL, bot_id="123456", namespace=namespace, max_retries=1, clock=wall.clock, sleep=wall.sleep
        )
        bot = ExtBot(TOKEN, base_url=tg.base_url, rate_limiter=limiter)
        await bot.initialize()
        try:
            tg.fail_next("sendMessage", 429, retry_after=3)
            await bot.send_message(chat_id=7, text="hello")
        finally:
            await bot.shutdown()
    assert tg.texts(7) == ["hello"] and wall.sleeps and 3.1 <= sum(wall.sleeps) < 3.2


def test_the_adapter_shares_flood_control_only_with_a_redis_url() -> None:
    """TelegramAdapter(redis_url=...) uses SharedFloodLimiter; without one, this process's lanes."""
    settings = TelegramSettings(token=SecretStr(TOKEN))
    shared = TelegramAdapter(settings, redis_url=REDIS_URL).application.bot.rate_limiter
    local = TelegramAdapter(settings).application.bot.rate_limiter
    assert isinstance(shared, SharedFloodLimiter) and isinstance(local, PriorityFloodLimiter)
