"""Platform-neutral chat commands. Adapters translate /digest, /summarize, /subscribe,
/unsubscribe, /feeds and /schedule into these calls and render the Reply."""

from __future__ import annotations

import logging

from bot.app import App, UserError
from bot.config import check_schedule, check_timezone
from bot.digest.schedule import is_immediate
from bot.net import FetchError
from bot.policy import policy_for
from bot.ports import CommandContext, Reply
from bot.sources.common import PageExtractError
from bot.sources.text import clean_inline
from bot.workers import WorkerTimeout

log = logging.getLogger(__name__)
MANAGE_REFUSAL = "You need permission to manage this channel to change its feeds or schedule."


class CommandHandlers:
    """Implements bot.ports.CommandPort on top of the core's App."""

    def __init__(self, app: App, on_digest=None) -> None:
        self.app = app
        self.on_digest = on_digest  # called after a digest is recorded, to wake the sender

    async def digest(self, ctx: CommandContext) -> Reply:
        channel = await self.app.channel(ctx.channel)
        digest = await self.app.digests.make(channel)
        if digest is None:
            return Reply("Nothing new since the last digest.")
        if self.on_digest:
            self.on_digest()
        count = len(digest.items)
        more = f" (and {digest.more} more)" if digest.more else ""
        return Reply(f"Posting a digest of {count} item{'s' if count != 1 else ''}{more}.", digest_posted=count)

    async def digest_preview(self, ctx: CommandContext) -> Reply:
        """What the channel's next digest would hold, privately; records nothing."""
        channel = await self.app.store.catalog.channel(ctx.channel)
        digest = await self.app.digests.make(channel, dry_run=True) if channel else None
        if digest is None:
            return Reply("Nothing new: the next digest would be empty.")
        return Reply("Preview (only you see this; nothing was posted or recorded):\n"
                     + preview_text(digest), digest_posted=0)

    async def why(self, ctx: CommandContext, url: str) -> Reply:
        from bot.why import Explainer

        url = url.strip()
        if not url:
            return Reply("Usage: /why <article url>", ok=False)
        channel = await self.app.store.catalog.channel(ctx.channel)
        if channel is None:
            return Reply("This channel follows no feeds yet, so nothing was posted here.")
        report = await Explainer(self.app.settings, self.app.store).explain(url, channel, self.app.clock.now())
        answer = report.answers[0]
        title = f"“{clean_inline(report.title, 200)}”: " if report.title else ""
        return Reply(f"{title}{answer.reason}")

    async def filter(self, ctx: CommandContext, words: list[str]) -> Reply:
        """`/filter add include|exclude|include-regex|exclude-regex [field:]PATTERN`,
        `/filter remove ID`, `/filter list`."""
        from bot.filter_admin import add_filter, describe, list_filters, remove_filter
        from bot.filters import FilterError, parse_filter_words

        verb = words[0].lower() if words else "list"
        if verb == "list":
            rows = await list_filters(self.app, ctx.channel)
            if not rows:
                return Reply("This channel has no filters. Add one with /filter add exclude <word or phrase>.")
            return Reply("\n".join(describe(r) for r in rows))
        if verb not in ("add", "remove"):
            return Reply(FILTER_USAGE, ok=False)
        if not ctx.can_manage:
            return Reply(MANAGE_REFUSAL, ok=False)
        try:
            if verb == "add":
                rest, feed = words[1:], None
                if rest and rest[0].lower().startswith("feed:"):  # only for one of the channel's feeds
                    feed, rest = rest[0][5:], rest[1:]
                row, added = await add_filter(self.app, ctx.channel, parse_filter_words(rest), feed)
                log.info("%s added filter %d in %s", ctx.user_id, row.id, ctx.channel)
                state = "Added" if added else "Already there:"
                return Reply(f"{state} filter {describe(row)}.", ephemeral=False)
            if len(words) != 2 or not words[1].lstrip("#").isdigit():
                return Reply("Usage: /filter remove <id> (see /filter list)", ok=False)
            row = await remove_filter(self.app, ctx.channel, int(words[1].lstrip("#")))
            return Reply(f"Removed filter {describe(row)}.", ephemeral=False)
        except (FilterError, UserError) as exc:
            return Reply(clean_inline(str(exc), 500), ok=False)

    async def summarize(self, ctx: CommandContext, url: str) -> Reply:
        channel = await self.app.channel(ctx.channel)
        policy = policy_for(channel, self.app.settings)
        try:
            result = await self.app.summarize_source(url, policy, allow_local=False)
        except (UserError, FetchError, PageExtractError, WorkerTimeout, ValueError) as exc:
            return Reply(f"Cannot summarize that: {clean_inline(str(exc), 300)}", ok=False)
        if not result.sentences:
            return Reply("That page has no text to summarize.", ok=False)
        return Reply(" ".join(result.sentences), ephemeral=False, summary=result.as_json())

    async def subscribe(self, ctx: CommandContext, url: str) -> Reply:
        if not ctx.can_manage:
            return Reply(MANAGE_REFUSAL, ok=False)
        try:
            feed, added, _ = await self.app.add_feed(url, ctx.channel, allow_local=False)
        except UserError as exc:
            return Reply(clean_inline(str(exc), 300), ok=False)
        name = feed.title or feed.url
        if feed.disabled_reason:  # a manager asking for a disabled feed gets it polled again
            await self.app.store.catalog.set_enabled(feed.id, self.app.clock.now())
            if not added:
                return Reply(f"Re-enabled {name}; it will be polled again now.", ephemeral=False)
        if not added:
            return Reply(f"This channel already follows {name}.")
        log.info("%s subscribed %s to feed %d", ctx.user_id, ctx.channel, feed.id)
        channel = await self.app.channel(ctx.channel)
        policy = policy_for(channel, self.app.settings)
        if is_immediate(policy.schedule) and await self.app.digests.make(channel) and self.on_digest:
            self.on_digest()
        when = "now" if is_immediate(policy.schedule) else "in the next scheduled digest"
        return Reply(f"Subscribed to {name} (feed {feed.id}). Up to {policy.backfill} of its newest items "
                     f"will be posted {when}; after that, only new ones.", ephemeral=False)

    async def unsubscribe(self, ctx: CommandContext, feed: str) -> Reply:
        if not ctx.can_manage:
            return Reply(MANAGE_REFUSAL, ok=False)
        channel = await self.app.channel(ctx.channel)
        target = await self.app.store.catalog.channel_feed(channel.id, feed)
        if target is None:
            return Reply(f"This channel does not follow {clean_inline(feed, 200)!r}. Use /feeds to see its feeds.",
                         ok=False)
        await self.app.store.catalog.unsubscribe(channel.id, target.id)
        return Reply(f"Unsubscribed from {target.title or target.url}.", ephemeral=False)

    async def feeds(self, ctx: CommandContext) -> Reply:
        channel = await self.app.store.catalog.channel(ctx.channel)  # read-only: never a write
        health = await self.app.store.catalog.health(channel.id) if channel else []
        if not health:
            text = "This channel follows no feeds yet. Use /subscribe <feed url>."
        else:
            text = "\n".join(h.describe() for h in health)
        error = channel.last_error if channel else None
        if error:
            text += f"\nDelivery problem in this channel: {error}"
        return Reply(text, feeds=health, channel_error=error)

    async def schedule(self, ctx: CommandContext, when: str, timezone: str | None) -> Reply:
        if not ctx.can_manage:
            return Reply(MANAGE_REFUSAL, ok=False)
        try:
            when = check_schedule(when)
        except ValueError as exc:
            return Reply(str(exc)[:1].upper() + str(exc)[1:] + ".", ok=False)
        if timezone:
            try:
                check_timezone(timezone.strip())
            except ValueError as exc:
                return Reply(str(exc)[:1].upper() + str(exc)[1:] + ".", ok=False)
            timezone = timezone.strip()
        channel = await self.app.channel(ctx.channel)
        await self.app.store.catalog.set_schedule(channel.id, when, timezone, self.app.clock.now())
        policy = policy_for(await self.app.channel(ctx.channel), self.app.settings)
        if is_immediate(when):
            return Reply("Digests will be posted as soon as new items arrive.", ephemeral=False)
        return Reply(f"Digests will be posted on the schedule `{when}` ({policy.timezone}).", ephemeral=False)

    async def feed_choices(self, ctx: CommandContext, prefix: str) -> list[tuple[str, str]]:
        channel = await self.app.store.catalog.channel(ctx.channel)  # autocomplete must not write
        if channel is None:
            return []
        prefix = prefix.casefold()
        choices = []
        for feed in await self.app.store.catalog.channel_feeds(channel.id):
            name = clean_inline(feed.title or feed.url, 100)
            if prefix in name.casefold() or prefix in feed.url.casefold():
                choices.append((name, str(feed.id)))
        return choices[:25]


FILTER_USAGE = ("Usage: /filter add [feed:<id>] include|exclude|include-regex|exclude-regex "
                "[title:|text:|categories:|author:]<words or pattern> · /filter remove <id> · /filter list")


def preview_text(digest) -> str:  # noqa: ANN001 - a Digest
    lines = []
    for number, item in enumerate(digest.items, start=1):
        also = f" (also: {', '.join(a.feed for a in item.also)})" if item.also else ""
        lines.append(f"{number}. {clean_inline(item.title, 200)} — {clean_inline(item.feed, 80)}{also}")
    lines += [f"Update — {clean_inline(u.feed, 80)}: {clean_inline(u.title, 200)}" for u in digest.updates]
    if digest.more:
        lines.append(f"…and {digest.more} more")
    return "\n".join(lines)



