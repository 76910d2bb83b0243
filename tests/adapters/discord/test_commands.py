"""Slash commands through the real discord.py client against the fake Discord."""

from __future__ import annotations

import asyncio

from bot.models import FeedHealth
from bot.ports import Reply
from tests.fakes.discord import MANAGE_CHANNELS, FakeDiscord

MANAGER = (1 << 10) | (1 << 11) | MANAGE_CHANNELS


async def test_commands_registered_per_guild_with_hints(fake: FakeDiscord, adapter) -> None:
    names = {c["name"]: c for c in fake.commands[fake.guild_id]}
    assert set(names) == {"digest", "summarize", "subscribe", "unsubscribe", "feeds", "schedule", "why", "filter"}
    assert {o["name"] for o in names["filter"]["options"]} == {"add", "remove", "list"}
    for name in ("subscribe", "unsubscribe", "schedule"):
        assert names[name]["default_member_permissions"] in (MANAGE_CHANNELS, str(MANAGE_CHANNELS))
    assert None not in fake.commands  # nothing registered globally when guild_ids is set
    assert fake.identify_payloads[0]["intents"] & ((1 << 1) | (1 << 8) | (1 << 15)) == 0
    assert fake.violations == [] and fake.unhandled == []


async def test_digest_defers_at_once_then_answers_privately(fake: FakeDiscord, adapter, port) -> None:
    port.replies["digest"] = Reply("Posting a digest of 3 items.")
    inter = await fake.invoke("digest")
    answer = await inter.wait_answered()
    assert answer["content"] == "Posting a digest of 3 items."
    assert inter.callback_type == 5 and inter.ephemeral() and inter.latency < 1.0
    assert answer["allowed_mentions"] == {"parse": []}
    (name, ctx, _), = port.calls
    assert (name, str(ctx.channel), ctx.can_manage) == ("digest", f"discord:{fake.channel_ids[0]}", False)
    assert fake.violations == []


async def test_quick_commands_answer_directly(fake: FakeDiscord, adapter, port) -> None:
    port.replies["feeds"] = Reply("This channel follows no feeds yet.")
    inter = await fake.invoke("feeds")
    answer = await inter.wait_answered()
    assert inter.callback_type == 4 and inter.ephemeral() and inter.latency < 1.0
    assert answer["content"] == "This channel follows no feeds yet."


async def test_subscribe_refused_without_manage_channels(fake: FakeDiscord, adapter, port) -> None:
    inter = await fake.invoke("subscribe", {"url": "https://feeds.example/rss"})
    answer = await inter.wait_answered()
    assert "Manage Channels" in answer["content"] and inter.ephemeral()
    assert port.calls == []  # the core was never asked, so nothing can be written


async def test_subscribe_unsubscribe_schedule_with_manage_channels(fake: FakeDiscord, adapter, port) -> None:
    port.replies["subscribe"] = Reply("Subscribed.", ephemeral=False)
    inter = await fake.invoke("subscribe", {"url": "https://feeds.example/rss"}, permissions=MANAGER)
    await inter.wait_answered()
    assert not inter.ephemeral()
    inter = await fake.invoke("schedule", {"when": "0 8 * * *", "timezone": "Europe/Berlin"}, permissions=MANAGER)
    await inter.wait_answered()
    inter = await fake.invoke("unsubscribe", {"feed": "3"}, permissions=MANAGER)
    await inter.wait_answered()
    calls = [(n, a, c.can_manage) for n, c, a in port.calls]
    assert calls == [("subscribe", ("https://feeds.example/rss",), True),
                     ("schedule", ("0 8 * * *", "Europe/Berlin"), True), ("unsubscribe", ("3",), True)]
    assert fake.violations == []


async def test_manage_commands_refused_in_dms(fake: FakeDiscord, adapter, port) -> None:
    inter = await fake.invoke("schedule", {"when": "immediate"}, permissions=MANAGER, in_guild=False)
    answer = await inter.wait_answered()
    assert "server channel" in answer["content"] and port.calls == []


async def test_unsubscribe_autocomplete_is_capped(fake: FakeDiscord, adapter, port) -> None:
    inter = await fake.invoke("unsubscribe", {"feed": "ne"}, permissions=MANAGER, focused="feed")
    await inter.wait_answered()
    assert inter.callback_type == 8
    choices = inter.callbacks[0]["data"]["choices"]
    assert len(choices) == 25 and choices[0] == {"name": "Feed 0 ne", "value": "0"}
    assert port.calls[0][0] == "feed_choices" and port.calls[0][2] == ("ne",)


async def test_slow_core_is_deferred_within_deadline_then_followed_up(fake: FakeDiscord, adapter, port) -> None:
    port.delay["feeds"] = 2.5
    port.feed_list = [FeedHealth(1, "https://f.example/rss", "F", ["discord:1"], None, "timeout", None, 2)]
    port.replies["feeds"] = Reply("#1 F — failing\nDelivery problem in this channel: missing access")
    inter = await fake.invoke("feeds")
    answer = await inter.wait_answered(timeout=6)
    assert inter.callback_type == 5 and inter.latency < 2.0
    assert [k for k, _ in inter.followups] == ["edit"]
    assert "Delivery problem" in answer["content"] and "#1 F" not in answer["content"]
    assert "Last error: timeout" in answer["embeds"][0]["fields"][0]["value"]
    assert fake.violations == []


async def test_summarize_defers_first_and_follows_up(fake: FakeDiscord, adapter, port) -> None:
    port.delay["summarize"] = 0.3
    port.replies["summarize"] = Reply("One. Two.", ephemeral=False, summary={
        "title": "A story", "url": "https://news.example/s", "language": "english", "algorithm": "news",
        "sentences": ["One.", "Two."]})
    inter = await fake.invoke("summarize", {"url": "https://news.example/s"})
    answer = await inter.wait_answered()
    assert inter.callback_type == 5 and inter.latency < 0.5
    assert not inter.ephemeral()
    assert answer["embeds"][0]["title"] == "A story" and "One. Two." in answer["embeds"][0]["description"]
    assert fake.violations == []


async def test_summarize_error_is_one_private_line(fake: FakeDiscord, adapter, port) -> None:
    port.replies["summarize"] = Reply("Cannot summarize that: not an article", ok=False)
    inter = await fake.invoke("summarize", {"url": "https://news.example/s"})
    answer = await inter.wait_answered()
    assert [k for k, _ in inter.followups] == ["delete", "create"]
    assert answer["content"] == "Cannot summarize that: not an article" and answer["flags"] & 64


async def test_core_crash_becomes_one_ephemeral_line(fake: FakeDiscord, adapter, port) -> None:
    port.raise_in.add("digest")
    inter = await fake.invoke("digest")
    answer = await inter.wait_answered()
    assert answer["content"] == "Sorry, /digest failed on our side; the error was logged."
    assert inter.ephemeral() and "Traceback" not in answer["content"] and fake.token not in str(answer)


async def test_fake_enforces_interaction_windows(fake: FakeDiscord, adapter, port) -> None:
    # a callback later than the deadline is "Unknown interaction"; a second callback is 40060
    fake.callback_deadline = 0.2
    port.delay["feeds"] = 0.5
    inter = await fake.invoke("feeds")
    for _ in range(40):
        if inter.rejected:
            break
        await asyncio.sleep(0.05)
    assert inter.rejected == [(404, 10062)] and inter.callbacks == []
    fake.callback_deadline = 3.0
    port.delay.clear()
    inter = await fake.invoke("feeds")
    await inter.wait_answered()
    status = await _raw_post(fake, f"/interactions/{inter.id}/{inter.token}/callback", {"type": 5})
    assert status == (400, 40060)
    inter.age(16 * 60)
    assert await _raw_post(fake, f"/webhooks/{fake.app_id}/{inter.token}", {"content": "x"}) == (401, 50027)


async def _raw_post(fake: FakeDiscord, path: str, body: dict) -> tuple[int, int]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.post(fake.base_url + path, json=body) as resp:
        return resp.status, (await resp.json(content_type=None))["code"]


async def test_digest_preview_why_and_filters_reach_the_core(fake: FakeDiscord, adapter, port) -> None:
    port.replies["digest_preview"] = Reply("Preview: 1. Storm closes tunnel")
    inter = await fake.invoke("digest", {"preview": True})
    answer = await inter.wait_answered()
    assert answer["content"] == "Preview: 1. Storm closes tunnel" and inter.ephemeral()
    inter = await fake.invoke("why", {"url": "https://news.example/a"})
    await inter.wait_answered()
    inter = await fake.invoke("filter add", {"action": "exclude", "pattern": "^Opinion", "regex": True,
                                             "field": "title"}, permissions=MANAGER)
    await inter.wait_answered()
    inter = await fake.invoke("filter remove", {"number": 4}, permissions=MANAGER)
    await inter.wait_answered()
    inter = await fake.invoke("filter list")
    await inter.wait_answered()
    assert [(n, a) for n, _, a in port.calls] == [
        ("digest_preview", ()), ("why", ("https://news.example/a",)),
        ("filter", ("add", "exclude-regex", "title:^Opinion")), ("filter", ("remove", "4")), ("filter", ("list",))]
    assert fake.violations == [] and fake.unhandled == []


async def test_filter_changes_need_manage_channels(fake: FakeDiscord, adapter, port) -> None:
    inter = await fake.invoke("filter add", {"action": "exclude", "pattern": "sport"})
    answer = await inter.wait_answered()
    assert "Manage Channels" in answer["content"] and inter.ephemeral()
    assert port.calls == []
