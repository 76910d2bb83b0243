"""Shaping a digest: one entry per story (the most complete article, the other outlets as
"also" links), newest story first, capped at `max_items` with the rest as "and N more"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.models import AlsoLink, ChannelRef, Digest, DigestItem, StoryUpdate
from bot.store import ArticleRow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Story:
    lead: ArticleRow
    others: list[ArticleRow] = field(default_factory=list)
    story_id: int | None = None

    @property
    def articles(self) -> list[ArticleRow]:
        return [self.lead, *self.others]


def _when(article: ArticleRow) -> datetime:
    return article.published or article.first_seen or article.fetched or _EPOCH


def best_article(articles: list[ArticleRow]) -> ArticleRow:
    """The story's face: the most complete text (a full article beats a teaser), ties earliest."""
    return min(articles, key=lambda a: (a.is_teaser, -len(a.text.split()), _when(a), a.id))


def stories_of(candidates: list[ArticleRow], story_of: dict[int, int]) -> list[Story]:
    """Group candidates (newest first) by story id; a story sits where its newest article was."""
    groups: dict[int, list[ArticleRow]] = {}
    for article in candidates:
        groups.setdefault(story_of.get(article.id, -article.id), []).append(article)
    stories = []
    for story_id, members in groups.items():
        lead = best_article(members)
        others = sorted((m for m in members if m.id != lead.id), key=lambda a: (_when(a), a.id))
        stories.append(Story(lead, others, story_id if story_id > 0 else None))
    return stories


def cap(stories: list[Story], max_items: int) -> tuple[list[Story], list[Story]]:
    return stories[:max_items], stories[max_items:]


def build_digest(channel: ChannelRef, title: str, stories: list[Story], summaries: dict[int, list[str]],
                 more: int, updates: list[StoryUpdate] | None = None) -> Digest:
    items = [
        DigestItem(
            article_id=s.lead.id, title=s.lead.title, url=s.lead.url, feed=s.lead.feed_title or "",
            published=s.lead.published, summary=summaries.get(s.lead.id, []),
            also=[AlsoLink(o.feed_title or "", o.title, o.url, o.id) for o in s.others], story=s.story_id)
        for s in stories
    ]
    return Digest(channel=channel, items=items, more=more, title=title, updates=list(updates or []))


def digest_to_json(digest: Digest) -> dict[str, Any]:
    """The stored form (also the CLI's JSON item shape)."""
    return {
        "channel": str(digest.channel),
        "title": digest.title,
        "items": [
            {"article_id": i.article_id, "title": i.title, "url": i.url, "feed": i.feed,
             "published": i.published.isoformat() if i.published else None, "summary": i.summary,
             "also": [{"feed": a.feed, "title": a.title, "url": a.url, "article_id": a.article_id} for a in i.also],
             "story": i.story}
            for i in digest.items
        ],
        "updates": [{"article_id": u.article_id, "story": u.story, "feed": u.feed, "title": u.title, "url": u.url}
                    for u in digest.updates],
        "more": digest.more,
    }


def digest_from_json(data: dict[str, Any], digest_id: int | None = None) -> Digest:
    items = [
        DigestItem(
            article_id=i["article_id"], title=i["title"], url=i["url"], feed=i["feed"],
            published=datetime.fromisoformat(i["published"]) if i["published"] else None,
            summary=list(i["summary"]),
            also=[AlsoLink(a.get("feed", ""), a.get("title", ""), a.get("url"), a.get("article_id"))
                  for a in i.get("also", [])],
            story=i.get("story"))
        for i in data["items"]
    ]
    updates = [StoryUpdate(u["article_id"], u["story"], u["feed"], u["title"], u.get("url"))
               for u in data.get("updates", [])]
    return Digest(channel=ChannelRef.parse(data["channel"]), items=items, more=int(data["more"]),
                  title=data.get("title", "News digest"), digest_id=digest_id, updates=updates)
