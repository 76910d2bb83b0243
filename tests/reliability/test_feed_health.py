"""Feed health and stalls: a failing feed backs off, is disabled with one notice in each
subscribed channel, shows the reason in `feeds list --json`, and `feeds enable` brings it
back; an unexpected error while polling backs the feed off instead of crash-looping; a
stalled loop is restarted by the watchdog and the log says so."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.console import ConsoleAdapter
from bot import ingest
from bot.app import App
from bot.config import parse_settings
from bot.service import STALL_AFTER, Service
from bot.workers import Workers
from tests.conftest import Cli, write_config
from tests.reliability.fakes import RecordingAdapter
from tests.reliability.items import feed_xml
from tests.support.clock import FakeClock

DISABLE_AFTER = 4


async def wait_for(predicate, timeout: float = 20.0, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, f"not reached in time: {what}"
        await asyncio.sleep(0.02)


def settings_data(url: str) -> dict:
    return {"fetch": {"allow_private_addresses": True, "full_text": "never"},
            "summary": {"algorithm": "luhn", "sentences": 1},
            "bot": {"poll_interval": 60, "disable_after_failures": DISABLE_AFTER},
            "channels": [{"ref": "console"}, {"ref": "discord:1"}],
            "feeds": [{"url": url, "channels": ["console", "discord:1"]}]}


async def test_failing_feed_backs_off_is_disabled_with_notices_and_can_be_enabled(tmp_path: Path, feed_server) -> None:
    feed_server.set("/feed", body=feed_xml(0, [1, 2]))
    clock = FakeClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    out = io.StringIO()
    discord = RecordingAdapter()
    db = tmp_path / "h.db"
    service = Service(parse_settings(settings_data(feed_server.url("/feed"))), db_path=str(db), clock=clock,
                      adapters=[ConsoleAdapter(stream=out), discord], workers=Workers(0))
    catalog = service.store.catalog
    gaps: list[float] = []
    await service.start()
    try:
        await wait_for(lambda: _true(len(discord.sent) == 1), what="first digest")
        feed_server.set("/feed", status=500, body=b"broken")
        for failure in range(1, DISABLE_AFTER + 1):
            feed = (await catalog.all_feeds())[0]
            clock.set(feed.next_poll + timedelta(seconds=1))  # type: ignore[operator]

            async def failed(n: int = failure) -> bool:
                return (await catalog.all_feeds())[0].failures == n

            await wait_for(failed, what=f"failure {failure}")
            feed = (await catalog.all_feeds())[0]
            gaps.append((feed.next_poll - feed.last_polled).total_seconds())  # type: ignore[operator]
        await wait_for(lambda: _true("was disabled" in out.getvalue() and len(discord.sent) == 2), what="notices")
        for _ in range(10):  # a day passes: a disabled feed is not polled and nothing is repeated
            clock.advance(hours=2.4)
            await asyncio.sleep(0.05)
    finally:
        await service.stop()
    hits = len(feed_server.hits("/feed"))
    assert gaps[:-1] == sorted(gaps[:-1]) and gaps[1] > gaps[0] * 1.3, gaps  # exponential backoff
    assert hits == 1 + DISABLE_AFTER  # one good poll, then one per failure; none after disabling
    notice = discord.texts("discord:1")[1]
    assert "was disabled" in notice and "HTTP 500" in notice and f"{DISABLE_AFTER} failed polls" in notice
    assert out.getvalue().count("was disabled") == 1 and len(discord.sent) == 2

    config = write_config(tmp_path / "cli.toml", "[bot]\ndisable_after_failures = 4\n[[channels]]\nref = \"console\"\n"
                          f'[[feeds]]\nurl = "{feed_server.url("/feed")}"\nchannels = ["console"]\n')
    cli = Cli(tmp_path, config)
    cli.db = db
    listed = cli.json("feeds", "list", "--json")
    assert listed[0]["disabled"] and listed[0]["failures"] == DISABLE_AFTER
    assert "HTTP 500" in listed[0]["disabled_reason"] and sorted(listed[0]["channels"]) == ["console", "discord:1"]
    text = cli("feeds", "list").stdout.decode()
    assert "disabled:" in text and "HTTP 500" in text
    feed_server.set("/feed", body=feed_xml(0, [1, 2, 3]))
    enabled = cli("feeds", "enable", str(listed[0]["id"]))
    assert enabled.returncode == 0, enabled.stderr.decode()
    listed = cli.json("feeds", "list", "--json")
    assert not listed[0]["disabled"] and not listed[0]["disabled_reason"] and listed[0]["failures"] == 0
    polled = cli.json("ingest", "--json")
    assert polled["feeds"] == 1 and polled["errors"] == [] and polled["new_articles"] == 1


async def _true(value: bool) -> bool:
    return value


async def test_unexpected_parser_bug_backs_off_instead_of_crash_looping(tmp_path: Path, feed_server,
                                                                          monkeypatch) -> None:
    feed_server.set("/feed", body=feed_xml(0, [1]))

    def broken_parser(*args, **kwargs):
        raise RuntimeError("a bug in a parser library")

    monkeypatch.setattr(ingest, "parse_source", broken_parser)
    data = settings_data(feed_server.url("/feed"))
    app = App(parse_settings(data), str(tmp_path / "b.db"), clock=FakeClock(), workers=Workers(0))
    await app.open()
    try:
        outcomes = await app.ingest()  # must not raise
        feed = (await app.store.catalog.all_feeds())[0]
    finally:
        await app.close()
    assert outcomes[0].error and "bug in a parser" in outcomes[0].error
    assert feed.failures == 1 and feed.next_poll > feed.last_polled  # type: ignore[operator]


async def test_stalled_sender_is_restarted_and_the_log_says_so(tmp_path: Path, feed_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.service")
    feed_server.set("/feed", body=feed_xml(0, [1, 2]))
    clock = FakeClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    discord = RecordingAdapter()
    discord.hang.set()  # the first send never returns (a platform call stuck without a timeout)
    data = settings_data(feed_server.url("/feed"))
    data["channels"] = [{"ref": "discord:1"}]
    data["feeds"][0]["channels"] = ["discord:1"]
    service = Service(parse_settings(data), db_path=str(tmp_path / "w.db"), clock=clock, adapters=[discord],
                      workers=Workers(0))
    await service.start()
    try:
        await wait_for(lambda: _true(not discord.hang.is_set()), what="the sender is stuck")
        await asyncio.sleep(0.2)
        assert discord.sent == []
        for _ in range(int(STALL_AFTER / 60) + 2):  # clock time passes in steps; healthy loops keep beating
            clock.advance(60)
            await asyncio.sleep(0.1)
        await wait_for(lambda: _true(len(discord.sent) == 1), what="delivery after the restart")
        pending = await service.store.ledger.pending()
    finally:
        await service.stop()
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.service"]
    restarts = [m for m in messages if "made no progress" in m]
    assert len(restarts) == 1 and "the sender loop" in restarts[0], messages
    assert pending == [] and len(discord.sent) == 1  # delivered once, by the restarted sender
    assert json.dumps(discord.sent).count("Item2 ") == 1
