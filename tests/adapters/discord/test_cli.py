"""The real entry point: `newsdigest --config X --db Y run` with DISCORD_TOKEN, against the fake."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from tests.adapters.discord.e2e_support import FeedServer, settings_data, toml_for, until
from tests.fakes.discord import FakeDiscord


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = await FeedServer().start()
    yield server
    await server.stop()


def command() -> list[str]:
    script = shutil.which("newsdigest")
    return [script] if script else [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


async def test_cli_run_posts_and_answers_then_stops_cleanly(fake: FakeDiscord, feeds: FeedServer, tmp_path) -> None:
    feeds.add_items(4)
    ref = f"discord:{fake.channel_ids[0]}"
    data = settings_data(fake, schedule="immediate", feeds=[{"url": feeds.url + "/feed.xml", "channels": [ref]}])
    config = tmp_path / "newsdigest.toml"
    config.write_text(toml_for(data), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env["DISCORD_TOKEN"] = fake.token
    proc = await asyncio.create_subprocess_exec(
        *command(), "--config", str(config), "--db", str(tmp_path / "bot.db"), "run",
        env=env, cwd=str(tmp_path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await until(lambda: fake.commands.get(fake.guild_id) and fake.identified.is_set()
                    or proc.returncode is not None, timeout=30, what="the bot to connect")
        assert proc.returncode is None, (await proc.stderr.read()).decode()[-2000:]
        # the immediate schedule posts the backfill (3 newest items) on its own
        await until(lambda: fake.posted(fake.channel_ids[0]), timeout=20, what="the first digest")
        titles = [e["title"] for p in fake.posted(fake.channel_ids[0]) for e in p.body["embeds"]]
        assert titles == ["Story 0", "Story 1", "Story 2"]
        inter = await fake.invoke("feeds")
        answer = await inter.wait_answered(timeout=10)
        assert "River News" in answer["embeds"][0]["fields"][0]["name"]
        assert fake.violations == [] and fake.unhandled == []
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), 15)
        except TimeoutError:
            proc.kill()
            raise
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert fake.token not in stderr.decode()
