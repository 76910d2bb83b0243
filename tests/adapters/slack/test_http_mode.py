"""HTTP mode through a real socket: signed requests, the replay window, acks and digests."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest

from tests.adapters.slack.conftest import ADMIN, GENERAL, MEMBER, SIGNING_SECRET, long_item
from tests.fakes.slack import FakeSlack, signed_request


async def post(adapter, body: bytes, headers: dict[str, str]) -> tuple[int, dict | str, float]:
    url = f"http://127.0.0.1:{adapter.bound_port}/slack/events"
    started = time.monotonic()
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        answer = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, answer, time.monotonic() - started


async def test_bound_port_is_exposed_and_logged(fake: FakeSlack, start_adapter, caplog) -> None:
    caplog.set_level(logging.INFO, logger="adapters.slack")
    adapter = await start_adapter("http")
    assert adapter.mode == "http" and adapter.bound_port and adapter.bound_port > 0
    assert f":{adapter.bound_port}/slack/events" in caplog.text
    assert fake.bot_token not in caplog.text


async def test_signed_admin_subscribe_writes(fake: FakeSlack, core, start_adapter) -> None:
    adapter = await start_adapter("http")
    payload = fake.command("/subscribe", "https://feeds.example/a.xml", user_id=ADMIN, channel_id=GENERAL)
    status, answer, elapsed = await post(adapter, *signed_request(payload, SIGNING_SECRET))
    assert status == 200 and elapsed < 3.0
    assert "Subscribed" in answer["text"] and answer["response_type"] == "ephemeral"
    assert core.subscriptions == {GENERAL: ["https://feeds.example/a.xml"]}


async def test_signed_non_admin_subscribe_is_refused(fake: FakeSlack, core, start_adapter) -> None:
    adapter = await start_adapter("http")
    payload = fake.command("/subscribe", "https://feeds.example/a.xml", user_id=MEMBER, channel_id=GENERAL)
    status, answer, _ = await post(adapter, *signed_request(payload, SIGNING_SECRET))
    assert status == 200 and "admins" in answer["text"] and answer["response_type"] == "ephemeral"
    assert core.writes == [] and core.contexts == []


@pytest.mark.parametrize("case", ["wrong secret", "six minutes old", "body changed", "no signature"])
async def test_unverified_requests_get_401_and_write_nothing(fake: FakeSlack, core, start_adapter,
                                                             case: str) -> None:
    adapter = await start_adapter("http")
    payload = fake.command("/subscribe", "https://feeds.example/a.xml", user_id=ADMIN, channel_id=GENERAL)
    secret = "not-the-secret" if case == "wrong secret" else SIGNING_SECRET
    stamp = int(time.time()) - 360 if case == "six minutes old" else None
    body, headers = signed_request(payload, secret, timestamp=stamp, tamper=case == "body changed")
    if case == "no signature":
        del headers["X-Slack-Signature"]
    status, _, _ = await post(adapter, body, headers)
    assert status == 401
    await asyncio.sleep(0.1)
    assert core.writes == [] and core.contexts == [] and fake.posts == []


async def test_digest_acks_and_posts_then_nothing_new(fake: FakeSlack, core, start_adapter) -> None:
    core.items = [long_item(n, words=30) for n in range(1, 4)]
    adapter = await start_adapter("http")
    payload = fake.command("/digest", user_id=MEMBER, channel_id=GENERAL)
    status, answer, elapsed = await post(adapter, *signed_request(payload, SIGNING_SECRET))
    assert status == 200 and elapsed < 3.0 and "Queued 3" in answer["text"]
    await fake.wait_posts(GENERAL, 1)
    again = fake.command("/digest", user_id=MEMBER, channel_id=GENERAL)
    status, answer, _ = await post(adapter, *signed_request(again, SIGNING_SECRET))
    assert status == 200 and "Nothing new" in answer["text"]
    await asyncio.sleep(0.2)
    assert len(fake.posts_in(GENERAL)) == 1


async def test_slow_command_acks_within_deadline_and_follows_up(fake: FakeSlack, core, start_adapter) -> None:
    core.summarize_delay = 0.5
    adapter = await start_adapter("http")
    payload = fake.command("/summarize", "<https://page.example/a|page.example/a>", user_id=MEMBER,
                           channel_id=GENERAL)
    status, answer, elapsed = await post(adapter, *signed_request(payload, SIGNING_SECRET))
    assert status == 200 and elapsed < 1.0 and "Summarizing https://page.example/a" in answer["text"]
    [follow_up] = await fake.wait_responses(payload["response_url"])
    assert "page.example/a" in follow_up["text"] or follow_up["blocks"]
