"""Socket Mode end to end against the fake: commands, permissions, acks, reconnects."""

from __future__ import annotations

import asyncio

from tests.adapters.slack.conftest import ADMIN, GENERAL, GROUPED, LISTED, MEMBER, OWNER, long_item
from tests.fakes.slack import FakeSlack


async def test_admin_subscribe_writes_and_acks(fake: FakeSlack, core, start_adapter) -> None:
    await start_adapter("socket")
    ack = await fake.slash_command(fake.command("/subscribe", "<https://feeds.example/a.xml?x=1&amp;y=2>",
                                                user_id=ADMIN, channel_id=GENERAL))
    assert ack.latency < 3.0
    assert core.subscriptions == {GENERAL: ["https://feeds.example/a.xml?x=1&y=2"]}
    assert ack.payload is not None and "Subscribed" in ack.payload["text"]
    ctx = core.contexts[-1]
    assert (ctx.channel.platform, ctx.channel.external_id, ctx.user_id, ctx.can_manage) == (
        "slack", GENERAL, ADMIN, True)
    assert ctx.channel_name == "general" and ctx.user_name == "ada"


async def test_owner_listed_user_and_group_member_may_manage(fake: FakeSlack, core, start_adapter) -> None:
    await start_adapter("socket")
    for user in (OWNER, LISTED, GROUPED):
        await fake.slash_command(fake.command("/subscribe", f"https://f.example/{user}", user_id=user,
                                              channel_id=GENERAL))
    assert core.subscriptions[GENERAL] == [f"https://f.example/{u}" for u in (OWNER, LISTED, GROUPED)]
    assert len(fake.calls_to("usergroups.users.list")) == 1  # cached after the first look-up


async def test_non_admin_is_refused_and_nothing_is_written(fake: FakeSlack, core, start_adapter) -> None:
    await start_adapter("socket")
    for command, text in (("/subscribe", "https://f.example/x"), ("/unsubscribe", "1"),
                          ("/schedule", "0 8 * * * Europe/Berlin")):
        ack = await fake.slash_command(fake.command(command, text, user_id=MEMBER, channel_id=GENERAL))
        assert ack.payload["response_type"] == "ephemeral"
        assert "admins" in ack.payload["text"]
    assert core.writes == [] and core.subscriptions == {} and core.schedules == {}
    assert core.contexts == []  # refused before reaching the core


async def test_digest_acks_fast_posts_once_then_nothing_new(fake: FakeSlack, core, start_adapter) -> None:
    core.items = [long_item(1, words=40), long_item(2, words=40)]
    await start_adapter("socket")
    ack = await fake.slash_command(fake.command("/digest", user_id=MEMBER, channel_id=GENERAL))
    assert ack.latency < 3.0 and "Queued 2" in ack.payload["text"]
    posts = await fake.wait_posts(GENERAL, 1)
    assert "Story number 1" in posts[0].display() and "Story number 2" in posts[0].display()

    again = await fake.slash_command(fake.command("/digest", user_id=MEMBER, channel_id=GENERAL))
    assert "Nothing new" in again.payload["text"]
    await asyncio.sleep(0.2)
    assert len(fake.posts_in(GENERAL)) == 1


async def test_disconnect_is_survived(fake: FakeSlack, core, start_adapter) -> None:
    await start_adapter("socket")
    await fake.socket.wait_connections(1)
    await fake.socket.disconnect()
    await fake.socket.wait_connections(2)
    ack = await fake.slash_command(fake.command("/subscribe", "https://f.example/after", user_id=ADMIN,
                                                channel_id=GENERAL))
    assert "Subscribed" in ack.payload["text"]
    assert core.subscriptions[GENERAL] == ["https://f.example/after"]
    assert len(fake.calls_to("apps.connections.open")) == 2


async def test_slow_summarize_acks_first_then_answers_once_via_response_url(
        fake: FakeSlack, core, start_adapter) -> None:
    core.summarize_delay = 3.2  # longer than Slack's 3 s ack window
    await start_adapter("socket")
    payload = fake.command("/summarize", "https://page.example/a", user_id=MEMBER, channel_id=GENERAL)
    ack = await fake.slash_command(payload)
    assert ack.latency < 1.0 and "Summarizing" in ack.payload["text"]
    [answer] = await fake.wait_responses(payload["response_url"], 1)
    assert answer["response_type"] == "ephemeral"
    text = "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")
    assert "&lt;b&gt;page&lt;/b&gt;" in text and "• One." in text
    assert fake.response_urls[payload["response_url"].split("/response/")[1]].uses == 1


async def test_configured_command_names_and_usage(fake: FakeSlack, core, start_adapter) -> None:
    core.items = [long_item(1, words=20)]
    await start_adapter("socket", commands={"digest": "/news", "summarize": "sum"})
    ack = await fake.slash_command(fake.command("/news", user_id=MEMBER, channel_id=GENERAL))
    assert "Queued 1" in ack.payload["text"]
    usage = await fake.slash_command(fake.command("/sum", "", user_id=MEMBER, channel_id=GENERAL))
    assert usage.payload["text"].startswith("Usage: /sum")


async def test_feeds_reply_escapes_titles(fake: FakeSlack, core, start_adapter) -> None:
    await start_adapter("socket")
    ack = await fake.slash_command(fake.command("/feeds", user_id=MEMBER, channel_id=GENERAL))
    body = "\n".join(b["text"]["text"] for b in ack.payload["blocks"])
    assert "<!here>" not in body and "Feed 0 &lt;!here&gt;" in body
