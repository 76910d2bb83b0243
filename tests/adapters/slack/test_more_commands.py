"""/digest preview, /why and /filter reach the core's CommandPort with the right arguments."""

from __future__ import annotations

from tests.adapters.slack.conftest import ADMIN, GENERAL, MEMBER, SIGNING_SECRET, long_item
from tests.adapters.slack.test_http_mode import post
from tests.fakes.slack import FakeSlack, signed_request


async def run(fake: FakeSlack, adapter, name: str, text: str, user: str) -> dict:
    payload = fake.command(name, text, user_id=user, channel_id=GENERAL)
    status, answer, elapsed = await post(adapter, *signed_request(payload, SIGNING_SECRET))
    assert status == 200 and elapsed < 3.0
    return answer


async def test_preview_why_and_filter(fake: FakeSlack, core, start_adapter) -> None:
    core.items = [long_item(n, words=30) for n in range(1, 3)]
    adapter = await start_adapter("http")
    answer = await run(fake, adapter, "/digest", "preview", MEMBER)
    assert answer["text"] == "Preview: 2 items" and answer["response_type"] == "ephemeral"
    assert fake.posts == [] and core.delivered == set()  # a preview posts and records nothing
    assert "Usage: /digest [preview]" in (await run(fake, adapter, "/digest", "later", MEMBER))["text"]

    answer = await run(fake, adapter, "/why", "<https://news.example/1|news.example/1>", MEMBER)
    assert answer["text"] == "Why https://news.example/1: posted"
    assert "Usage: /why &lt;article url&gt;" in (await run(fake, adapter, "/why", "", MEMBER))["text"]

    assert (await run(fake, adapter, "/filter", "list", MEMBER))["text"] == "filter list"
    refused = await run(fake, adapter, "/filter", "add exclude crypto", MEMBER)
    assert refused["text"] == "not allowed" and core.writes == []
    await run(fake, adapter, "/filter", "add exclude title:crypto &amp; coins", ADMIN)
    assert core.writes == [("filter", "add exclude title:crypto & coins")]
    assert [c.can_manage for c in core.contexts[-2:]] == [False, True]
