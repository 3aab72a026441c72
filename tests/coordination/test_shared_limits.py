"""Request rates shared by replicas: the ``limits`` Redis storage under two independent limiters."""

from __future__ import annotations

import asyncio
import logging

import pytest
from limits.aio.storage import RedisStorage

from bot.coordination.state import SharedState
from bot.core.errors import LimitExceeded
from bot.core.jobs.limits import RateLimiter, Rates
from tests.coordination.redis_env import DEAD_REDIS_URL

WIDE = "1000/minute"


def limiter(state: SharedState, *, user: str = WIDE, chat: str = WIDE, overall: str = WIDE) -> RateLimiter:
    return RateLimiter(Rates(user=user, chat=chat, overall=overall), storage=state.rate_storage)


async def outcome(limiter: RateLimiter, *, user: str = "u1", chat: str = "c1") -> str:
    try:
        await limiter.admit(platform="telegram", chat_id=chat, user_id=user)
    except LimitExceeded as exc:
        return exc.scope
    return "admitted"


async def test_a_user_rate_holds_across_two_replicas(replicas: tuple[SharedState, SharedState]) -> None:
    """2/minute per user lets 2 of 4 requests through when they alternate between two replicas."""
    a, b = (limiter(state, user="2/minute") for state in replicas)
    results = [await outcome(replica) for replica in (a, b, a, b)]
    assert results == ["admitted", "admitted", "user", "user"]


async def test_simultaneous_requests_on_two_replicas_never_exceed_the_rate(
    replicas: tuple[SharedState, SharedState],
) -> None:
    """Ten requests at once, five per replica, against 3/minute: exactly three are admitted."""
    a, b = (limiter(state, user="3/minute") for state in replicas)
    results = await asyncio.gather(*(outcome(replica) for replica in (a, b) * 5))
    assert results.count("admitted") == 3 and results.count("user") == 7


async def test_a_chat_rate_counts_every_user_on_every_replica(
    replicas: tuple[SharedState, SharedState],
) -> None:
    """The chat window is shared too: two users on two replicas fill a chat's 2/minute."""
    a, b = (limiter(state, chat="2/minute") for state in replicas)
    results = [await outcome(a, user="u1"), await outcome(b, user="u2"), await outcome(a, user="u3")]
    assert results == ["admitted", "admitted", "chat"]


async def test_the_refusal_says_when_the_shared_window_frees(
    replicas: tuple[SharedState, SharedState],
) -> None:
    """A refusal on B for a window A filled gives the wait until A's request leaves the window."""
    a, b = (limiter(state, user="1/minute") for state in replicas)
    await a.admit(platform="telegram", chat_id="c1", user_id="u1")
    with pytest.raises(LimitExceeded) as caught:
        await b.admit(platform="telegram", chat_id="c1", user_id="u1")
    assert caught.value.retry_after is not None and 55 <= caught.value.retry_after <= 60
    assert "Try again in about" in caught.value.user_message


async def test_an_unreachable_redis_admits_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Rates are protection, not a reason to stop serving: no Redis, the request goes ahead, logged."""
    storage = RedisStorage(f"async+{DEAD_REDIS_URL}", implementation="redispy", wrap_exceptions=True)
    rates = RateLimiter(Rates(user="1/minute", chat=WIDE, overall=WIDE), storage=storage)
    with caplog.at_level(logging.WARNING, logger="bot.core.jobs.limits"):
        assert await outcome(rates) == "admitted"
    assert "rate limits unavailable" in caplog.text and "hunter2" not in caplog.text


async def test_the_memory_default_needs_no_redis() -> None:
    """Without a storage the limiter counts in this process, as before: the third of 2/minute waits."""
    rates = RateLimiter(Rates(user="2/minute", chat=WIDE, overall=WIDE))
    assert [await outcome(rates) for _ in range(3)] == ["admitted", "admitted", "user"]


async def test_equal_user_and_chat_rates_in_a_private_chat_count_once() -> None:
    """A private chat's id is its user's: the user and chat windows are still kept apart."""
    rates = RateLimiter(Rates(user="2/minute", chat="2/minute", overall=WIDE))
    results = [await outcome(rates, user="42", chat="42") for _ in range(3)]
    assert results == ["admitted", "admitted", "user"]


async def test_exempt_users_are_never_counted(replicas: tuple[SharedState, SharedState]) -> None:
    """An admin's requests neither wait nor fill the shared windows others are counted in."""
    state, _ = replicas
    rates = RateLimiter(
        Rates(user=WIDE, chat="1/minute", overall=WIDE), admins=["telegram:boss"], storage=state.rate_storage
    )
    assert [await outcome(rates, user="boss") for _ in range(3)] == ["admitted"] * 3
    assert await outcome(rates, user="u1") == "admitted"
