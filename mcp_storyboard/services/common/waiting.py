"""Waiting for a queued job or batch to finish: poll it with backoff until it is final or the time is up, telling
the caller each time its state moved (the wait tools report that as progress)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from mcp_storyboard.errors import ValidationError

T = TypeVar("T")
MAX_WAIT_SECONDS = 300.0
FIRST_POLL_SECONDS = 0.1
LONGEST_POLL_SECONDS = 2.0
"""Polls 100 ms after the start, then 1.5 times later each time, at most every 2 s."""


def check_timeout(timeout: float) -> None:
    """Raises: ValidationError: ``timeout`` outside 0–300 seconds."""
    if not 0 <= timeout <= MAX_WAIT_SECONDS:
        raise ValidationError("timeout", f"must be between 0 and {MAX_WAIT_SECONDS:g} seconds, not {timeout}")


async def poll_until_finished(
    fetch: Callable[[], Awaitable[T]],
    *,
    finished: Callable[[T], bool],
    state: Callable[[T], Hashable],
    timeout: float,
    on_progress: Callable[[T], Awaitable[None]] | None = None,
) -> tuple[T, bool]:
    """``(last read, whether it finished)``: ``fetch`` polled until ``finished`` or ``timeout`` seconds pass;
    ``on_progress`` gets each read whose ``state`` differs from the one before.

    Raises:
        ValidationError: ``timeout`` outside 0–300 seconds.
        whatever ``fetch`` raises (e.g. NotFoundError once the job is deleted).
    """
    check_timeout(timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = FIRST_POLL_SECONDS
    seen: Hashable = object()
    while True:
        current = await fetch()
        if on_progress is not None and state(current) != seen:
            seen = state(current)
            await on_progress(current)
        done = finished(current)
        left = deadline - loop.time()
        if done or left <= 0:
            return current, done
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 1.5, LONGEST_POLL_SECONDS)
