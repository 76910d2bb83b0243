"""The outbox sender: posts recorded digests and notices through the adapters.

Each rendered part is marked sent right after the platform confirms it, so a crash
resends only unconfirmed parts, with the same nonce (Discord then returns the existing
message instead of posting again). Failures are retried with backoff; permanent ones
(missing access, unknown channel) are recorded on the channel and reported, never dropped.

With many workers on PostgreSQL a digest is leased for a short time and the lease renewed
after every part and in the background while posting; a worker that finds its lease taken
over stops before the next part (the other worker resends only unconfirmed parts).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot import defaults
from bot.digest.compose import digest_from_json
from bot.fleet import Fleet, LeaseLost
from bot.models import Notice
from bot.ports import ChatAdapter, Clock, DeliveryError
from bot.store import PendingDigest, Store

log = logging.getLogger(__name__)
LEASE = 600.0  # seconds a sender holds a digest it is posting (one host: a dead PID frees it at once)
GIVE_UP_AFTER = 8  # unexpected (non-delivery) errors in a row before a digest is set aside


def nonce_for(digest_id: int, part: int) -> str:
    return f"nd{digest_id}p{part}"[:25]


class Sender:
    def __init__(self, store: Store, adapters: dict[str, ChatAdapter], clock: Clock,
                 fleet: Fleet | None = None) -> None:
        self.store = store
        self.adapters = adapters
        self.clock = clock
        self.wakeup = asyncio.Event()
        self.stopping = asyncio.Event()
        self._missing_warned: set[str] = set()
        self.last_progress = clock.now()
        self.fleet = fleet or Fleet(store, clock)
        self.owner = self.fleet.name
        self.lease = self.fleet.lease if self.fleet.shared else LEASE

    async def send_due(self) -> int:
        """Send every pending digest whose time has come; returns how many completed."""
        done = 0
        blocked: set[int] = set()  # a channel whose earlier digest failed waits, keeping order
        for pending in await self.store.ledger.pending():
            if self.stopping.is_set():
                break  # shutting down: finish the digest in hand, leave the rest for the next start
            if pending.channel_id in blocked:
                continue
            now = self.clock.now()
            if pending.next_attempt and pending.next_attempt > now:
                blocked.add(pending.channel_id)
                continue
            if await self._deliver(pending):
                done += 1
            else:
                blocked.add(pending.channel_id)
        self.last_progress = self.clock.now()
        return done

    async def _deliver(self, pending: PendingDigest) -> bool:
        channel = await self.store.catalog.channel_by_id(pending.channel_id)
        if channel is None:
            return False
        adapter = self.adapters.get(channel.ref.platform)
        if adapter is None:
            if channel.ref.platform not in self._missing_warned:
                self._missing_warned.add(channel.ref.platform)
                log.warning("digests for %s wait: the %s adapter is not running (missing token?)",
                            channel.ref, channel.ref.platform)
            return False
        now = self.clock.now()
        ledger = self.store.ledger
        if not await ledger.claim(pending.id, self.owner, now, now + timedelta(seconds=self.lease)):
            return False  # another running newsdigest is sending it
        try:
            async with self.fleet.renewing(lambda until: ledger.renew(pending.id, self.owner, until),
                                           self.lease) as lost:
                await self._post(adapter, channel.ref, pending, lost)
        except LeaseLost:
            log.warning("digest %d for %s was taken over by another worker; leaving it to that one",
                        pending.id, channel.ref)
            return False
        except DeliveryError as exc:
            await self._retry_later(pending, channel.id, str(channel.ref), exc)
            return False
        except Exception as exc:  # an adapter bug must not stop the sender for every channel
            log.exception("sending digest %d to %s failed unexpectedly", pending.id, channel.ref)
            if pending.attempts + 1 >= GIVE_UP_AFTER:
                log.error("giving up digest %d for %s after %d attempts; its items stay recorded as pending",
                          pending.id, channel.ref, pending.attempts + 1)
                await self.store.ledger.mark_failed(pending.id, f"{exc.__class__.__name__}: {exc}")
                return True
            await self._retry_later(pending, channel.id, str(channel.ref), DeliveryError(str(exc) or "error"))
            return False
        await self.store.ledger.mark_sent(pending.id, self.clock.now())
        if channel.last_error:
            await self.store.catalog.set_channel_error(channel.id, None)
        return True

    async def _post(self, adapter: ChatAdapter, ref, pending: PendingDigest,  # noqa: ANN001 - a ChannelRef
                    lost: asyncio.Event) -> None:
        if pending.kind == "notice":
            parts = adapter.render_notice(Notice(ref, pending.payload["text"]))
        else:
            parts = adapter.render_digest(digest_from_json(pending.payload, pending.id))
        for index, payload in enumerate(parts):
            if index in pending.sent_parts:
                continue
            if lost.is_set() or (self.fleet.shared and index and not await self.store.ledger.renew(
                    pending.id, self.owner, self.clock.now() + timedelta(seconds=self.lease))):
                raise LeaseLost
            sent = await adapter.send(ref, payload, nonce=nonce_for(pending.id, index))
            # posted: the mark must land even if we are being cancelled right now
            await asyncio.shield(self.store.ledger.mark_part_sent(pending.id, index, sent.message_id,
                                                                  self.clock.now()))

    async def _retry_later(self, pending: PendingDigest, channel_id: int, ref: str, exc: DeliveryError) -> None:
        delay = min(defaults.SEND_RETRY_MAX, defaults.SEND_RETRY_BASE * 2 ** pending.attempts)
        if exc.permanent:
            delay = max(delay, 300.0)
        if exc.retry_after is not None:
            delay = max(exc.retry_after, 0.5)
        message = str(exc)
        log.warning("delivery to %s failed (%s); retrying in %.0f s", ref, message, delay)
        if exc.permanent:
            await self.store.catalog.set_channel_error(channel_id, message)
        await self.store.ledger.mark_retry(pending.id, message, self.clock.now() + timedelta(seconds=delay))
