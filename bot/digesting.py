"""Making a channel's digest: pick undelivered stories, complete teasers with the full
page, summarize only what will be shown, and record it in the ledger in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from functools import partial
from pathlib import Path

from bot.config import Settings
from bot.digest.compose import build_digest, cap, digest_to_json, group_stories
from bot.models import Digest
from bot.net import FetchError
from bot.policy import ChannelPolicy, policy_for
from bot.ports import Clock
from bot.sources.files import is_local_source, path_of, read_article_file, within
from bot.sources.pages import PageExtractError, extract_page
from bot.store import ArticleRow, ChannelRow, Store
from bot.workers import Workers, WorkerTimeout

log = logging.getLogger(__name__)
SUMMARY_TIMEOUT = 60.0


class DigestMaker:
    def __init__(self, settings: Settings, store: Store, fetcher, workers: Workers, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.workers = workers
        self.clock = clock
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def make(self, channel: ChannelRow, *, dry_run: bool = False) -> Digest | None:
        """Compose and record the channel's digest; None when there is nothing new."""
        async with self._locks[channel.id]:
            policy = policy_for(channel, self.settings)
            candidates = await self.store.ledger.candidates(channel.id)
            if not candidates:
                return None
            shown, over = cap(group_stories(candidates), policy.max_items)
            summaries = {}
            for story in shown:
                summaries[story.lead.id] = await self.summary_for(story.lead, policy, save=not dry_run)
            digest = build_digest(channel.ref, policy.title, shown, summaries, more=len(over))
            if dry_run:
                return digest
            shown_ids = [a.id for s in shown for a in s.articles]
            rolled_ids = [a.id for s in over for a in s.articles]
            digest_id = await self.store.ledger.record_digest(
                channel.id, digest_to_json(digest), shown_ids, rolled_ids, self.clock.now())
            if digest_id is None:
                return None
            digest.digest_id = digest_id
            log.info("digest %d for %s: %d item(s), %d more", digest_id, channel.ref, len(shown), len(over))
            return digest

    async def summary_for(self, article: ArticleRow, policy: ChannelPolicy, *, save: bool = True) -> list[str]:
        cached = await self.store.articles.cached_summary(article.id, policy.algorithm, policy.sentences,
                                                          policy.language)
        if cached is not None:
            return cached
        text = await self.full_text(article, save=save)
        try:
            from bot.pipeline.summarize import summarize  # sumy+nltk take a second to import

            job = partial(summarize, text, title=article.title, sentences=policy.sentences,
                          algorithm=policy.algorithm, language=policy.language)
            sentences = await self.workers.run(job, timeout=SUMMARY_TIMEOUT) if text.strip() else []
        except (ValueError, WorkerTimeout) as exc:
            log.warning("could not summarize article %d: %s", article.id, exc)
            return []
        if save:
            await self.store.articles.save_summary(article.id, policy.algorithm, policy.sentences,
                                                   policy.language, sentences)
        return sentences

    async def full_text(self, article: ArticleRow, *, save: bool = True) -> str:
        """The article's text, fetching the linked page when the feed gave only a teaser."""
        mode = await self._full_text_mode(article.id)
        wanted = mode == "always" or (mode == "auto" and article.is_teaser)
        if not wanted or article.full_text_tried or not article.url:
            return article.text
        text = await self._fetch_text(article)
        if save:
            await self.store.articles.set_full_text(article.id, text)
        if text and len(text) > len(article.text) * 0.8:
            return text
        return article.text

    async def _full_text_mode(self, article_id: int) -> str:
        row = await self.store.db.fetchone(
            "SELECT f.full_text FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE e.article_id = ? "
            "AND f.full_text IS NOT NULL LIMIT 1", (article_id,))
        return row[0] if row else self.settings.fetch.full_text

    async def _fetch_text(self, article: ArticleRow) -> str | None:
        url = article.url or ""
        try:
            if url.startswith("file://"):
                return await self._local_text(article)
            fetched = await self.fetcher.fetch(url, kind="page")
            _title, text = await self.workers.run(extract_page, fetched.body, fetched.url, fetched.charset,
                                                  timeout=SUMMARY_TIMEOUT)
            return text
        except (FetchError, PageExtractError, WorkerTimeout, OSError) as exc:
            log.info("full text of article %d unavailable: %s", article.id, exc)
            return None

    async def _local_text(self, article: ArticleRow) -> str | None:
        """A local feed's item may link to a local file, but only inside that feed's folder."""
        rows = await self.store.db.fetchall(
            "SELECT f.url FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE e.article_id = ?", (article.id,))
        target = path_of(article.url or "")
        for (feed_url,) in rows:
            if not is_local_source(feed_url):
                continue
            base = path_of(feed_url)
            base = base if base.is_dir() else base.parent
            if within(base, target) and Path(target).is_file():
                entry = await self.workers.run(read_article_file, target, self.settings.fetch.max_page_bytes)
                return entry.text
        return None
