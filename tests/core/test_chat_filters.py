"""/filter and /why through the core's command handlers (the platform-neutral side)."""

from __future__ import annotations

from pathlib import Path

from bot.app import App
from bot.commands import CommandHandlers
from bot.config import parse_settings
from bot.models import ChannelRef
from bot.ports import CommandContext
from bot.workers import Workers

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
CHANNEL = ChannelRef.parse("discord:123")


async def test_filters_from_chat_need_managers_and_can_target_one_feed(tmp_path: Path) -> None:
    settings = parse_settings({"summary": {"algorithm": "lexrank"}})
    app = App(settings, str(tmp_path / "t.db"), workers=Workers(0))
    await app.open()
    try:
        feed, _, _ = await app.add_feed(str(SEEDS / "feed.xml"), CHANNEL, allow_local=True)
        handlers = CommandHandlers(app)
        member = CommandContext(CHANNEL, "u1", can_manage=False)
        manager = CommandContext(CHANNEL, "u2", can_manage=True)
        refused = await handlers.filter(member, ["add", "exclude", "solar"])
        assert not refused.ok and await app.store.filters.of_channel((await app.channel(CHANNEL)).id) == []
        added = await handlers.filter(manager, ["add", f"feed:{feed.id}", "exclude", "title:solar", "power"])
        assert added.ok and "feed" in added.text and "solar power" in added.text
        bad = await handlers.filter(manager, ["add", "exclude-regex", "(?=x)"])
        assert not bad.ok and "(?=x)" in bad.text
        unknown_feed = await handlers.filter(manager, ["add", "feed:999", "exclude", "x"])
        assert not unknown_feed.ok
        listed = await handlers.filter(member, ["list"])
        assert "#1" in listed.text and f"feed {feed.id}" in listed.text
        digest = await app.digests.make(await app.channel(CHANNEL), dry_run=True)
        assert digest is not None and all("solar" not in i.title.lower() for i in digest.items)
        why = await handlers.why(member, "https://nowhere.example/a")
        assert "never seen" in why.text
        assert (await handlers.filter(manager, ["remove", "1"])).ok
        assert "no filters" in (await handlers.filter(member, ["list"])).text
    finally:
        await app.close()
