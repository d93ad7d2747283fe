"""The per-token limit on tool calls over HTTP: fixed one-minute windows counted in the database
(``repositories/rate_limits.py``), so every server process on it counts together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import RateLimitedError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.repositories.rate_limits import RateLimitRepository

WINDOW_SECONDS = 60


class RateLimiter:
    def __init__(self, database: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.repo = RateLimitRepository(database)
        self.clock = clock

    async def check(self, key: str, per_minute: int) -> None:
        """Count a call of ``key`` (an API token's id); ``per_minute`` 0 means no limit.

        Raises:
            RateLimitedError: the call is over the limit for this minute (it is still counted, so a client that
                keeps calling stays refused until the minute ends).
        """
        if per_minute <= 0:
            return
        now = self.clock().timestamp()
        window = int(now // WINDOW_SECONDS)
        calls = await self.repo.hit(key, window)
        if calls is not None and calls > per_minute:
            wait = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
            raise RateLimitedError(
                f"this API token made {calls} tool calls this minute; the limit is {per_minute} a minute",
                hint=f"wait {wait} s and call again, or ask an admin to raise STORYBOARD_RATE_LIMIT",
            )
