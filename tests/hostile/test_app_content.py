"""Hostile content through the whole core (App + a real local feed server): churned GUIDs
never repost, chat can never name a local file, a body that spells a path is not read, and
injection titles reach the console literally."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from bot.app import App, UserError
from bot.commands import CommandHandlers
from bot.config import parse_settings
from bot.models import ChannelRef
from bot.outbox import Sender
from bot.ports import CommandContext
from bot.workers import Workers
from tests.support.clock import FakeClock

CONSOLE = ChannelRef.parse("console")
LONG = " ".join(f"Sentence {k} describes the harbour ferry trial in some detail." for k in range(12))


def feed(items: list[tuple[str | None, str | None, str, str]]) -> bytes:
    """items: (guid, link, title, description)."""
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Churn</title>']
    for guid, link, title, text in items:
        parts.append(f"<item><title>{title}</title>")
        parts.append(f"<guid isPermaLink=\"false\">{guid}</guid>" if guid else "")
        parts.append(f"<link>{link}</link>" if link else "")
        parts.append(f"<description>{text}</description></item>")
    return ("".join(parts) + "</channel></rss>").encode()


@pytest.fixture
async def app(tmp_path: Path):
    settings = parse_settings({"fetch": {"allow_private_addresses": True}, "summary": {"algorithm": "luhn"}})
    app = App(settings, str(tmp_path / "h.db"), clock=FakeClock(), workers=Workers(0))
    await app.open()
    yield app
    await app.close()


async def post(app: App) -> list[str]:
    """Build and send every channel's digest to a console; returns what was printed."""
    console = ConsoleAdapter(stream=io.StringIO())
    await app.make_digests()
    await Sender(app.store, {"console": console}, app.clock).send_due()
    return console.sent


@pytest.mark.parametrize(("link", "text"), [
    ("https://news.example/ferry", "short teaser"),  # deduped by canonical URL
    (None, LONG),  # no link: deduped by content hash
], ids=["same-link", "no-link-long-text"])
async def test_guid_that_changes_every_fetch_never_reposts(app: App, feed_server, link, text) -> None:
    feed_server.set("/churn", body=feed([("guid-1", link, "Ferry trial ends", text)]))
    await app.add_feed(feed_server.url("/churn"), CONSOLE)
    first = await post(app)
    assert len(first) == 1 and "Ferry trial ends" in first[0]
    for n in range(2, 6):  # a new GUID (and tracking junk on the link) on every fetch
        churned = None if link is None else f"{link}?utm_source=x{n}"
        feed_server.set("/churn", body=feed([(f"guid-{n}", churned, "Ferry trial ends", text)]))
        app.clock.advance(3600)  # type: ignore[attr-defined]
        outcomes = await app.ingest()
        assert not outcomes[0].error
        assert await post(app) == [], f"reposted on fetch {n}"
    stats = await app.store.ledger.stats()
    assert stats.get("sent") == 1


async def test_duplicate_and_missing_guids_deliver_each_item_once(app: App, feed_server) -> None:
    items = [("same", "https://n.example/1", "First story", "a"), ("same", "https://n.example/2", "Second story", "b"),
             (None, None, "Third story without guid or link", "c")]
    feed_server.set("/dups", body=feed(items))
    await app.add_feed(feed_server.url("/dups"), CONSOLE)
    sent = await post(app)
    text = "".join(sent)
    assert all(t in text for t in ("First story", "Second story", "Third story"))
    app.clock.advance(3600)  # type: ignore[attr-defined]
    await app.ingest()
    assert await post(app) == []  # stable keys: a re-fetch of the same document posts nothing


@pytest.mark.parametrize("source", [
    "/etc/passwd", "file:///etc/passwd", "file://localhost/etc/passwd", "~/.ssh/id_rsa", "../../etc/passwd",
    "gopher://127.0.0.1:6379/_", "ftp://127.0.0.1/x", "javascript:alert(1)", "feed.example\x00.internal",
    "http://a:b@127.0.0.1/", "http://" + "a" * 8000 + ".example/",
], ids=lambda s: repr(s[:30]))
async def test_chat_cannot_subscribe_or_summarize_local_or_odd_sources(app: App, source: str) -> None:
    commands = CommandHandlers(app)
    ctx = CommandContext(channel=ChannelRef.parse("discord:1"), user_id="u1", can_manage=True)
    reply = await commands.subscribe(ctx, source)
    assert not reply.ok and "root:" not in reply.text and len(reply.text) <= 300
    assert await app.store.catalog.all_feeds() == []
    reply = await commands.summarize(ctx, source)
    assert not reply.ok and "root:" not in reply.text
    with pytest.raises(UserError):
        await app.add_feed(source, ChannelRef.parse("discord:1"), allow_local=False)


async def test_remote_body_spelling_a_local_path_is_not_read(app: App, feed_server, tmp_path: Path) -> None:
    private = tmp_path / "private.xml"
    private.write_bytes(feed([("p1", "https://private.example/1", "PRIVATE-MARKER item", "secret text")]))
    feed_server.set("/path", body=str(private).encode(), content_type="application/rss+xml")
    with pytest.raises(UserError) as caught:
        await app.add_feed(feed_server.url("/path"), CONSOLE)
    assert "PRIVATE-MARKER" not in str(caught.value)
    assert await app.store.db.scalar("SELECT COUNT(*) FROM articles") == 0


async def test_injection_titles_reach_the_console_literally(app: App, feed_server) -> None:
    title = ("@everyone &lt;!channel&gt; [bank login](https://evil.example) ||x|| "
             "&lt;https://evil.example|https://bank.example&gt; pay\u202eevil")
    feed_server.set("/inj", body=feed([("i1", "javascript:alert(1)", title, "<script>alert(2)</script>body")]))
    await app.add_feed(feed_server.url("/inj"), CONSOLE)
    sent = " ".join("".join(await post(app)).split())  # the console wraps long lines
    assert "@everyone <!channel> [bank login](https://evil.example) ||x|| " \
           "<https://evil.example|https://bank.example> payevil" in sent
    assert "javascript:" not in sent and "alert" not in sent and "\u202e" not in sent
