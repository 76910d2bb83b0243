"""Per-channel pacing for chat.postMessage (Slack allows about one message per second per channel).

slack_sdk never throttles on its own, so the adapter spaces posts itself. Real monotonic time
is used on purpose: this is Slack's wall-clock rate limit, not the bot's business clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ChannelPacer:
    """`async with pacer.slot(channel):` waits for the channel's turn and keeps posts in order."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second
        self._locks: dict[str, asyncio.Lock] = {}
        self._next: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            wait = self._next.get(channel, 0.0) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._next[channel] = loop.time() + self.interval

    def hold(self, channel: str, seconds: float) -> None:
        """Push the channel's next turn back (after a 429 the library did not wait out)."""
        loop = asyncio.get_running_loop()
        self._next[channel] = max(self._next.get(channel, 0.0), loop.time() + seconds)
