"""Adding, listing and removing a channel's filters: shared by the CLI and chat commands."""

from __future__ import annotations

from bot.app import App, UserError
from bot.filters import FilterError, FilterSpec
from bot.models import ChannelRef
from bot.store import FeedRow, FilterRow


async def _channel_feed(app: App, channel_id: int, ident: str) -> FeedRow:
    feed = await app.store.catalog.channel_feed(channel_id, ident)
    if feed is None:
        raise UserError(f"this channel does not follow a feed {ident.strip()!r} (use the id from the feed list)")
    return feed


async def add_filter(app: App, ref: ChannelRef, spec: FilterSpec, feed: str | None = None,
                     origin: str = "chat") -> tuple[FilterRow, bool]:
    channel = await app.channel(ref)
    feed_id = (await _channel_feed(app, channel.id, feed)).id if feed else None
    return await app.store.filters.add(channel.id, feed_id, spec, app.clock.now(), origin)


async def list_filters(app: App, ref: ChannelRef, feed: str | None = None) -> list[FilterRow]:
    channel = await app.store.catalog.channel(ref)  # read-only: listing never creates a channel
    if channel is None:
        return []
    rows = await app.store.filters.of_channel(channel.id)
    if feed:
        feed_id = (await _channel_feed(app, channel.id, feed)).id
        rows = [r for r in rows if r.feed_id == feed_id]
    return rows


async def remove_filter(app: App, ref: ChannelRef, filter_id: int) -> FilterRow:
    channel = await app.store.catalog.channel(ref)
    rows = await app.store.filters.of_channel(channel.id) if channel else []
    found = next((r for r in rows if r.id == filter_id), None)
    if found is None or channel is None:
        raise UserError(f"no filter #{filter_id} in {ref} (see the filter list)")
    if found.origin == "config":
        raise UserError(f"filter #{filter_id} comes from the config file; remove it there")
    await app.store.filters.remove(channel.id, filter_id)
    return found


def describe(row: FilterRow) -> str:
    scope = f" (feed {row.feed_id} only)" if row.feed_id is not None else ""
    origin = " [config]" if row.origin == "config" else ""
    return f"#{row.id} {row.spec.describe()}{scope}{origin}"


def as_json(row: FilterRow) -> dict:
    return {"id": row.id, "action": row.spec.action, "kind": row.spec.kind, "field": row.spec.field,
            "pattern": row.spec.pattern, "feed": row.feed_id, "origin": row.origin}


__all__ = ["FilterError", "add_filter", "as_json", "describe", "list_filters", "remove_filter"]
