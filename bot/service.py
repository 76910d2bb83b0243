"""The composition root: adapters, pollers, the digest scheduler and the outbox sender.

Every loop sleeps on the injected Clock, so tests drive time; a watchdog restarts a loop
that stops making progress and says so in the log (a silent stall is the worst failure).

Many services may share one PostgreSQL store (`bot.fleet`): feed polls and digest builds are
claimed with renewed leases, and a cron digest fires on the one worker whose compare-and-set
of the channel's schedule anchor succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib.metadata import entry_points

from bot.app import App
from bot.commands import CommandHandlers
from bot.config import Secrets, Settings
from bot.digest.schedule import is_immediate, next_fire
from bot.fleet import HEARTBEAT, Fleet
from bot.ingest import PollOutcome
from bot.outbox import Sender
from bot.policy import policy_for
from bot.ports import ChatAdapter, Clock
from bot.store import ChannelRow, DatabaseUnavailable

log = logging.getLogger(__name__)
TICK = 1.0  # seconds between loop checks
STALL_AFTER = 600.0  # a loop silent this long (clock seconds) is restarted
DRAIN_SECONDS = 15.0  # how long a stop waits for the sender to finish the digest in hand
FIRST_POLL_WAIT = 120.0  # real seconds the scheduler waits for the first poll round at start


class AdapterLoadError(Exception):
    pass


def load_adapter(name: str, settings: Settings, secrets: Secrets, clock: Clock) -> ChatAdapter:
    found = [ep for ep in entry_points(group="newsdigest.adapters") if ep.name == name]
    if not found:
        raise AdapterLoadError(f"no adapter named {name!r} is installed")
    factory = found[0].load()
    return factory(settings, secrets, clock)


def wanted_adapters(settings: Settings, secrets: Secrets) -> list[str]:
    if settings.bot.adapters is not None:
        return list(settings.bot.adapters)
    names = []
    if secrets.discord_token:
        names.append("discord")
    if secrets.slack_bot_token or settings.slack.mode == "oauth" or settings.slack.client_id:
        names.append("slack")
    refs = {c.ref for c in settings.channels} | {r for f in settings.feeds for r in f.channels}
    if not names or "console" in refs:
        names.append("console")
    return names


class Service:
    def __init__(self, settings: Settings, secrets: Secrets | None = None, db_path: str | None = None, *,
                 clock: Clock | None = None, adapters: list[ChatAdapter] | None = None, fetcher=None,
                 workers=None) -> None:
        self.settings = settings
        self.secrets = secrets or Secrets()
        self.app = App(settings, db_path, clock=clock, fetcher=fetcher, workers=workers)
        self.clock = self.app.clock
        self.store = self.app.store
        self._given_adapters = adapters
        self.adapters: dict[str, ChatAdapter] = {}
        self.fleet = Fleet(self.store, self.clock, lease=settings.bot.lease_seconds)
        self.sender = Sender(self.store, self.adapters, self.clock, self.fleet)
        self.commands = CommandHandlers(self.app, on_digest=self.sender.wakeup.set)
        self._tasks: dict[str, asyncio.Task] = {}
        self._beats: dict[str, object] = {}
        self._stopping = asyncio.Event()
        self._first_poll = asyncio.Event()  # set once the feeds due at start were polled
        self._wanted: set[int] = set()  # channels whose build another worker held: tried again next tick
        self._touched: set[int] = set()  # feeds with new items whose immediate digests wait for the builder
        self._build_wakeup = asyncio.Event()

    async def start(self) -> None:
        await self.app.open()
        await self.app.workers.warm()
        await self.fleet.sole_worker_start()
        await self.fleet.heartbeat()
        adapters = self._given_adapters
        if adapters is None:
            adapters = [load_adapter(n, self.settings, self.secrets, self.clock)
                        for n in wanted_adapters(self.settings, self.secrets)]
        for adapter in adapters:
            use_store = getattr(adapter, "use_store", None)
            if callable(use_store):  # adapters with per-workspace state (Slack installs) keep it in our store
                use_store(self.store)
            join = getattr(adapter, "join_fleet", None)
            if callable(join):  # e.g. Discord: one worker registers commands, the REST budget is shared
                join(self.fleet)
            try:
                await adapter.start(self.commands)
            except BaseException:
                with contextlib.suppress(Exception):
                    await adapter.stop()  # release whatever it opened before failing
                raise
            self.adapters[adapter.platform] = adapter
            log.info("%s adapter started", adapter.platform)
        for name, loop in self._loops().items():
            self._spawn(name, loop)
        self._spawn("watchdog", self._watchdog)
        self._spawn("heartbeat", self._heartbeat)

    async def stop(self) -> None:
        self._stopping.set()
        self.sender.stopping.set()
        self.sender.wakeup.set()
        sender = self._tasks.get("sender")
        if sender is not None:  # drain: a digest being posted is finished and marked, not cut off
            await asyncio.wait([sender], timeout=DRAIN_SECONDS)
        for task in self._tasks.values():
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for adapter in self.adapters.values():
            with contextlib.suppress(Exception):
                await adapter.stop()
        await self.app.close()

    async def run_forever(self) -> None:
        try:  # a failed start (bad token) still closes the pool, the store and started adapters
            await self.start()
            await self._stopping.wait()
        finally:
            await self.stop()

    def request_stop(self) -> None:
        self._stopping.set()

    # ---- loops ---------------------------------------------------------------------
    def _loops(self) -> dict[str, Callable[[], Awaitable[None]]]:
        return {"poller": self._poll_loop, "scheduler": self._schedule_loop, "sender": self._send_loop,
                "builder": self._build_loop}

    def _spawn(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        self._beats[name] = self.clock.now()
        self._tasks[name] = asyncio.create_task(self._guard(name, loop), name=f"newsdigest-{name}")

    async def _guard(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable as exc:  # the store reconnects by itself; no traceback
                log.warning("the %s loop lost the database (%s); restarting it", name, exc)
                await self.clock.sleep(TICK)
            except Exception:
                log.exception("the %s loop crashed; restarting it", name)
                await self.clock.sleep(TICK)

    def _beat(self, name: str) -> None:
        self._beats[name] = self.clock.now()

    async def _watchdog(self) -> None:
        while not self._stopping.is_set():
            await self.clock.sleep(TICK)
            now = self.clock.now()
            for name, loop in self._loops().items():
                last = self._beats.get(name, now)
                if (now - last).total_seconds() > STALL_AFTER:  # type: ignore[operator]
                    log.error("the %s loop made no progress for %.0f s; restarting it", name,
                              (now - last).total_seconds())  # type: ignore[operator]
                    self._tasks[name].cancel()
                    self._spawn(name, loop)

    async def _heartbeat(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(Exception):
                await self.fleet.heartbeat()
            await asyncio.sleep(HEARTBEAT)

    async def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            self._beat("poller")
            due = await self.fleet.claim_feeds()  # leased: no other worker polls these meanwhile
            if due:
                async with self.fleet.polling(due):
                    outcomes = await self.app.ingest(due)
                await self._after_poll(outcomes)
                if len(due) >= self.fleet.claim_limit():
                    continue  # more may be due right now
            self._first_poll.set()
            await self.clock.sleep(TICK)

    async def _after_poll(self, outcomes: list[PollOutcome]) -> None:
        for outcome in outcomes:
            if outcome.disabled:
                for channel in await self.store.catalog.feed_channels(outcome.feed.id):
                    name = outcome.feed.title or outcome.feed.url
                    await self.app.notify(channel.id, f"Feed {name} (#{outcome.feed.id}) was disabled: "
                                          f"{outcome.disabled}. A channel manager can re-subscribe to enable it.")
        touched = {o.feed.id for o in outcomes if o.new}
        if touched and self.fleet.shared:  # many workers: poll on while the builder loop builds
            self._touched |= touched
            self._build_wakeup.set()
        elif touched:
            await self._immediate_digests(touched)
        self.sender.wakeup.set()

    async def _immediate_digests(self, feed_ids: set[int]) -> None:
        for channel in await self.store.catalog.all_channels():
            if not is_immediate(policy_for(channel, self.settings).schedule):
                continue
            feeds = {f.id for f in await self.store.catalog.channel_feeds(channel.id)}
            if feeds & feed_ids:
                await self._build(channel)

    async def _build(self, channel: ChannelRow) -> object:
        """Build the channel's digest holding its build lease. While another worker builds it, the
        channel is tried again next tick: that build may have started before our articles landed."""
        built = await self.fleet.build(channel.id, lambda: self.app.digests.make(channel))
        if built is self.fleet.BUSY:
            self._wanted.add(channel.id)
            return None
        return built

    async def _build_loop(self) -> None:
        """With a shared store, immediate digests are built here, not in the poller, so one
        worker's polling is never held up by summarizing (other workers may poll meanwhile)."""
        while not self._stopping.is_set():
            self._beat("builder")
            self._build_wakeup.clear()
            touched, self._touched = self._touched, set()
            if touched:
                try:
                    await self._immediate_digests(touched)
                except BaseException:
                    self._touched |= touched  # not lost: the restarted loop builds them
                    raise
                self.sender.wakeup.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK):
                    await self._build_wakeup.wait()
            await self.clock.sleep(0)

    async def _retry_wanted(self) -> None:
        for channel_id in sorted(self._wanted):
            self._wanted.discard(channel_id)
            channel = await self.store.catalog.channel_by_id(channel_id)
            if channel is not None and await self._build(channel):
                self.sender.wakeup.set()

    async def _schedule_loop(self) -> None:
        # a digest that fell due while we were down must carry what arrived meanwhile: without
        # this wait it fires before the first poll, finds nothing and moves on to tomorrow
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FIRST_POLL_WAIT):
                await self._first_poll.wait()
        # at start, anything left undelivered for immediate channels goes out (crash recovery)
        for channel in await self.store.catalog.all_channels():
            if is_immediate(policy_for(channel, self.settings).schedule):
                await self._build(channel)
        self.sender.wakeup.set()
        while not self._stopping.is_set():
            self._beat("scheduler")
            await self._retry_wanted()
            now = self.clock.now()
            for channel in await self.store.catalog.all_channels():
                try:
                    await self._scheduled_digest(channel, now)
                except Exception:  # one channel's problem must not stop every other channel's digests
                    log.exception("scheduled digest for %s failed", channel.ref)
            await self.clock.sleep(TICK)

    async def _scheduled_digest(self, channel: ChannelRow, now: datetime) -> None:
        policy = policy_for(channel, self.settings)
        if is_immediate(policy.schedule):
            return
        fire = next_fire(policy.schedule, policy.timezone, channel.schedule_anchor or now)
        if fire is not None and fire <= now:
            # compare-and-set: of all workers that saw it due, exactly one moves the anchor and fires
            if not await self.store.leases.advance_anchor(channel.id, channel.schedule_anchor, now):
                return
            if await self.app.digests.make(channel):
                self.sender.wakeup.set()

    async def _send_loop(self) -> None:
        while not self._stopping.is_set():
            self._beat("sender")
            self.sender.wakeup.clear()
            await self.sender.send_due()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK):
                    await self.sender.wakeup.wait()
            await self.clock.sleep(0)
