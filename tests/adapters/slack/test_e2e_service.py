"""The real core (bot.service.Service) with the real SlackAdapter against the fake Slack."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.config import BotSettings, ChannelSettings, FetchSettings, Settings, SlackSettings
from bot.models import ChannelRef
from bot.service import Service
from tests.adapters.slack.conftest import (
    ADMIN,
    GENERAL,
    MEMBER,
    RANDOM,
    SIGNING_SECRET,
    http_secrets,
    socket_secrets,
)
from tests.adapters.slack.feedserver import HOSTILE_SHOWN, FeedServer
from tests.fakes.slack import FakeSlack, signed_request
from tests.fakes.slack.blockkit import validate_message
from tests.support.clock import FakeClock


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = await FeedServer(count=3).start()
    yield server
    await server.stop()


def e2e_settings(fake: FakeSlack, **slack: Any) -> Settings:
    return Settings(
        bot=BotSettings(adapters=["slack"]),
        fetch=FetchSettings(allow_private_addresses=True, allowed_ports=[], full_text="never"),
        channels=[ChannelSettings(ref=f"slack:{GENERAL}", schedule="immediate", backfill=3)],
        slack=SlackSettings(api_base_url=fake.base_url, http_host="127.0.0.1", http_port=0,
                            admins=[], messages_per_second=20.0, **slack),
    )


@pytest.fixture
async def service(fake: FakeSlack, tmp_path) -> AsyncIterator[Any]:
    started: list[Service] = []

    async def start(mode: str, **slack: Any) -> Service:
        secrets = socket_secrets(fake) if mode == "socket" else http_secrets(fake)
        svc = Service(e2e_settings(fake, **slack), secrets, db_path=str(tmp_path / "bot.db"),
                      clock=FakeClock(tick=0.02))
        # The first worker job blocks the event loop ~2.5 s while the forkserver preloads
        # (reported to the lead); start the pool before any slash command can arrive.
        await svc.app.workers.run(abs, 1)
        await svc.start()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        await svc.stop()


async def answer(fake: FakeSlack, payload: dict[str, str], ack) -> str:
    """The command's answer: in the ack, or (when the core was slow) via response_url."""
    assert ack.latency < 3.0
    if "Working on it" not in ack.payload["text"]:
        return ack.payload["text"]
    [body] = await fake.wait_responses(payload["response_url"], 1, timeout=15)
    return body["text"]


async def feed_urls(svc: Service) -> list[str]:
    return [f.url for f in await svc.store.catalog.all_feeds()]


def check_posts(posts) -> None:
    for post in posts:
        assert validate_message(post.text, post.blocks) == (None, [])
        assert post.mentions() == []


async def test_socket_mode_end_to_end(fake: FakeSlack, feeds: FeedServer, service) -> None:
    svc = await service("socket")
    fake.rate_limit("chat.postMessage", retry_after=1, times=1)

    refused = await fake.slash_command(fake.command("/subscribe", feeds.url, user_id=MEMBER,
                                                    channel_id=GENERAL))
    assert refused.payload["response_type"] == "ephemeral" and "admins" in refused.payload["text"]
    assert await feed_urls(svc) == []

    payload = fake.command("/subscribe", f"<{feeds.url}>", user_id=ADMIN, channel_id=GENERAL)
    assert "Subscribed to Town News" in await answer(fake, payload, await fake.slash_command(payload))
    assert await feed_urls(svc) == [feeds.url]

    posts = await fake.wait_posts(GENERAL, 1, timeout=15)
    await asyncio.sleep(0.3)
    posts = fake.posts_in(GENERAL)
    assert len(posts) == 1  # the 429 was waited out: one post, not two
    assert fake.rate_limited == [("chat.postMessage", 1.0)]
    check_posts(posts)
    shown = posts[0].display()
    assert HOSTILE_SHOWN in shown and "Council story 1" in shown and "Council story 2" in shown

    again = await fake.slash_command(fake.command("/digest", user_id=MEMBER, channel_id=GENERAL))
    assert again.latency < 3.0 and "Nothing new" in again.payload["text"]

    await fake.socket.disconnect()
    await fake.socket.wait_connections(2)
    listing = await fake.slash_command(fake.command("/feeds", user_id=MEMBER, channel_id=GENERAL))
    assert "Town News" in listing.payload["text"]
    await asyncio.sleep(0.3)
    assert len(fake.posts_in(GENERAL)) == 1


async def test_not_in_channel_is_reported_in_feeds(fake: FakeSlack, feeds: FeedServer, service,
                                                   caplog) -> None:
    svc = await service("socket")
    payload = fake.command("/subscribe", feeds.url, user_id=ADMIN, channel_id=RANDOM)
    assert "Subscribed" in await answer(fake, payload, await fake.slash_command(payload))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the failure is logged first, then stored on the channel
        channel = await svc.store.catalog.channel(ChannelRef("slack", RANDOM))
        if channel is not None and "not_in_channel" in (channel.last_error or ""):
            break
        await asyncio.sleep(0.05)
    assert "not_in_channel" in caplog.text
    listing = await fake.slash_command(fake.command("/feeds", user_id=MEMBER, channel_id=RANDOM))
    assert "not_in_channel" in listing.payload["text"] and "/invite" in listing.payload["text"]
    assert fake.posts_in(RANDOM) == [] and fake.bot_token not in caplog.text
    assert await feed_urls(svc) == [feeds.url]


async def signed_post(port: int, payload: dict[str, str], **kwargs: Any) -> tuple[int, Any]:
    body, headers = signed_request(payload, kwargs.pop("secret", SIGNING_SECRET), **kwargs)
    async with aiohttp.ClientSession() as session, session.post(
            f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as resp:
        return resp.status, (await resp.json() if resp.status == 200 else None)


async def test_http_mode_end_to_end(fake: FakeSlack, feeds: FeedServer, service) -> None:
    svc = await service("http")
    port = svc.adapters["slack"].bound_port
    old = int(time.time()) - 360
    for kwargs in ({"secret": "wrong"}, {"timestamp": old}):
        status, _ = await signed_post(port, fake.command("/subscribe", feeds.url, user_id=ADMIN,
                                                         channel_id=GENERAL), **kwargs)
        assert status == 401
    status, answer = await signed_post(port, fake.command("/subscribe", feeds.url, user_id=MEMBER,
                                                          channel_id=GENERAL))
    assert status == 200 and answer["response_type"] == "ephemeral"
    assert await feed_urls(svc) == []

    started = time.monotonic()
    payload = fake.command("/subscribe", feeds.url, user_id=ADMIN, channel_id=GENERAL)
    status, answer = await signed_post(port, payload)
    assert status == 200 and time.monotonic() - started < 3.0
    if "Working on it" in answer["text"]:
        [answer] = await fake.wait_responses(payload["response_url"], 1, timeout=15)
    assert "Subscribed" in answer["text"]
    posts = await fake.wait_posts(GENERAL, 1, timeout=15)
    check_posts(posts)

    status, answer = await signed_post(port, fake.command("/digest", user_id=MEMBER, channel_id=GENERAL))
    assert status == 200 and "Nothing new" in answer["text"]
    await asyncio.sleep(0.3)
    assert len(fake.posts_in(GENERAL)) == 1
