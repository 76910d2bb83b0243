"""Polling one feed: read or fetch it, parse it off the loop, store what is new, and keep
the feed's health (backoff after failures, disabled with a notice after too many)."""

from __future__ import annotations

import logging
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot import defaults
from bot.net import FetchError, HTTPStatusError
from bot.pipeline.dedupe import canonical_url, content_hash
from bot.policy import policy_for
from bot.sources.common import FeedParseError
from bot.sources.location import is_local_source
from bot.store import FeedRow, NewEntry, Store
from bot.store.catalog import PollSuccess
from bot.workers import Workers, WorkerTimeout, parse_source, read_local

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.ports import Clock

# The event loop's process never imports a parser: `parse_source` and `read_local` are the
# worker-side jobs of bot.workers (feedparser, lxml and trafilatura load in the workers only).
__all__ = ["Ingestor", "PollOutcome", "is_local_source", "parse_source", "read_local"]
log = logging.getLogger(__name__)
PARSE_TIMEOUT = 60.0


def _local_source_errors() -> tuple[type[Exception], ...]:
    """LocalSourceError when its module is loaded. An instance cannot exist otherwise
    (unpickling one from a worker imports the module), so this is an exact test."""
    files = sys.modules.get("bot.sources.files")
    return (files.LocalSourceError,) if files is not None else ()


def _clean_inline(text: str, limit: int) -> str:
    from bot.sources.text import clean_inline  # lxml: only when a feed fails

    return clean_inline(text, limit)


@dataclass(slots=True)
class PollOutcome:
    feed: FeedRow
    new: int = 0
    error: str | None = None
    disabled: str | None = None
    not_modified: bool = False


class Ingestor:
    def __init__(self, settings: Settings, store: Store, fetcher, workers: Workers, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.workers = workers
        self.clock = clock

    async def poll(self, feed: FeedRow, unchanged: list[tuple] | None = None) -> PollOutcome:
        """Poll one feed. With `unchanged`, a 304's bookkeeping is appended there for the
        caller to write for a whole round in one commit (one fsync instead of hundreds)."""
        now = self.clock.now()
        etag = last_modified = None
        first = feed.last_success is None  # every entry is new: identify them all in the worker
        try:
            if is_local_source(feed.url):
                title, warning, rows = await self.workers.run(read_local, feed.url,
                                                              self.settings.fetch.max_page_bytes, now, first,
                                                              timeout=PARSE_TIMEOUT)
            else:
                fetched = await self.fetcher.fetch(feed.url, kind="feed", etag=feed.etag,
                                                   last_modified=feed.last_modified)
                if fetched.not_modified:
                    if unchanged is not None:
                        unchanged.append((feed.id, now, self._next_poll(now), fetched.etag, fetched.last_modified))
                    else:
                        await self.store.catalog.record_poll(feed.id, PollSuccess(
                            now, self._next_poll(now), fetched.etag, fetched.last_modified, None))
                    return PollOutcome(feed, not_modified=True)
                etag, last_modified = fetched.etag, fetched.last_modified
                title, warning, rows = await self.workers.run(parse_source, fetched.body, fetched.url,
                                                              fetched.content_type, fetched.charset, now, first,
                                                              timeout=PARSE_TIMEOUT)
                del fetched  # the body is parsed: do not hold it while the store is busy
        except (FetchError, FeedParseError, WorkerTimeout, OSError, ValueError, *_local_source_errors()) as exc:
            return await self._record_failure(feed, now, exc)
        except Exception as exc:  # a bug on one odd feed backs that feed off instead of crash-looping the poller
            log.exception("polling feed %s failed unexpectedly", feed.id)
            return await self._record_failure(feed, now, exc)
        if warning:
            log.debug("feed %s parsed with a warning: %s", feed.id, warning)
        success = PollSuccess(now, self._next_poll(now), etag, last_modified, title)
        if unchanged is not None and (feed.title is not None or title is None):
            new = await self._store(feed, rows, now)
            # the same bookkeeping as a 304 (the title is only ever filled in when missing):
            # written with the round's other successes in one commit. The entries are
            # already committed; a crash before the round's commit only costs a refetch.
            unchanged.append((feed.id, now, success.next_poll, etag, last_modified))
        else:
            new = await self._store(feed, rows, now, success)
        if new:
            log.info("feed %s (%s): %d new item(s)", feed.id, feed.title or feed.url, new)
        return PollOutcome(feed, new=new)

    async def _store(self, feed: FeedRow, rows: list[tuple], now: datetime, success: PollSuccess | None = None
                     ) -> int:
        """Store the rows this feed has not stored before; the known ones cost one query.
        With `success`, the poll's bookkeeping commits with them (one transaction, not two)."""
        known, unbaselined = await self.store.articles.poll_lookup(feed.id, [r[0] for r in rows])
        fresh = [
            NewEntry(key=key, canonical_url=canonical if digest else canonical_url(url), url=url, title=title,
                     published=published, text=text, content_hash=digest or content_hash(title, text),
                     is_teaser=is_teaser, author=author, categories=list(categories))
            for key, title, url, published, text, is_teaser, author, categories, canonical, digest in rows
            if key not in known
        ]
        backfill_for = {}  # new subscriptions (rare): their channels' backfill
        for channel_id in unbaselined:
            channel = await self.store.catalog.channel_by_id(channel_id)
            backfill_for[channel_id] = policy_for(channel, self.settings).backfill
        if not fresh and not backfill_for:
            if success is not None:
                await self.store.catalog.record_poll(feed.id, success)
            return 0
        record = None if success is None else partial(self.store.catalog.write_poll, feed_id=feed.id, success=success)
        return await self.store.articles.store_entries(feed.id, fresh, now, backfill_for, record)

    def _next_poll(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.bot.poll_interval * random.uniform(0.9, 1.1))

    async def _record_failure(self, feed: FeedRow, now: datetime, exc: Exception) -> PollOutcome:
        error = _clean_inline(str(exc), 300) or exc.__class__.__name__
        failures = feed.failures + 1
        delay = min(defaults.BACKOFF_MAX, defaults.BACKOFF_BASE * 2 ** (failures - 1))
        jitter = defaults.BACKOFF_JITTER
        next_poll = now + timedelta(seconds=delay * random.uniform(1 - jitter, 1 + jitter))
        disable = None
        if isinstance(exc, HTTPStatusError) and exc.status == 410:
            disable = "the feed is gone (HTTP 410)"
        elif failures >= self.settings.bot.disable_after_failures:
            disable = f"disabled after {failures} failed polls; last error: {error}"
        await self.store.catalog.record_failure(feed.id, now, next_poll, error, disable)
        log.warning("feed %s (%s) failed (%d in a row): %s", feed.id, feed.url, failures, error)
        return PollOutcome(feed, error=error, disabled=disable)
