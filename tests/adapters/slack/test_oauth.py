"""The OAuth v2 install flow through real slack-bolt against the fake Slack, and its store."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from adapters.slack import SlackAdapter, SlackStartError
from adapters.slack.modes import choose_mode
from bot.config import Secrets, Settings, SlackSettings
from bot.models import ChannelRef
from bot.ports import DeliveryError
from bot.store import Store
from bot.store.installations import SecretBox, SecretKeyError
from tests.adapters.slack.conftest import SIGNING_SECRET, MemoryCore
from tests.adapters.slack.oauth_support import (
    ADMIN_B,
    CHAN_A,
    CHAN_B,
    KEY,
    TEAM_A,
    TEAM_B,
    Browser,
    oauth_secrets,
    oauth_settings,
    oauth_slack,
    post_event,
    query,
    until,
)
from tests.fakes.slack import FakeSlack, signed_request
from tests.fakes.slack.workspaces import CLIENT_ID
from tests.support.clock import FakeClock


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store(tmp_path / "bot.db") as opened:
        yield opened


@pytest.fixture
async def oauth(fake: FakeSlack, store: Store) -> AsyncIterator[Callable[..., Any]]:
    """`await oauth()` → (adapter, clock, core): a started oauth-mode adapter using `store`."""
    from tests.adapters.slack.oauth_support import two_teams

    two_teams(fake)
    started: list[SlackAdapter] = []

    async def start() -> tuple[SlackAdapter, FakeClock, MemoryCore]:
        clock, core = FakeClock(), MemoryCore()
        adapter = SlackAdapter(oauth_settings(fake), oauth_secrets(), clock)
        adapter.use_store(store)
        core.adapter = adapter
        await adapter.start(core)
        started.append(adapter)
        fake.redirect_url = f"http://127.0.0.1:{adapter.bound_port}/slack/oauth_redirect"
        return adapter, clock, core

    yield start
    for adapter in started:
        await adapter.stop()


def test_mode_selection_and_one_line_refusals(fake: FakeSlack) -> None:
    auto = Settings(slack=SlackSettings(client_id=CLIENT_ID))
    assert choose_mode(auto, oauth_secrets()) == "oauth"
    single = Secrets(slack_bot_token="xoxb-1", slack_signing_secret="s", slack_client_secret="c")
    assert choose_mode(auto, single) == "http"  # a bot token in the environment keeps one workspace
    for key, word in ((None, "is not set"), ("not-a-fernet-key", "not a Fernet key")):
        with pytest.raises(SlackStartError) as err:
            SlackAdapter(oauth_settings(fake), oauth_secrets(key), FakeClock())
        message = str(err.value)
        assert "NEWSDIGEST_SECRET_KEY" in message and word in message and "\n" not in message
    with pytest.raises(SlackStartError, match="SLACK_CLIENT_SECRET"):
        SlackAdapter(oauth_settings(fake), Secrets(slack_signing_secret="s", secret_key=KEY), FakeClock())


async def test_install_redirects_with_scopes_and_state_then_stores_encrypted(
        fake: FakeSlack, oauth, store: Store, tmp_path: Path) -> None:
    adapter, _, _ = await oauth()
    browser = Browser(TEAM_A)
    first = await browser.start(adapter.bound_port)
    assert first.status == 302 and first.location and first.location.startswith(fake.authorize_url)
    asked = query(first.location)
    assert asked["client_id"] == CLIENT_ID and len(asked["state"]) >= 32
    assert set(asked["scope"].split(",")) == {"commands", "chat:write", "users:read", "usergroups:read"}
    assert browser.cookies["slack-app-oauth-state"] == asked["state"]
    second = await browser.approve(first.location)
    done = await browser.get(second.location or "")
    assert done.status == 200
    assert "/invite @newsdigest" in done.text and "/subscribe" in done.text and "Newsdigest Test" in done.text
    [row] = await store.installations.active("slack")
    assert row.workspace == TEAM_A and row.sealed is not None
    [token] = fake.team_tokens(TEAM_A)
    assert token.encode() not in row.sealed
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("bot.db"))
    assert raw and token.encode() not in raw and b"xoxb-" not in raw  # db + WAL: no token in the clear
    assert SecretBox(KEY).open(row.sealed)["bot_token"] == token  # ...but it is there, sealed
    with pytest.raises(SecretKeyError):
        SecretBox(Fernet.generate_key().decode()).open(row.sealed)  # another key cannot read it


@pytest.mark.parametrize("case", ["forged state", "no state cookie", "reused state", "stale state",
                                  "code never issued"])
async def test_bad_state_or_code_is_400_and_stores_nothing(fake: FakeSlack, oauth, store: Store,
                                                           case: str) -> None:
    adapter, clock, _ = await oauth()
    port = adapter.bound_port
    redirect = f"http://127.0.0.1:{port}/slack/oauth_redirect"
    browser = Browser(TEAM_A)
    installed_before = 0
    if case == "forged state":
        forged = secrets.token_urlsafe(32)
        browser.cookies["slack-app-oauth-state"] = forged
        step = await browser.approve(f"{fake.authorize_url}?client_id={CLIENT_ID}&scope=commands&state={forged}")
        result = await browser.get(step.location or "")
    elif case == "no state cookie":
        first = await browser.start(port)
        step = await browser.approve(first.location or "")
        browser.cookies.clear()
        result = await browser.get(step.location or "")
    elif case == "reused state":
        first = await browser.start(port)
        step = await browser.approve(first.location or "")
        assert (await browser.get(step.location or "")).status == 200
        installed_before = 1
        again = await browser.approve(first.location or "")  # same state, a fresh code
        result = await browser.get(again.location or "")
    elif case == "stale state":
        async def eleven_minutes() -> None:
            clock.advance(minutes=11)
        result = await browser.install(port, between=eleven_minutes)
    else:
        first = await browser.start(port)
        state = query(first.location or "")["state"]
        result = await browser.get(f"{redirect}?code=1.{secrets.token_hex(16)}&state={state}")
    assert result.status == 400, (case, result)
    assert "Installation failed" in result.text
    assert len(await store.installations.active("slack")) == installed_before
    assert len(fake.team_tokens(TEAM_A)) == installed_before  # no second token was ever issued


async def test_each_workspace_posts_and_answers_with_its_own_token(fake: FakeSlack, oauth, store: Store) -> None:
    adapter, _, core = await oauth()
    for team in (TEAM_A, TEAM_B):
        assert (await Browser(team).install(adapter.bound_port)).status == 200
    [token_a], [token_b] = fake.team_tokens(TEAM_A), fake.team_tokens(TEAM_B)
    # a manager command from workspace B: the admin check runs with B's token (A's cannot see bob)
    payload = fake.command("/subscribe", "https://feeds.example/x.xml", user_id=ADMIN_B, channel_id=CHAN_B)
    from tests.adapters.slack.test_http_mode import post

    status, answer, _ = await post(adapter, *signed_request(payload, SIGNING_SECRET))
    assert status == 200 and "Subscribed" in answer["text"]
    assert core.subscriptions == {CHAN_B: ["https://feeds.example/x.xml"]}
    assert [c.token for c in fake.calls_to("users.info")] == [token_b]
    assert await store.installations.channel_workspace(f"slack:{CHAN_B}") == (TEAM_B, "")
    await store.installations.bind_channel(f"slack:{CHAN_A}", "slack", TEAM_A, "", FakeClock().now())
    for chan in (CHAN_A, CHAN_B):
        await adapter.send(ChannelRef("slack", chan), {"text": f"hello {chan}"}, nonce=f"n-{chan}")
    posted = {c.args["channel"]: c.token for c in fake.calls_to("chat.postMessage")}
    assert posted == {CHAN_A: token_a, CHAN_B: token_b}
    assert [p.text for p in fake.posts_in(CHAN_A)] == [f"hello {CHAN_A}"]


@pytest.mark.parametrize("how", ["app_uninstalled", "tokens_revoked", "invalid_auth", "token_revoked"])
async def test_a_dead_workspace_stops_at_once_and_the_other_is_unaffected(
        fake: FakeSlack, oauth, store: Store, how: str) -> None:
    adapter, _, _ = await oauth()
    for team in (TEAM_A, TEAM_B):
        assert (await Browser(team).install(adapter.bound_port)).status == 200
    for chan, team in ((CHAN_A, TEAM_A), (CHAN_B, TEAM_B)):
        await store.installations.bind_channel(f"slack:{chan}", "slack", team, "", FakeClock().now())
    dead = fake.team_tokens(TEAM_A)
    if how == "app_uninstalled":
        assert await post_event(adapter.bound_port, fake.uninstall(TEAM_A)) == 200
    elif how == "tokens_revoked":
        assert await post_event(adapter.bound_port, fake.revoke(TEAM_A)) == 200
    elif how == "invalid_auth":
        del fake.tokens[dead[0]]  # Slack no longer knows the token at all
    else:
        fake.kill_tokens(TEAM_A)  # revoked without an event reaching us
    if how in ("app_uninstalled", "tokens_revoked"):
        async def forgotten() -> bool:
            row = await store.installations.get("slack", TEAM_A)
            return row is not None and row.sealed is None
        await until(forgotten, "the workspace's tokens are deleted")
    else:  # the first post finds out
        with pytest.raises(DeliveryError) as err:
            await adapter.send(ChannelRef("slack", CHAN_A), {"text": "x"}, nonce="first")
        assert err.value.permanent
    calls_before = len(fake.calls_with(dead))
    for attempt in range(3):
        with pytest.raises(DeliveryError) as err:
            await adapter.send(ChannelRef("slack", CHAN_A), {"text": "x"}, nonce=f"again-{attempt}")
        assert err.value.permanent and "reinstalled" in str(err.value)
    assert len(fake.calls_with(dead)) == calls_before  # nothing is retried against a dead token
    row = await store.installations.get("slack", TEAM_A)
    assert row is not None and row.sealed is None and row.revoked_reason
    assert (TEAM_A in row.revoked_reason) and all(t not in row.revoked_reason for t in dead)
    await adapter.send(ChannelRef("slack", CHAN_B), {"text": "still here"}, nonce="b")
    assert [p.text for p in fake.posts_in(CHAN_B)] == ["still here"]


async def test_unsigned_uninstall_event_is_refused(fake: FakeSlack, oauth, store: Store) -> None:
    adapter, _, _ = await oauth()
    assert (await Browser(TEAM_A).install(adapter.bound_port)).status == 200
    envelope = fake.event_envelope(TEAM_A, {"type": "app_uninstalled"})
    assert await post_event(adapter.bound_port, envelope, secret="not-the-signing-secret") == 401
    row = await store.installations.get("slack", TEAM_A)
    assert row is not None and row.sealed is not None


def test_settings_defaults_match_the_contract() -> None:
    slack = SlackSettings()
    assert (slack.install_path, slack.redirect_uri_path) == ("/slack/install", "/slack/oauth_redirect")
    assert slack.authorize_url == "https://slack.com/oauth/v2/authorize"
    assert oauth_slack(FakeSlack()).mode == "oauth"


async def test_tokens_never_reach_the_log_even_at_debug(fake: FakeSlack, oauth, store: Store) -> None:
    """slack_sdk logs whole responses at DEBUG (oauth.v2.access carries the token): the bot's
    log pipeline must mask it, whatever the level."""
    import io
    import logging

    from bot.logs import setup_logging

    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    setup_logging("DEBUG", oauth_secrets().values(), stream=stream)
    try:
        adapter, _, _ = await oauth()
        assert (await Browser(TEAM_B).install(adapter.bound_port)).status == 200
        await store.installations.bind_channel(f"slack:{CHAN_B}", "slack", TEAM_B, "", FakeClock().now())
        await adapter.send(ChannelRef("slack", CHAN_B), {"text": "hi"}, nonce="n1")
        assert await post_event(adapter.bound_port, fake.revoke(TEAM_B)) == 200

        async def revoked() -> bool:
            row = await store.installations.get("slack", TEAM_B)
            # the warning is logged just after the row changes: wait for both
            return row is not None and row.sealed is None and "revoked the bot token" in stream.getvalue()
        await until(revoked, "the revoked token is deleted and the deletion logged")
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_newsdigest", False)]:
            root.removeHandler(handler)
        root.setLevel(level)
    text = stream.getvalue()
    assert "oauth.v2.access" in text and "revoked the bot token" in text  # DEBUG really was on
    [token] = fake.team_tokens(TEAM_B)
    assert token not in text and KEY not in text and "fake-client-secret" not in text
    assert "'access_token': '[redacted]'" in text  # the response was logged, masked
