"""Helpers for the many-workspace tests: two teams on the fake, an install "browser", settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from cryptography.fernet import Fernet

from bot.config import Secrets, Settings, SlackSettings
from tests.adapters.slack.conftest import SIGNING_SECRET
from tests.fakes.slack import FakeSlack, signed_event
from tests.fakes.slack.signing import TEAM_ID
from tests.fakes.slack.workspaces import CLIENT_ID, CLIENT_SECRET, TEAM_HEADER

TEAM_A, TEAM_B = TEAM_ID, "T0BRAVO0001"
CHAN_A, CHAN_B = "C0ALPHA0001", "C0BRAVO0001"
ADMIN_A, ADMIN_B = "U0AADMIN001", "U0BADMIN001"
KEY = Fernet.generate_key().decode()


def two_teams(fake: FakeSlack) -> None:
    """Team A (the fake's default) and team B; only the install flow hands out bot tokens."""
    del fake.tokens[fake.bot_token]
    fake.add_team(TEAM_B, "Bravo Club")
    fake.add_channel(CHAN_A, "alpha-news", team=TEAM_A)
    fake.add_channel(CHAN_B, "bravo-news", team=TEAM_B)
    fake.add_user(ADMIN_A, "alice", admin=True, team=TEAM_A)
    fake.add_user(ADMIN_B, "bob", admin=True, team=TEAM_B)


def oauth_slack(fake: FakeSlack, **extra: Any) -> SlackSettings:
    return SlackSettings(mode="oauth", client_id=CLIENT_ID, authorize_url=fake.authorize_url,
                         api_base_url=fake.base_url, http_host="127.0.0.1", http_port=0,
                         messages_per_second=50.0, **extra)


def oauth_settings(fake: FakeSlack) -> Settings:
    return Settings(slack=oauth_slack(fake))


def oauth_secrets(key: str | None = KEY) -> Secrets:
    return Secrets(slack_client_secret=CLIENT_SECRET, slack_signing_secret=SIGNING_SECRET, secret_key=key)


@dataclass
class Step:
    status: int
    location: str | None
    text: str


@dataclass
class Browser:
    """A person's browser, signed in to one Slack workspace. It keeps the bot's cookies even
    though bolt marks them Secure: in production the bot sits behind HTTPS, here it is plain http."""

    team: str
    cookies: dict[str, str] = field(default_factory=dict)

    async def get(self, url: str, *, slack: bool = False) -> Step:
        headers = {TEAM_HEADER: self.team} if slack else {}
        if self.cookies and not slack:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers,
                                                                   allow_redirects=False) as resp:
            for raw in resp.headers.getall("Set-Cookie", []):
                name, _, value = raw.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
            return Step(resp.status, resp.headers.get("Location"), await resp.text())

    async def start(self, port: int) -> Step:
        """GET /slack/install: bolt answers with a redirect to Slack's authorize page."""
        return await self.get(f"http://127.0.0.1:{port}/slack/install")

    async def approve(self, authorize_url: str) -> Step:
        """On Slack's page: the signed-in user clicks Allow; Slack redirects back with a code."""
        return await self.get(authorize_url, slack=True)

    async def install(self, port: int, *, between: Callable[[], Awaitable[None]] | None = None) -> Step:
        """The whole flow; `between` runs after Slack's redirect, before the browser follows it."""
        first = await self.start(port)
        assert first.status == 302 and first.location, first
        second = await self.approve(first.location)
        assert second.status == 302 and second.location, second
        if between is not None:
            await between()
        return await self.get(second.location)


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


async def post_event(port: int, envelope: dict[str, Any], secret: str = SIGNING_SECRET) -> int:
    body, headers = signed_event(envelope, secret)
    async with aiohttp.ClientSession() as session, session.post(
            f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as resp:
        return resp.status


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    """Wait for a condition the bot reaches asynchronously (the deadline only bounds a hang)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for: {what}")
        await asyncio.sleep(0.05)
