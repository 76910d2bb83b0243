"""Making a channel's digest: pick undelivered stories, complete teasers with the full
page, summarize only what will be shown, and record it in the ledger in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot import defaults
from bot.config import Settings
from bot.digest.compose import Story, build_digest, cap, digest_to_json, stories_of
from bot.filters import FilterText, blocked_by
from bot.models import Digest, StoryUpdate
from bot.net import FetchError
from bot.policy import ChannelPolicy, policy_for
from bot.ports import Clock
from bot.preload import preload_in_background
from bot.store import ArticleRow, ChannelRow, Store
from bot.workers import Workers, WorkerTimeout

if TYPE_CHECKING:
    from bot.net.fetch import Fetcher

log = logging.getLogger(__name__)
SUMMARY_TIMEOUT = 60.0
STORY_CONTEXT = 2000  # recent articles compared against (and weighing words) when grouping stories
GROUPED_PER_ITEM = 5  # candidates grouped into stories per digest item; older ones are counted as more
MIN_GROUPED = 50
# Story grouping needs numpy, whose import is about as long as the candidate queries that come
# first: it is imported in a thread meanwhile (bot.preload).
STORY_MODULES = ("bot.digest.stories",)
SUMMARY_MODULES = ("bot.pipeline.summarize",)  # where summaries run in this process (threads)


class DigestMaker:
    def __init__(self, settings: Settings, store: Store, fetcher: Callable[[], Fetcher], workers: Workers,
                 clock: Clock) -> None:
        """`fetcher` gives the page fetcher when a teaser's full text is wanted: most digests
        never fetch, and a one-shot `digest` should not import the HTTP stack for nothing."""
        self.settings = settings
        self.store = store
        self._fetcher = fetcher
        self.workers = workers
        self.clock = clock
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def make(self, channel: ChannelRow, *, dry_run: bool = False) -> Digest | None:
        """Compose and record the channel's digest; None when there is nothing new.

        Filtered articles and articles on a story the channel already received are
        recorded too (as `filtered` / `merged`, with the reason), so they are decided once
        and `why` can say what happened to them. `dry_run` records nothing at all."""
        async with self._locks[channel.id]:
            policy = policy_for(channel, self.settings)
            preload_in_background(STORY_MODULES + (SUMMARY_MODULES if self.workers.processes <= 0 else ()))
            candidates = await self.store.ledger.candidates(channel.id)
            if not candidates:
                return None
            now = self.clock.now()
            kept, outcomes = await self._filter(channel.id, candidates)
            # after downtime most candidates only feed "…and N more": group the newest few
            # times max_items into stories, count the rest one by one
            head = kept[:max(MIN_GROUPED, GROUPED_PER_ITEM * policy.max_items)]
            tail = kept[len(head):]
            story_of = await self._stories(head, now, save=not dry_run)
            fresh, updates, merged = await self._repeats(channel.id, policy.repeat_stories, head, story_of)
            outcomes += merged
            shown, over = cap(stories_of(fresh, story_of), policy.max_items)
            over += [Story(article) for article in tail]
            if not shown and not updates:
                if not dry_run:
                    await self.store.ledger.record_outcomes(channel.id, outcomes, now)
                return None
            summaries = {}
            for story in shown:
                summaries[story.lead.id] = await self.summary_for(story.lead, policy, save=not dry_run)
            digest = build_digest(channel.ref, policy.title, shown, summaries, more=len(over), updates=updates)
            if dry_run:
                return digest
            shown_ids = [a.id for s in shown for a in s.articles] + [u.article_id for u in updates]
            rolled_ids = [a.id for s in over for a in s.articles]
            digest_id = await self.store.ledger.record_digest(
                channel.id, digest_to_json(digest), shown_ids, rolled_ids, now, outcomes=outcomes)
            if digest_id is None:
                return None
            digest.digest_id = digest_id
            log.info("digest %d for %s: %d item(s), %d update(s), %d more, %d filtered or merged", digest_id,
                     channel.ref, len(shown), len(updates), len(over), len(outcomes))
            return digest

    async def _filter(self, channel_id: int, candidates: list[ArticleRow]
                      ) -> tuple[list[ArticleRow], list[tuple[int, str, str]]]:
        """Articles the channel's filters let through, and (id, 'filtered', reason) for the rest.
        A feed's own filters apply to what arrives through that feed; an article carried by
        several feeds is kept when any of them lets it through."""
        rows = await self.store.filters.of_channel(channel_id)
        if not rows:
            return candidates, []
        compiled = [r.compiled() for r in rows]
        kept, dropped = [], []
        for article in candidates:
            text = FilterText(article.title, article.text, tuple(article.categories), article.author)
            reasons = []
            for feed_id in article.feed_ids or [None]:
                path = [f for f in compiled if f.feed_id is None or f.feed_id == feed_id]
                reason = blocked_by(text, path)
                if reason is None:
                    break
                reasons.append(reason)
            else:
                dropped.append((article.id, "filtered", reasons[0]))
                continue
            kept.append(article)
        return kept, dropped

    async def _stories(self, articles: list[ArticleRow], now: datetime, *, save: bool) -> dict[int, int]:
        """Story id of every article: assigned earlier, or now against the recent articles
        (which also give the word weights: IDF over the store's own rolling window)."""
        story_of = {a.id: a.story_id for a in articles if a.story_id is not None}
        if len(story_of) == len(articles):  # grouped already (by another channel's digest): nothing to compare
            return story_of
        from bot.digest.stories import StoryDoc, assign_stories  # numpy: see STORY_MODULES

        since = now - timedelta(days=defaults.STORY_WINDOW_DAYS)
        recent = await self.store.stories.recent(since, STORY_CONTEXT)
        mine = {a.id for a in articles}
        docs = [StoryDoc(a.id, str(min(a.feed_ids) if a.feed_ids else -a.id), a.title, a.text,
                         a.published or a.first_seen, a.story_id) for a in articles]
        anchors = [StoryDoc(a.id, str(a.source), a.title, a.lead, a.published or a.fetched, a.story_id)
                   for a in recent if a.id not in mine and a.story_id is not None]
        corpus = [StoryDoc(a.id, str(a.source), a.title, a.lead, a.published or a.fetched)
                  for a in recent if a.id not in mine and a.story_id is None]
        assigned = assign_stories([*docs, *anchors], corpus=corpus)
        new = {a: s for a, s in assigned.items() if a in mine}
        if save:
            await self.store.stories.set_story_ids(new)
        story_of.update(new)
        return story_of

    async def _repeats(self, channel_id: int, mode: str, articles: list[ArticleRow], story_of: dict[int, int]
                       ) -> tuple[list[ArticleRow], list[StoryUpdate], list[tuple[int, str, str]]]:
        """Split off articles on stories the channel already received: an "Update" line
        (one per story, `repeat_stories = "update"`) or merged silently (`never`)."""
        received = await self.store.stories.received(channel_id, list(set(story_of.values())))
        fresh: list[ArticleRow] = []
        updates: list[StoryUpdate] = []
        merged: list[tuple[int, str, str]] = []
        updated: set[int] = set()
        for article in articles:
            story = story_of.get(article.id)
            got = received.get(story) if story is not None else None
            if got is None or story is None:
                fresh.append(article)
            elif mode == "update" and story not in updated:
                updated.add(story)
                updates.append(StoryUpdate(article.id, story, article.feed_title or "", article.title, article.url))
            else:
                when = got.at.strftime("%Y-%m-%d %H:%M UTC") if got.at else "earlier"
                merged.append((article.id, "merged",
                               f"story {story}: already posted as {got.feed or 'another feed'}'s "
                               f"\"{got.title}\" (article {got.article_id}, digest {got.digest_id}, {when})"))
        return fresh, updates, merged

    async def summary_for(self, article: ArticleRow, policy: ChannelPolicy, *, save: bool = True) -> list[str]:
        cached = await self.store.articles.cached_summary(article.id, policy.algorithm, policy.sentences,
                                                          policy.language)
        if cached is not None:
            return cached
        text = await self.full_text(article, save=save)
        try:
            from bot.workers import summarize  # the summarizer (numpy) loads where the job runs, not here

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
        from bot.sources.pages import PageExtractError, extract_page  # lxml: only when a teaser is completed

        url = article.url or ""
        try:
            if url.startswith("file://"):
                return await self._local_text(article)
            fetched = await self._fetcher().fetch(url, kind="page")
            _title, text = await self.workers.run(extract_page, fetched.body, fetched.url, fetched.charset,
                                                  timeout=SUMMARY_TIMEOUT)
            return text
        except (FetchError, PageExtractError, WorkerTimeout, OSError) as exc:
            log.info("full text of article %d unavailable: %s", article.id, exc)
            return None

    async def _local_text(self, article: ArticleRow) -> str | None:
        """A local feed's item may link to a local file, but only inside that feed's folder."""
        from bot.sources.files import is_local_source, path_of, read_article_file, within

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
