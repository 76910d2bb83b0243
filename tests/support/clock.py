"""A controllable clock for tests: time moves only when the test says so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class FakeClock:
    """`now()` returns the test's time; `sleep()` yields briefly without waiting for real.

    Loops that sleep on this clock spin quickly and see time jump when a test calls
    `advance()` or `set()`, so schedules can be tested without real waiting.
    """

    def __init__(self, start: datetime | None = None, tick: float = 0.01) -> None:
        self._now = start or datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
        self._tick = tick

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(self._tick if seconds > 0 else 0)

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        self._now += timedelta(seconds=seconds, **kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when
