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
from bot.sources.pages import PageExtractError
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
        target = await self._channel_feed(channel.id, feed)
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
            text = "\n".join(describe_health(h) for h in health)
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

    async def _channel_feed(self, channel_id: int, ident: str):
        ident = ident.strip()
        for feed in await self.app.store.catalog.channel_feeds(channel_id):
            if ident in (str(feed.id), feed.url) or (feed.title and ident.casefold() == feed.title.casefold()):
                return feed
        return None


def describe_health(h) -> str:
    name = h.title or h.url
    state = f"disabled: {h.disabled}" if h.disabled else "ok"
    if not h.disabled and h.last_error:
        state = f"failing ({h.failures}x): {h.last_error}"
    polled = h.last_polled.strftime("%Y-%m-%d %H:%M UTC") if h.last_polled else "never"
    return f"#{h.id} {name} — {state}; last poll {polled}"
