"""The fake itself must catch what real Slack would reject."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.adapters.slack.conftest import GENERAL, MEMBER
from tests.fakes.slack import FakeSlack
from tests.fakes.slack.spec import check_arguments


def test_spec_argument_check() -> None:
    assert check_arguments("chat.postMessage", {"channel": "C1", "text": "x"}) == []
    problems = check_arguments("chat.postMessage", {"blcoks": "[]", "text": "x"})
    assert "chat.postMessage: unknown argument 'blcoks'" in problems
    assert "chat.postMessage: missing required argument 'channel'" in problems
    assert check_arguments("users.info", {"user": "U1", "team_id": "T1"}) == []
    assert check_arguments("no.such.method", {}) == ["no.such.method: not a Slack Web API method"]


async def test_fake_rejects_bad_calls_and_records_violations(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=GENERAL, text="x", blocks=[{"type": "section", "text": {
            "type": "mrkdwn", "text": "y" * 3001}}])
    assert err.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=GENERAL, text="x" * 4001)
    assert err.value.response["error"] == "msg_too_long"
    with pytest.raises(SlackApiError) as err:
        await client.api_call("chat.postMessage", json={"channel": GENERAL, "txet": "x"})
    assert err.value.response["error"] == "invalid_arguments"
    await client.chat_postMessage(channel=GENERAL, text="hi <!here>", link_names=True)
    assert fake.posts[-1].mentions() == ["<!here>"]
    assert len(fake.violations) == 4
    bad = AsyncWebClient(token="xoxb-nope", base_url=fake.base_url)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await bad.auth_test()
    fake.violations.clear()


async def test_response_url_allows_five_uses_within_thirty_minutes(fake: FakeSlack) -> None:
    url = fake.command("/feeds", user_id=MEMBER, channel_id=GENERAL)["response_url"]
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(6):
            async with session.post(url, json={"text": "hi", "response_type": "ephemeral"}) as resp:
                statuses.append(resp.status)
        assert statuses == [200] * 5 + [404]
        late = fake.new_response_url()
        fake.age_response_url(late, 31 * 60)
        async with session.post(late, json={"text": "late"}) as resp:
            assert resp.status == 404 and await resp.text() == "expired_url"
    assert len(fake.responses(url)) == 5
    assert fake.violations == ["response_url: used more than 5 times", "response_url: used after 30 minutes"]
    fake.violations.clear()
