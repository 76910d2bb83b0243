"""Start-up: mode selection, credential errors in one line, no token in messages or logs."""

from __future__ import annotations

import logging
import socket

import pytest

from adapters.slack import SlackAdapter, SlackStartError
from bot.config import Secrets, Settings, SlackSettings
from tests.adapters.slack.conftest import make_settings
from tests.fakes.slack import FakeSlack
from tests.support.clock import FakeClock

ALL = {"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1", "slack_signing_secret": "s"}


@pytest.mark.parametrize(("secrets", "mode", "expected"), [
    (ALL, "auto", "socket"),
    ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}, "auto", "http"),
    (ALL, "http", "http"),
])
def test_mode_follows_secrets(secrets: dict, mode: str, expected: str) -> None:
    adapter = SlackAdapter(Settings(slack=SlackSettings(mode=mode)), Secrets(**secrets), FakeClock())
    assert adapter.mode == expected and adapter.platform == "slack"


@pytest.mark.parametrize(("secrets", "mode", "needs"), [
    ({}, "auto", "SLACK_BOT_TOKEN"),
    ({"slack_bot_token": "xoxb-1"}, "auto", "SLACK_APP_TOKEN"),
    ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}, "socket", "SLACK_APP_TOKEN"),
    ({"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"}, "http", "SLACK_SIGNING_SECRET"),
])
def test_missing_secrets_are_named(secrets: dict, mode: str, needs: str) -> None:
    with pytest.raises(SlackStartError, match=needs):
        SlackAdapter(Settings(slack=SlackSettings(mode=mode)), Secrets(**secrets), FakeClock())


def test_bad_admin_entry_is_a_config_error() -> None:
    with pytest.raises(SlackStartError, match="admins"):
        SlackAdapter(Settings(slack=SlackSettings(admins=["alice"])),
                     Secrets(slack_bot_token="xoxb-1", slack_app_token="xapp-1"), FakeClock())


@pytest.mark.parametrize(("which", "needs"), [("bot", "SLACK_BOT_TOKEN"), ("app", "SLACK_APP_TOKEN")])
async def test_rejected_tokens_fail_in_one_line(fake: FakeSlack, core, caplog, which: str,
                                                needs: str) -> None:
    caplog.set_level(logging.DEBUG)
    bot = "xoxb-wrong-0001" if which == "bot" else fake.bot_token
    app = "xapp-wrong-0002" if which == "app" else fake.app_token
    secrets = Secrets(slack_bot_token=bot, slack_app_token=app)
    adapter = SlackAdapter(make_settings(fake), secrets, FakeClock())
    with pytest.raises(SlackStartError) as err:
        await adapter.start(core)
    message = str(err.value)
    assert "invalid_auth" in message and needs in message and "\n" not in message
    assert "wrong" not in message and "wrong" not in caplog.text
    await adapter.stop()  # idempotent after a failed start


async def test_unreachable_api_fails_in_one_line(core) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(slack=SlackSettings(api_base_url=f"http://127.0.0.1:{port}/api/"))
    adapter = SlackAdapter(settings, Secrets(slack_bot_token="xoxb-x", slack_app_token="xapp-x"), FakeClock())
    with pytest.raises(SlackStartError, match="cannot reach the Slack API"):
        await adapter.start(core)


async def test_stop_twice(fake: FakeSlack, start_adapter) -> None:
    adapter = await start_adapter("http")
    await adapter.stop()
    await adapter.stop()
