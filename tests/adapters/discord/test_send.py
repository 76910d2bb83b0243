"""Delivery: nonces, rate limits, server errors, permanent failures, start-up errors."""

from __future__ import annotations

import logging
import time

import pytest

from adapters.discord import DiscordAdapter
from bot.config import Secrets
from bot.models import ChannelRef, Digest, DigestItem
from bot.ports import DeliveryError, SystemClock
from tests.adapters.discord.conftest import discord_settings
from tests.fakes.discord import FakeDiscord


def digest(fake: FakeDiscord, n: int = 3, title: str = "Story") -> Digest:
    ref = ChannelRef("discord", fake.channel_ids[0])
    items = [DigestItem(i, f"{title} {i}", f"https://news.example/{i}", "Feed", None, ["Sentence one."])
             for i in range(n)]
    return Digest(ref, items)


async def test_send_posts_with_no_mentions_and_nonce(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    d = digest(fake)
    (part,) = adapter.render_digest(d)
    sent = await adapter.send(d.channel, part, nonce="nd1p0")
    (posted,) = fake.posted(fake.channel_ids[0])
    assert posted.message["id"] == sent.message_id
    assert posted.body["allowed_mentions"] == {"parse": []}
    assert posted.body["nonce"] == "nd1p0" and posted.body["enforce_nonce"] is True
    assert [e["title"] for e in posted.body["embeds"]] == ["Story 0", "Story 1", "Story 2"]
    # a retry of the same part (e.g. after a crash before it was marked sent) posts nothing new
    again = await adapter.send(d.channel, part, nonce="nd1p0")
    assert again.message_id == sent.message_id and len(fake.posted(fake.channel_ids[0])) == 1
    assert fake.violations == []


async def test_429_burst_global_429_and_500_are_survived(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    d = digest(fake, n=25)
    parts = adapter.render_digest(d)
    assert len(parts) >= 3
    fake.fail_next("messages", 429, count=2, retry_after=0.3)
    fake.fail_next("messages", 429, retry_after=0.3, is_global=True)
    started = time.monotonic()
    ids = [(await adapter.send(d.channel, parts[0], nonce="nd9p0")).message_id]
    fake.fail_next("messages", 500)  # discord.py retries a 5xx after 1 s
    ids += [(await adapter.send(d.channel, p, nonce=f"nd9p{i}")).message_id for i, p in enumerate(parts) if i]
    elapsed = time.monotonic() - started
    posted = fake.posted(fake.channel_ids[0])
    assert [p.message["id"] for p in posted] == ids  # all parts, in order, each exactly once
    assert len({p.body["nonce"] for p in posted}) == len(parts)
    assert [r.status for r in fake.calls("messages")][:6] == [429, 429, 429, 200, 500, 200]
    assert 0.9 <= elapsed < 6  # waited out three retry_after periods and one 5xx backoff
    assert fake.violations == []  # no request arrived while a rate limit was in force


async def test_forbidden_and_unknown_channels_are_permanent(fake: FakeDiscord, adapter: DiscordAdapter,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    (part,) = adapter.render_digest(digest(fake, 1))
    fake.forbidden_channels.add(fake.channel_ids[1])
    with caplog.at_level(logging.WARNING), pytest.raises(DeliveryError) as info:
        await adapter.send(ChannelRef("discord", fake.channel_ids[1]), part, nonce="a")
    assert info.value.permanent and "missing access" in str(info.value)
    assert "missing access" in caplog.text
    with pytest.raises(DeliveryError) as info:
        await adapter.send(ChannelRef("discord", "999999999999999999"), part, nonce="b")
    assert info.value.permanent and "unknown channel" in str(info.value)
    assert fake.token not in caplog.text


async def test_bad_token_fails_start_with_one_clear_line(fake: FakeDiscord, port) -> None:
    bot = DiscordAdapter(discord_settings(fake), Secrets(discord_token="wrong-token-123"), SystemClock(),
                         reconnect=False, guild_ready_timeout=0.1, start_timeout=5)
    with pytest.raises(RuntimeError) as info:
        await bot.start(port)
    assert "token was rejected" in str(info.value) and "wrong-token-123" not in str(info.value)
    await bot.stop()


async def test_global_registration_without_guild_ids(fake: FakeDiscord, port) -> None:
    bot = DiscordAdapter(discord_settings(fake, guild=False), Secrets(discord_token=fake.token), SystemClock(),
                         reconnect=False, guild_ready_timeout=0.1, start_timeout=5)
    await bot.start(port)
    try:
        assert {c["name"] for c in fake.commands[None]} >= {"digest", "feeds"}
        inter = await fake.invoke("feeds")
        await inter.wait_answered()
        assert port.names() == ["feeds"]
    finally:
        await bot.stop()
    await bot.stop()  # idempotent
