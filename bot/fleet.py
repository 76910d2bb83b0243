"""This worker's place in the fleet: its lease name, leases renewed while work runs, and roles.

Any number of `newsdigest run` processes may share one PostgreSQL store. Each names itself
`host:pid:token` (a PID alone repeats across machines and containers) and claims each piece of
work — a batch of due feeds, a channel's digest build, a digest to post — with a lease that it
renews while the work runs; a lease that lapses (the worker was killed or hung) is taken over.
With SQLite there is one process, and the same code simply always wins its claims.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from bot import defaults
from bot.ports import Clock
from bot.store import FeedRow, Store

log = logging.getLogger(__name__)
HEARTBEAT = 10.0  # seconds between a worker's "alive" renewals
ALIVE_FOR = 30.0  # a worker not heard from this long no longer counts (e.g. for the REST budget share)
Renew = Callable[[datetime], Awaitable[object]]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class LeaseLost(Exception):
    """Another worker took over work we held (our lease lapsed): stop without marking anything."""


class Fleet:
    BUSY = object()  # what `build` returns while another worker holds the build

    def __init__(self, store: Store, clock: Clock, name: str | None = None,
                 lease: float = defaults.LEASE_SECONDS) -> None:
        self.store = store
        self.clock = clock
        self.name = name or worker_name()
        self.lease = lease

    @property
    def shared(self) -> bool:
        """True when other processes, possibly on other hosts, may share the store."""
        return not self.store.db.single_host

    def until(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    @asynccontextmanager
    async def renewing(self, renew: Renew, seconds: float) -> AsyncIterator[asyncio.Event]:
        """Renew a lease every third of its length while the block runs; the event is set
        when a renewal found the lease gone (taken over), so the work can stop."""
        lost = asyncio.Event()

        async def keep() -> None:
            while True:
                await asyncio.sleep(seconds / 3)
                try:
                    held = await renew(self.until(seconds))
                except Exception:  # a renewal that fails (database away) is tried again next time
                    log.debug("lease renewal failed", exc_info=True)
                    continue
                if held is False:
                    lost.set()
                    return

        task = asyncio.create_task(keep(), name="newsdigest-lease")
        try:
            yield lost
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---- feeds -------------------------------------------------------------------------
    def claim_limit(self) -> int:
        return defaults.POLL_CLAIM if self.shared else 1_000_000  # alone: the whole round at once

    async def claim_feeds(self) -> list[FeedRow]:
        now = self.clock.now()
        return await self.store.leases.claim_due_feeds(self.name, now, self.until(self.lease), self.claim_limit())

    @asynccontextmanager
    async def polling(self, feeds: list[FeedRow]) -> AsyncIterator[None]:
        ids = [f.id for f in feeds]
        leases = self.store.leases
        try:
            async with self.renewing(lambda until: leases.renew_feeds(ids, self.name, until), self.lease):
                yield
        finally:
            with contextlib.suppress(Exception):  # a lease left behind lapses by itself
                await asyncio.shield(leases.release_feeds(ids, self.name))

    # ---- digest builds ----------------------------------------------------------------
    async def build(self, channel_id: int, make: Callable[[], Awaitable[object]]) -> object:
        """Run `make` holding the channel's build lease; `BUSY` when another worker builds it."""
        leases = self.store.leases
        if not await leases.claim_build(channel_id, self.name, self.clock.now(), self.until(self.lease)):
            return self.BUSY
        try:
            async with self.renewing(lambda until: leases.renew_build(channel_id, self.name, until), self.lease):
                return await make()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(leases.release_build(channel_id, self.name))

    # ---- roles and liveness -------------------------------------------------------------
    async def claim_role(self, role: str, seconds: float) -> bool:
        return await self.store.leases.claim_role(role, self.name, self.clock.now(), self.until(seconds))

    async def sole_worker_start(self) -> None:
        """With SQLite one `run` owns the file: leases a crashed earlier run left are void."""
        if not self.shared:
            await self.store.leases.release_all()

    async def heartbeat(self) -> None:
        await self.claim_role(f"worker:{self.name}", ALIVE_FOR)

    async def request_slot(self, bucket: str, per_second: int) -> None:
        """Wait for one of the fleet's `per_second` request slots (a sliding one-second window
        kept in the store, so it holds for all workers together, not for each)."""
        while (wait := await self.store.leases.take_slot(bucket, per_second)) > 0:
            await asyncio.sleep(wait)

    async def workers_alive(self) -> int:
        return max(1, len(await self.store.leases.holders("worker:", self.clock.now())))
