"""`newsdigest --config X --db Y run` as a subprocess, talking Socket Mode to the fake."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack.conftest import GENERAL, MEMBER
from tests.adapters.slack.feedserver import HOSTILE_SHOWN, FeedServer
from tests.fakes.slack import FakeSlack
from tests.fakes.slack.blockkit import validate_message


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = await FeedServer(count=3).start()
    yield server
    await server.stop()


def write_config(path: Path, fake: FakeSlack, feeds: FeedServer) -> Path:
    path.write_text(f"""
[bot]
adapters = ["slack"]

[fetch]
allow_private_addresses = true
allowed_ports = []
full_text = "never"

[slack]
api_base_url = "{fake.base_url}"
messages_per_second = 20.0

[[channels]]
ref = "slack:{GENERAL}"
schedule = "immediate"

[[feeds]]
url = "{feeds.url}"
channels = ["slack:{GENERAL}"]
""", encoding="utf-8")
    return path


def command() -> list[str]:
    script = shutil.which("newsdigest")
    fallback = "import sys; from bot.cli import main; sys.exit(main())"
    return [script] if script else [sys.executable, "-c", fallback]


def env(bot_token: str, app_token: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    clean.update(SLACK_BOT_TOKEN=bot_token, SLACK_APP_TOKEN=app_token)
    return clean


async def test_cli_run_posts_digest_and_answers_commands(fake: FakeSlack, feeds: FeedServer,
                                                         tmp_path) -> None:
    config = write_config(tmp_path / "bot.toml", fake, feeds)
    proc = await asyncio.create_subprocess_exec(
        *command(), "--config", str(config), "--db", str(tmp_path / "bot.db"), "run",
        env=env(fake.bot_token, fake.app_token), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        await fake.socket.wait_connections(1, timeout=30)
        posts = await fake.wait_posts(GENERAL, 1, timeout=30)
        assert validate_message(posts[0].text, posts[0].blocks) == (None, [])
        assert posts[0].mentions() == [] and HOSTILE_SHOWN in posts[0].display()

        payload = fake.command("/digest", user_id=MEMBER, channel_id=GENERAL)
        ack = await fake.slash_command(payload, timeout=10)
        assert ack.latency < 3.0
        text = ack.payload["text"]
        if "Working on it" in text:
            text = (await fake.wait_responses(payload["response_url"], 1, timeout=15))[0]["text"]
        assert "Nothing new" in text
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert fake.bot_token not in (out + err).decode() and fake.app_token not in (out + err).decode()
    assert len(fake.posts_in(GENERAL)) == 1


async def test_cli_run_with_a_bad_token_fails_in_one_line(fake: FakeSlack, feeds: FeedServer,
                                                          tmp_path) -> None:
    config = write_config(tmp_path / "bot.toml", fake, feeds)
    bad = "xoxb-not-the-right-token-987"
    proc = await asyncio.create_subprocess_exec(
        *command(), "--config", str(config), "--db", str(tmp_path / "bot.db"), "run",
        env=env(bad, fake.app_token), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    last = err.decode().strip().splitlines()[-1]
    assert "invalid_auth" in last and "SLACK_BOT_TOKEN" in last
    assert "Traceback" not in err.decode() and bad not in (out + err).decode()
