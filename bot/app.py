"""The core's operations, shared by the CLI, chat commands and the running service:
add and remove feeds, poll, build digests, summarize a source. No loops, no adapters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings
from bot.models import ChannelRef, Digest
from bot.net import BadURL
from bot.policy import ChannelPolicy, policy_for
from bot.ports import Clock, SystemClock
from bot.sources.location import is_local_source, path_of
from bot.store import ChannelRow, FeedRow, Store
from bot.store.articles import baseline
from bot.workers import Workers

if TYPE_CHECKING:  # imported when first used: commands that make no digest never load numpy or re2
    from bot.digesting import DigestMaker
    from bot.ingest import Ingestor, PollOutcome
    from bot.net.fetch import Fetcher

log = logging.getLogger(__name__)
POLL_CONCURRENCY = 64


class UserError(Exception):
    """A request that cannot be done as asked; the message is for the user.
    `exit_code` 2 means the request itself was wrong, 1 that carrying it out failed."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(slots=True)
class SummaryResult:
    title: str | None
    url: str | None
    language: str
    algorithm: str
    sentences: list[str]

    def as_json(self) -> dict:
        return {"title": self.title, "url": self.url, "language": self.language, "algorithm": self.algorithm,
                "sentences": self.sentences}


class App:
    def __init__(self, settings: Settings, db_path: str | None = None, *, clock: Clock | None = None,
                 fetcher=None, workers: Workers | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.store = Store(db_path or settings.bot.database)
        if fetcher is not None:
            self.fetcher = fetcher
        self.workers = workers or Workers(settings.bot.worker_processes)

    # Made on first use, like `digests`: `feeds list` needs neither the fetcher nor the poller.
    @cached_property
    def fetcher(self) -> Fetcher:
        from bot.net.fetch import Fetcher

        return Fetcher(self.settings.fetch)

    @cached_property
    def ingestor(self) -> Ingestor:
        from bot.ingest import Ingestor

        return Ingestor(self.settings, self.store, self.fetcher, self.workers, self.clock)

    @cached_property
    def digests(self) -> DigestMaker:
        """Made on first use: story grouping (numpy) and filters (re2) are for digests only."""
        from bot.digesting import DigestMaker

        return DigestMaker(self.settings, self.store, lambda: self.fetcher, self.workers, self.clock)

    async def open(self) -> App:
        await self.store.open()
        await self.apply_config()
        return self

    async def close(self) -> None:
        try:
            if "fetcher" in self.__dict__:  # made, or given
                await self.fetcher.close()
        finally:
            try:
                await self.store.close()
            finally:
                self.workers.close()  # always: live worker processes would outlive us

    # ---- configuration -------------------------------------------------------------
    async def apply_config(self) -> None:
        """Config channels and feeds are made to exist; chat-made changes are kept."""
        now = self.clock.now()
        for ch in self.settings.channels:
            settings = ch.overrides()
            if self.settings.embedded_default:
                settings.setdefault("backfill", 10)
            await self.store.catalog.ensure_channel(ChannelRef.parse(ch.ref), now, **settings)
        for index, feed in enumerate(self.settings.feeds):
            try:
                url = self.normalize_source(feed.url, allow_local=True)
            except UserError as exc:
                raise ConfigError(f"feeds.{index}.url: {exc}") from None
            for ref in feed.channels:
                if await self.store.catalog.claim_config_item(f"feed {url} -> {ref}", now):
                    await self.add_feed(url, ChannelRef.parse(ref), title=feed.title, full_text=feed.full_text,
                                        allow_local=True, poll=False)
        await self._apply_config_filters(now)

    async def _apply_config_filters(self, now) -> None:  # noqa: ANN001 - a datetime
        """The config's filters replace the config-made ones; chat-made filters are kept."""
        wanted = []
        for ch in self.settings.channels:
            channel = await self.channel(ChannelRef.parse(ch.ref))
            wanted += [(channel.id, None, f.spec()) for f in ch.filters]
        for feed in self.settings.feeds:
            if not feed.filters:
                continue
            row = await self.store.catalog.feed_by_url(self.normalize_source(feed.url, allow_local=True))
            for ref in feed.channels:
                channel = await self.channel(ChannelRef.parse(ref))
                if row is not None:
                    wanted += [(channel.id, row.id, f.spec()) for f in feed.filters]
        await self.store.filters.replace_config(wanted, now)

    def normalize_source(self, url: str, *, allow_local: bool) -> str:
        url = url.strip()
        if allow_local and is_local_source(url):
            path = path_of(url)
            if not path.exists():
                raise UserError(f"no such file or folder: {path}")
            return str(path.resolve())
        try:
            from bot.net.urls import check_url

            return check_url(url)
        except (BadURL, ValueError) as exc:
            raise UserError(str(exc)) from None

    # ---- feeds ---------------------------------------------------------------------
    async def channel(self, ref: ChannelRef) -> ChannelRow:
        return await self.store.catalog.ensure_channel(ref, self.clock.now())

    async def add_feed(self, url: str, ref: ChannelRef, *, title: str | None = None, full_text: str | None = None,
                       allow_local: bool = False, poll: bool = True) -> tuple[FeedRow, bool, PollOutcome | None]:
        """Subscribe `ref` to the feed; the first poll marks what already exists as seen,
        keeping only the newest `backfill` items. Returns (feed, newly subscribed, poll)."""
        url = self.normalize_source(url, allow_local=allow_local)
        now = self.clock.now()
        feed, created = await self.store.catalog.add_feed(url, now, title=title, full_text=full_text)
        outcome = None
        if poll and (created or feed.last_success is None):
            outcome = await self.ingestor.poll(feed)
            if outcome.error and created:
                await self.store.catalog.remove_feed(feed.id)
                raise UserError(f"cannot read {url}: {outcome.error}", exit_code=1)
        channel = await self.channel(ref)
        added = await self.store.catalog.subscribe(channel.id, feed.id, now)
        refreshed = await self.store.catalog.feed(feed.id)
        if added and refreshed and refreshed.last_success is not None:
            async with self.store.db.transaction() as conn:  # the feed is known: baseline now
                await baseline(conn, channel.id, feed.id, policy_for(channel, self.settings).backfill, now)
        return refreshed or feed, added, outcome

    async def remove_feed(self, ident: str) -> FeedRow:
        feed = await self.store.catalog.find_feed(ident)
        if feed is None:
            raise UserError(f"no feed {ident!r} (use the id or URL from `feeds list`)")
        await self.store.catalog.remove_feed(feed.id)
        return feed

    # ---- polling and digests -------------------------------------------------------
    async def ingest(self, feeds: list[FeedRow] | None = None, *,
                     progress: Callable[[int, PollOutcome | None], None] | None = None) -> list[PollOutcome]:
        """Poll the feeds (default: every enabled, subscribed one) concurrently. `progress` is
        called with (total, None) first, then with (total, outcome) as each feed finishes."""
        if feeds is None:
            feeds = [f for f in await self.store.catalog.all_feeds() if not f.disabled_reason]
            subscribed = {r[0] for r in await self.store.db.fetchall("SELECT DISTINCT feed_id FROM subscriptions")}
            feeds = [f for f in feeds if f.id in subscribed]
        limit = asyncio.Semaphore(POLL_CONCURRENCY)
        unchanged: list[tuple] = []  # the round's 304s (and unchanged bookkeeping), written in one commit
        if progress is not None:
            progress(len(feeds), None)

        async def one(feed: FeedRow) -> PollOutcome:
            async with limit:
                outcome = await self.ingestor.poll(feed, unchanged)
            if progress is not None:
                progress(len(feeds), outcome)
            return outcome

        try:
            return list(await asyncio.gather(*(one(f) for f in feeds)))
        finally:
            if unchanged:
                await self.store.catalog.record_unchanged(unchanged)

    async def make_digests(self, ref: ChannelRef | None = None, *, dry_run: bool = False) -> list[Digest]:
        channels = await self.store.catalog.all_channels()
        if ref is not None:
            channels = [c for c in channels if c.ref == ref]
            if not channels:
                raise UserError(f"no channel {ref} (add a feed to it first)")
        result = []
        for channel in channels:
            digest = await self.digests.make(channel, dry_run=dry_run)
            if digest is not None:
                result.append(digest)
        return result

    async def notify(self, channel_id: int, text: str) -> None:
        await self.store.ledger.record_digest(channel_id, {"text": text}, [], [], self.clock.now(), kind="notice")

    # ---- one-off summaries ---------------------------------------------------------
    async def summarize_source(self, source: str, policy: ChannelPolicy, *, allow_local: bool,
                               data: bytes | None = None) -> SummaryResult:
        """Summarize a URL, a local file (CLI only) or given bytes (stdin)."""
        from bot.pipeline.languages import check_language  # the summarizer loads on first use
        from bot.pipeline.summarize import summarize
        from bot.sources.files import read_article_file

        language = check_language(policy.language)
        url: str | None = None
        if data is not None:
            from bot.sources.pages import extract_page  # lxml and trafilatura: not for a text file

            title, text = await self.workers.run(extract_page, data, None, None)
        elif allow_local and is_local_source(source):
            path = path_of(source)
            if not path.is_file():
                raise UserError(f"no such file: {path}")
            entry = await self.workers.run(read_article_file, path, self.settings.fetch.max_page_bytes)
            title, text, url = entry.title, entry.text, entry.url
        else:
            from bot.sources.pages import extract_page

            url = self.normalize_source(source, allow_local=False)
            fetched = await self.fetcher.fetch(url, kind="page")
            title, text = await self.workers.run(extract_page, fetched.body, fetched.url, fetched.charset)
            url = fetched.url
        job = partial(summarize, text, title=title, sentences=policy.sentences, algorithm=policy.algorithm,
                      language=language)
        sentences = await self.workers.run(job)
        return SummaryResult(title=title, url=url, language=language, algorithm=policy.algorithm,
                             sentences=sentences)

    def default_policy(self) -> ChannelPolicy:
        return policy_for(None, self.settings)
