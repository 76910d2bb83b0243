""""Why wasn't it posted?" answered from the ledger, never by guessing.

Every article a channel could have received has a delivery row saying what happened to it
(sent, queued, merged into a story, filtered, beyond the backfill, counted in "…and N more"),
or else it is still waiting for the channel's next digest; an article the store never saw
is explained by the health of the channel's feeds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.digest.schedule import next_fire
from bot.pipeline.dedupe import canonical_url
from bot.policy import policy_for
from bot.store import ArticleRow, ChannelRow, Store
from bot.store.history import DeliveryRecord


@dataclass(slots=True)
class Answer:
    """What happened to one article in one channel. `status` is one of: posted, queued,
    merged, filtered, backfill, more, waiting, not_subscribed, disabled, not_polled, never_seen."""

    channel: str
    status: str
    reason: str
    digest: int | None = None
    at: str | None = None
    story: int | None = None
    shown: dict[str, Any] | None = None  # the article the channel saw for this story
    filter: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Report:
    url: str
    article: int | None
    title: str | None
    story: int | None
    answers: list[Answer] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        first = self.answers[0].as_json() if self.answers else {}
        top = {k: first.get(k) for k in ("channel", "status", "reason", "digest", "at", "shown", "filter")}
        return {"url": self.url, "article": self.article, "title": self.title, "story": self.story, **top,
                "channels": [a.as_json() for a in self.answers]}


def _stamp(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else None


class Explainer:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    async def explain(self, url: str, channel: ChannelRow | None, now: datetime) -> Report:
        url = url.strip()
        article = await self.store.history.find_article(canonical_url(url), url)
        if article is None:
            channels = [channel] if channel else await self.store.catalog.all_channels()
            answers = [await self._unseen(c, now) for c in channels]
            return Report(url, None, None, None, answers)
        if channel is not None:
            channels = [channel]
        else:
            ids = await self.store.history.channels_with_rows(article.id)
            channels = [c for c in await self.store.catalog.all_channels() if c.id in ids]
            channels = channels or await self.store.catalog.all_channels()
        rows = {d.channel_id: d for d in await self.store.history.deliveries(article.id)}
        answers = []
        for c in channels:
            row = rows.get(c.id)
            answers.append(await (self._recorded(c, article, row) if row else self._unrecorded(c, article, now)))
        return Report(url, article.id, article.title, article.story_id, answers)

    async def _recorded(self, channel: ChannelRow, article: ArticleRow, row: DeliveryRecord) -> Answer:
        ref, story = str(channel.ref), article.story_id
        if row.state == "filtered":
            return Answer(ref, "filtered", f"not posted: {row.reason}", at=_stamp(row.created), story=story,
                          filter=row.reason)
        if row.state == "merged":
            return Answer(ref, "merged", f"not posted again: same {row.reason}", at=_stamp(row.created), story=story)
        if row.state == "skipped":
            return Answer(ref, "backfill", "not posted: it was already in the feed when this channel subscribed, "
                          "beyond the newest items that a new subscription posts (backfill)",
                          at=_stamp(row.created), story=story)
        digest = await self.store.history.digest(row.digest_id) if row.digest_id else None
        if row.state == "rolled":
            return Answer(ref, "more", f"counted in \"…and {digest.payload.get('more', 'N') if digest else 'N'} more\""
                          f" of digest {row.digest_id} on {_stamp(row.created)}: that digest was full",
                          digest=row.digest_id, at=_stamp(row.created), story=story)
        shown, role = _role(digest.payload if digest else {}, article.id)
        if row.state == "pending":
            problem = f" (last attempt failed: {digest.last_error})" if digest and digest.last_error else ""
            return Answer(ref, "queued", f"queued in digest {row.digest_id}, not posted yet{problem}",
                          digest=row.digest_id, at=_stamp(row.created), story=story, shown=shown)
        at = _stamp(row.sent_at)
        if role == "also" and shown:
            reason = (f"merged into story {story}: posted in digest {row.digest_id} at {at} as "
                      f"{shown['feed'] or 'another feed'}'s \"{shown['title']}\", with this outlet under \"Also\"")
            return Answer(ref, "merged", reason, digest=row.digest_id, at=at, story=story, shown=shown)
        what = "as an update line" if role == "update" else "as its own entry"
        return Answer(ref, "posted", f"posted {what} in digest {row.digest_id} at {at}", digest=row.digest_id,
                      at=at, story=story, shown=shown)

    async def _unrecorded(self, channel: ChannelRow, article: ArticleRow, now: datetime) -> Answer:
        ref = str(channel.ref)
        carriers = await self.store.history.carriers(article.id)
        followed = {f.id: f for f in await self.store.catalog.channel_feeds(channel.id)}
        mine = [c for c in carriers if c.feed_id in followed]
        if not mine:
            names = ", ".join(c.feed for c in carriers) or "no feed any more"
            return Answer(ref, "not_subscribed", f"this channel follows no feed that carries it (seen in: {names})",
                          story=article.story_id)
        if all(followed[c.feed_id].disabled_reason for c in mine):
            feed = followed[mine[0].feed_id]
            return Answer(ref, "disabled", f"the feed {feed.title or feed.url} is disabled: {feed.disabled_reason}",
                          story=article.story_id)
        policy = policy_for(channel, self.settings)
        fire = next_fire(policy.schedule, policy.timezone, now)
        when = f"at {_stamp(fire)} ({policy.schedule}, {policy.timezone})" if fire else "after the next poll"
        return Answer(ref, "waiting", f"not posted yet: it goes into the channel's next digest, {when}",
                      story=article.story_id)

    async def _unseen(self, channel: ChannelRow, now: datetime) -> Answer:
        ref = str(channel.ref)
        feeds = await self.store.catalog.channel_feeds(channel.id)
        if not feeds:
            return Answer(ref, "not_subscribed", "never seen: this channel follows no feeds")
        disabled = [f for f in feeds if f.disabled_reason]
        if disabled:
            names = "; ".join(f"{f.title or f.url} ({f.disabled_reason})" for f in disabled)
            return Answer(ref, "disabled", f"never seen; {len(disabled)} of this channel's feeds are disabled: {names}")
        stale_after = timedelta(seconds=self.settings.bot.poll_interval * 3)
        stale = [f for f in feeds if f.last_success is None or now - f.last_success > stale_after]
        if stale:
            names = "; ".join(f"{f.title or f.url} (last good poll {_stamp(f.last_success) or 'never'}"
                              + (f", last error: {f.last_error}" if f.last_error else "") + ")" for f in stale)
            return Answer(ref, "not_polled", f"never seen; not every feed has been polled lately: {names}")
        last = max((f.last_success for f in feeds if f.last_success), default=None)
        return Answer(ref, "never_seen", f"never seen: none of this channel's {len(feeds)} feed(s) has carried "
                      f"that URL (last poll {_stamp(last)})")


def _role(payload: dict[str, Any], article_id: int) -> tuple[dict[str, Any] | None, str | None]:
    """Where the article sits in a stored digest: its own item, another's "also", an update."""
    for item in payload.get("items", []):
        shown = {"feed": item.get("feed"), "title": item.get("title"), "url": item.get("url")}
        if item.get("article_id") == article_id:
            return shown, "item"
        if any(a.get("article_id") == article_id for a in item.get("also", [])):
            return shown, "also"
    for update in payload.get("updates", []):
        if update.get("article_id") == article_id:
            return {"feed": update.get("feed"), "title": update.get("title"), "url": update.get("url")}, "update"
    return None, None
