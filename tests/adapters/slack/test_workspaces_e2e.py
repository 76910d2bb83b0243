"""One deployment, two workspaces: the real core (Service) + real slack-bolt against the fake Slack.

Both install through the OAuth flow, subscribe a channel each to the same feed, and get their
digests with their own tokens; one uninstalls (no call with its token afterwards, the other goes
on) and reinstalls (one digest, not a flood).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.cli_commands import cmd_feeds
from bot.config import BotSettings, FetchSettings, Settings
from bot.service import Service
from tests.adapters.slack.conftest import SIGNING_SECRET
from tests.adapters.slack.feedserver import FeedServer
from tests.adapters.slack.oauth_support import (
    ADMIN_A,
    ADMIN_B,
    CHAN_A,
    CHAN_B,
    TEAM_A,
    TEAM_B,
    Browser,
    oauth_secrets,
    oauth_slack,
    post_event,
    two_teams,
    until,
)
from tests.fakes.slack import FakeSlack, signed_request
from tests.support.clock import FakeClock


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = await FeedServer(count=3).start()
    yield server
    await server.stop()


@pytest.fixture
async def service(fake: FakeSlack, tmp_path) -> AsyncIterator[Service]:
    two_teams(fake)
    settings = Settings(bot=BotSettings(adapters=["slack"]),
                        fetch=FetchSettings(allow_private_addresses=True, allowed_ports=[], full_text="never"),
                        slack=oauth_slack(fake))
    svc = Service(settings, oauth_secrets(), db_path=str(tmp_path / "bot.db"), clock=FakeClock(tick=0.02))
    await svc.app.workers.run(abs, 1)  # warm the worker pool before commands arrive (see test_e2e_service)
    await svc.start()
    fake.redirect_url = f"http://127.0.0.1:{svc.adapters['slack'].bound_port}/slack/oauth_redirect"  # type: ignore[attr-defined]
    yield svc
    await svc.stop()


def port_of(svc: Service) -> int:
    return svc.adapters["slack"].bound_port  # type: ignore[attr-defined,return-value]


async def command(fake: FakeSlack, svc: Service, name: str, text: str, *, user: str, channel: str) -> str:
    import aiohttp

    payload = fake.command(name, text, user_id=user, channel_id=channel)
    body, headers = signed_request(payload, SIGNING_SECRET)
    async with aiohttp.ClientSession() as session, session.post(
            f"http://127.0.0.1:{port_of(svc)}/slack/events", data=body, headers=headers) as resp:
        assert resp.status == 200
        answer = await resp.json()
    if "Working on it" in answer["text"]:
        [answer] = await fake.wait_responses(payload["response_url"], 1, timeout=15)
    return answer["text"]


def post_tokens(fake: FakeSlack, channel: str) -> list[str | None]:
    return [c.token for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]


async def pending_for(svc: Service, channel: str) -> int:
    ids = {c.id for c in await svc.store.catalog.all_channels() if c.ref.external_id == channel}
    return len([p for p in await svc.store.ledger.pending() if p.channel_id in ids])


async def poll_round(svc: Service, feeds: FeedServer, count: int) -> None:
    """The feed grows to `count` items and the next poll comes due. Time moves in steps the
    loops keep up with, so the watchdog (10 silent minutes) never restarts one."""
    feeds.count = count
    for _ in range(4):  # 1200 s: past the poll interval (900 s ± 10 %)
        now = svc.clock.advance(seconds=300)  # type: ignore[attr-defined]

        async def beaten(now=now) -> bool:
            return all(svc._beats[name] >= now for name in ("poller", "scheduler", "sender"))  # type: ignore[operator]
        await until(beaten, "every loop saw the new time")


async def feeds_json(svc: Service, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    await cmd_feeds(svc.app, argparse.Namespace(feeds_command="list", json=True), svc.secrets)
    return json.loads(capsys.readouterr().out)


async def test_two_workspaces_install_post_uninstall_and_resume(fake: FakeSlack, feeds: FeedServer,
                                                                service: Service, capsys, caplog) -> None:
    svc = service
    for team in (TEAM_A, TEAM_B):
        page = await Browser(team).install(port_of(svc))
        assert page.status == 200 and "/invite @newsdigest" in page.text
    [token_a], [token_b] = fake.team_tokens(TEAM_A), fake.team_tokens(TEAM_B)

    for user, chan in ((ADMIN_A, CHAN_A), (ADMIN_B, CHAN_B)):
        assert "Subscribed" in await command(fake, svc, "/subscribe", feeds.url, user=user, channel=chan)
    await fake.wait_posts(CHAN_A, 1, timeout=20)
    await fake.wait_posts(CHAN_B, 1, timeout=20)
    assert set(post_tokens(fake, CHAN_A)) == {token_a} and set(post_tokens(fake, CHAN_B)) == {token_b}
    # one feed, its articles fetched and summarized once, two deliveries
    assert len(await svc.store.catalog.all_feeds()) == 1
    assert await svc.store.db.scalar("SELECT COUNT(*) FROM articles") == 3
    assert await svc.store.db.scalar("SELECT COUNT(DISTINCT article_id) FROM summaries") == 3
    listing = await feeds_json(svc, capsys)
    details = {d["ref"]: d for d in listing[0]["channel_details"]}
    assert details[f"slack:{CHAN_A}"]["team"] == TEAM_A and details[f"slack:{CHAN_B}"]["team"] == TEAM_B
    assert set(listing[0]["channels"]) == {f"slack:{CHAN_A}", f"slack:{CHAN_B}"}

    # workspace A uninstalls: Slack kills its token and tells us through the Events API
    assert await post_event(port_of(svc), fake.uninstall(TEAM_A)) == 200

    async def a_forgotten() -> bool:
        row = await svc.store.installations.get("slack", TEAM_A)
        return row is not None and row.sealed is None
    await until(a_forgotten, "workspace A's tokens are deleted")
    calls_a = len(fake.calls_with([token_a]))
    posts_a = len(fake.posts_in(CHAN_A))
    for round_, count in enumerate((5, 7), start=1):  # two more polls bring news for both channels
        await poll_round(svc, feeds, count)
        await fake.wait_posts(CHAN_B, 1 + round_, timeout=20)

        async def a_waits(expected: int = round_) -> bool:
            return await pending_for(svc, CHAN_A) >= expected
        await until(a_waits, f"{round_} digest(s) wait for workspace A")
    assert len(fake.calls_with([token_a])) == calls_a  # nothing was tried with the dead token
    assert len(fake.posts_in(CHAN_A)) == posts_a
    assert set(post_tokens(fake, CHAN_B)) == {token_b}

    async def a_marked() -> bool:
        channel = next(c for c in await svc.store.catalog.all_channels() if c.ref.external_id == CHAN_A)
        return "uninstalled" in (channel.last_error or "")
    await until(a_marked, "channel A shows why it gets nothing")
    details = {d["ref"]: d for d in (await feeds_json(svc, capsys))[0]["channel_details"]}
    assert "uninstalled the app" in details[f"slack:{CHAN_A}"]["delivery_error"]
    assert details[f"slack:{CHAN_B}"]["delivery_error"] is None
    assert token_a not in json.dumps(details) and token_b not in json.dumps(details)

    # reinstall: A resumes with a new token and one digest (the newest), not one per missed poll
    assert (await Browser(TEAM_A).install(port_of(svc))).status == 200
    [new_a] = fake.team_tokens(TEAM_A, alive=True)
    await fake.wait_posts(CHAN_A, posts_a + 1, timeout=20)

    async def a_drained() -> bool:
        return await pending_for(svc, CHAN_A) == 0
    await until(a_drained, "nothing waits for workspace A any more")
    resumed = fake.posts_in(CHAN_A)[posts_a:]
    assert len(resumed) == 1 and "Council story 6" in resumed[0].display()
    assert post_tokens(fake, CHAN_A)[-1] == new_a
    details = {d["ref"]: d for d in (await feeds_json(svc, capsys))[0]["channel_details"]}
    assert details[f"slack:{CHAN_A}"]["delivery_error"] is None
    for token in (token_a, token_b, new_a):
        assert token not in caplog.text
