"""The per-token call limit counted in the database: within the limit every call passes, over it each call is
refused until the minute ends, a new minute starts over, two processes on one database count together, and
parallel calls are counted exactly (no lost update)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import RateLimitedError
from mcp_storyboard.services.users.rate_limits import RateLimiter

START = datetime(2026, 12, 1, 12, 0, 10, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


async def passes(limiter: RateLimiter, key: str, per_minute: int) -> bool:
    try:
        await limiter.check(key, per_minute)
    except RateLimitedError:
        return False
    return True


async def test_calls_over_the_limit_are_refused_until_the_next_minute(db: Database) -> None:
    clock = Clock()
    limiter = RateLimiter(db, clock=clock)
    assert [await passes(limiter, "t1", 3) for _ in range(5)] == [True, True, True, False, False]
    assert await passes(limiter, "t2", 3)  # another token has its own count
    with pytest.raises(RateLimitedError, match="made 6 tool calls this minute; the limit is 3") as refused:
        await limiter.check("t1", 3)
    assert refused.value.hint is not None and "wait 50 s" in refused.value.hint
    clock.now = START + timedelta(minutes=1)
    assert [await passes(limiter, "t1", 3) for _ in range(4)] == [True, True, True, False]
    assert await passes(limiter, "t1", 0)  # 0: no limit, nothing counted


async def test_two_processes_on_one_database_count_together(db: Database) -> None:
    clock = Clock()
    one, two = RateLimiter(db, clock=clock), RateLimiter(db, clock=clock)
    outcomes = [await passes(limiter, "t", 4) for limiter in (one, two, one, two, one)]
    assert outcomes == [True, True, True, True, False]


async def test_parallel_calls_are_counted_exactly(db: Database) -> None:
    if db.backend == "memory":
        pytest.skip("memory:// (mongomock) never interleaves calls")
    for round_ in range(5):
        clock = Clock()
        clock.now = START + timedelta(minutes=round_)
        limiters = [RateLimiter(db, clock=clock) for _ in range(4)]
        outcomes: list[bool] = []

        async def call(limiter: RateLimiter) -> None:
            outcomes.append(await passes(limiter, f"race-{round_}", 10))

        async with anyio.create_task_group() as tg:
            for n in range(24):
                tg.start_soon(call, limiters[n % 4])
        assert outcomes.count(True) == 10, f"round {round_}: {outcomes.count(True)} calls passed a limit of 10"
