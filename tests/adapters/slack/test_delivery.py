"""send(): limits on the wire, escaping, 429s, pacing and permanent failures."""

from __future__ import annotations

import asyncio

import pytest

from bot.models import AlsoLink, Digest, DigestItem
from bot.ports import DeliveryError
from tests.adapters.slack.conftest import GENERAL, RANDOM, channel, long_item
from tests.fakes.slack import FakeSlack
from tests.fakes.slack.blockkit import validate_message

HOSTILE = "<!channel> &lt;!here&gt; <https://evil.example|https://bank.example>"


async def send_digest(adapter, digest: Digest, prefix: str = "d") -> list:
    return [await adapter.send(digest.channel, part, nonce=f"{prefix}-{i}")
            for i, part in enumerate(adapter.render_digest(digest))]


async def test_forty_long_items_land_as_valid_messages(fake: FakeSlack, start_adapter) -> None:
    adapter = await start_adapter("socket")
    items = [long_item(n) for n in range(1, 41)]
    sent = await send_digest(adapter, Digest(channel=channel(), items=items, more=7))
    posts = fake.posts_in(GENERAL)
    assert len(posts) == len(sent) >= 2
    for post in posts:
        assert validate_message(post.text, post.blocks) == (None, [])
        assert len(post.text) <= 4000 and len(post.blocks) <= 50
    shown = "\n".join(p.display() for p in posts)
    for n in range(1, 41):  # every item arrives, once, in order
        assert shown.count(f"Story number {n}: ") == 1
    order = [shown.index(f"Story number {n}: ") for n in range(1, 41)]
    assert order == sorted(order)
    assert "…and 7 more" in posts[-1].display()
    assert [p.blocks[0]["text"]["text"] for p in posts][-1].endswith(f"({len(posts)}/{len(posts)})")


async def test_hostile_title_renders_literally_and_notifies_no_one(fake: FakeSlack, start_adapter) -> None:
    adapter = await start_adapter("socket")
    item = DigestItem(article_id=1, title=HOSTILE, url="https://news.example/1", feed="<!everyone> feed",
                      published=None, summary=[f"Summary with {HOSTILE} and @here inside."],
                      also=[AlsoLink(feed="<@U0ADMIN0001>", title="", url="https://x.example/a|b")])
    await send_digest(adapter, Digest(channel=channel(), items=[item], title="News digest"))
    [post] = fake.posts_in(GENERAL)
    assert post.mentions() == []
    assert HOSTILE in post.display() and "<!everyone> feed" in post.display()
    assert {url for url, _ in post.links()} == {"https://news.example/1", "https://x.example/a%7Cb"}
    assert all(label != "https://bank.example" for _, label in post.links())
    assert "link_names" not in post.args and "parse" not in post.args
    assert "&lt;!channel&gt; &amp;lt;!here&amp;gt;" in post.text  # escaped once, never decoded first


async def test_rate_limit_is_waited_out_without_loss_or_duplicates(fake: FakeSlack, start_adapter) -> None:
    adapter = await start_adapter("socket")
    fake.rate_limit("chat.postMessage", retry_after=1, times=1)
    items = [long_item(n) for n in range(1, 30)]
    parts = adapter.render_digest(Digest(channel=channel(), items=items))
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i, part in enumerate(parts):
        await adapter.send(channel(), part, nonce=f"r-{i}")
    assert loop.time() - started >= 1.0
    assert fake.rate_limited == [("chat.postMessage", 1.0)]
    posts = fake.posts_in(GENERAL)
    assert [p.text for p in posts] == [part["text"] for part in parts]  # all, in order, once


async def test_long_retry_after_goes_back_to_the_core(fake: FakeSlack, start_adapter) -> None:
    adapter = await start_adapter("socket")
    fake.rate_limit("chat.postMessage", retry_after=3600, times=1)
    [part] = adapter.render_digest(Digest(channel=channel(), items=[long_item(1, words=20)]))
    with pytest.raises(DeliveryError) as err:
        await adapter.send(channel(), part, nonce="x-0")
    assert err.value.retry_after == 3600 and not err.value.permanent
    assert fake.posts == []


async def test_posts_are_paced_per_channel(fake: FakeSlack, start_adapter) -> None:
    adapter = await start_adapter("socket", messages_per_second=5.0)
    fake.add_channel("C0OTHER0001", "other")
    [part] = adapter.render_digest(Digest(channel=channel(), items=[long_item(1, words=20)]))
    for i in range(3):
        await adapter.send(channel(), part, nonce=f"p-{i}")
        await adapter.send(channel("C0OTHER0001"), part, nonce=f"p-{i}")
    for cid in (GENERAL, "C0OTHER0001"):
        times = [p.at for p in fake.posts_in(cid)]
        assert len(times) == 3
        assert all(b - a >= 0.18 for a, b in zip(times, times[1:], strict=False))


async def test_same_nonce_is_not_posted_twice(fake: FakeSlack, start_adapter) -> None:
    adapter = await start_adapter("socket")
    [part] = adapter.render_digest(Digest(channel=channel(), items=[long_item(1, words=20)]))
    first = await adapter.send(channel(), part, nonce="same")
    second = await adapter.send(channel(), part, nonce="same")
    assert first.message_id == second.message_id and len(fake.posts) == 1


@pytest.mark.parametrize(("cid", "code"), [(RANDOM, "not_in_channel"), ("C0MISSING01", "channel_not_found")])
async def test_missing_access_is_permanent(fake: FakeSlack, start_adapter, caplog, cid: str,
                                           code: str) -> None:
    adapter = await start_adapter("socket")
    [part] = adapter.render_digest(
        Digest(channel=channel(cid), items=[long_item(1, words=20)]))
    with pytest.raises(DeliveryError) as err:
        await adapter.send(channel(cid), part, nonce="n-0")
    assert err.value.permanent and code in str(err.value) and cid in str(err.value)
    assert code in caplog.text and fake.bot_token not in caplog.text
