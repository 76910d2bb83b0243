"""Secrets never logged (threat guide item 12, hostile input 25): unique fake tokens go
through real error paths at DEBUG, in-process and through the CLI with -v, and must not
appear in any log line or stderr message."""

from __future__ import annotations

import io
import logging
import secrets
import string
from pathlib import Path

import pytest

from bot.app import App, UserError
from bot.config import parse_settings
from bot.logs import MASK, setup_logging
from bot.models import ChannelRef
from bot.workers import Workers
from tests.conftest import Cli, write_config
from tests.support.clock import FakeClock
from tests.support.feedserver import rss

ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@pytest.fixture
def tokens() -> dict[str, str]:
    """Fresh on every test, so a hit can only come from this run."""
    digits = string.digits
    return {
        "discord": "M" + rand(23) + "." + rand(6) + "." + rand(27),
        "xoxb": f"xoxb-{rand(12, digits)}-{rand(13, digits)}-{rand(24)}",
        "xapp": f"xapp-1-A{rand(10, digits)}-{rand(13, digits)}-{rand(64, 'abcdef0123456789')}",
        "signing": secrets.token_hex(16),
        "webhook": f"https://discord.com/api/webhooks/{rand(18, digits)}/{rand(68, ALNUM + '-_')}",
    }


def leaked(text: str, tokens: dict[str, str]) -> list[str]:
    found = [name for name, value in tokens.items() if value in text]
    # the secret part of a webhook on its own (after the id) must not show either
    if tokens["webhook"].rsplit("/", 1)[1] in text:
        found.append("webhook-secret-part")
    return found


def secret_url(base: str, tokens: dict[str, str]) -> str:
    return f"{base}?hook={tokens['webhook']}&token={tokens['xoxb']}&app={tokens['xapp']}"


def content_feed(tokens: dict[str, str]) -> bytes:
    return rss([{"title": f"leak &bogus; {tokens['discord']} {tokens['xoxb']}", "link": tokens["webhook"],
                 "guid": "g1", "description": f"text {tokens['webhook']} {tokens['xapp']} &bogus;"}])


@pytest.fixture
def captured():
    stream = io.StringIO()
    yield stream
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_newsdigest", False):
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)


async def test_error_paths_at_debug_never_log_secrets(tmp_path: Path, feed_server, tokens, captured) -> None:
    setup_logging("DEBUG", [tokens["discord"], tokens["xoxb"], tokens["xapp"], tokens["signing"]], stream=captured)
    feed_server.set("/broken", status=500, body=b"oops")
    feed_server.set("/content", body=content_feed(tokens))
    settings = parse_settings({"fetch": {"allow_private_addresses": True}, "summary": {"algorithm": "luhn"}})
    app = App(settings, str(tmp_path / "s.db"), clock=FakeClock(), workers=Workers(0))
    await app.open()
    try:
        # a feed URL carrying a webhook and tokens in its query string fails: the poll logs it
        with pytest.raises(UserError):
            await app.add_feed(secret_url(feed_server.url("/broken"), tokens), ChannelRef.parse("console"))
        # feed content carrying them is parsed (with a parse warning, logged at DEBUG) and stored
        await app.add_feed(feed_server.url("/content"), ChannelRef.parse("console"))
        await app.make_digests()
        # what an adapter does when the platform rejects a request
        log = logging.getLogger("adapters.fake")
        try:
            raise RuntimeError(f"401 Unauthorized for {tokens['webhook']} with Authorization: Bot {tokens['discord']}")
        except RuntimeError:
            log.exception("send failed; headers=%r", {"Authorization": f"Bot {tokens['discord']}",
                                                       "X-Slack-Signature": tokens["signing"]})
        try:
            try:
                raise ValueError(tokens["xoxb"])
            except ValueError as inner:
                raise ConnectionError("socket mode closed") from inner
        except ConnectionError:
            log.debug("reconnecting with %s", tokens["xapp"], exc_info=True)
        logging.getLogger("discord.http").debug("POST %s with %s", tokens["webhook"], tokens)
    finally:
        await app.close()
    out = captured.getvalue()
    assert "failed" in out and "send failed" in out and "Traceback" in out  # the paths really ran
    assert MASK in out
    assert leaked(out, tokens) == [], [line for line in out.splitlines() if leaked(line, tokens)][:3]


def test_cli_stderr_at_debug_never_shows_secrets(tmp_path: Path, feed_server, tokens) -> None:
    feed_server.set("/broken", status=500, body=b"oops")
    feed_server.set("/content", body=content_feed(tokens))
    broken = secret_url(feed_server.url("/broken"), tokens)
    config = write_config(tmp_path / "config.toml", f'[[feeds]]\nurl = "{feed_server.url("/content")}"\n')
    cli = Cli(tmp_path, config)
    env = {"DISCORD_TOKEN": tokens["discord"], "SLACK_BOT_TOKEN": tokens["xoxb"],
           "SLACK_APP_TOKEN": tokens["xapp"], "SLACK_SIGNING_SECRET": tokens["signing"]}
    runs = [
        cli("-v", "feeds", "add", broken, env=env),  # fails: the error line names the URL
        cli("-v", "ingest", env=env),
        cli("-v", "digest", "--channel", "console", "--dry-run", env=env),
        cli("-v", "summarize", broken, env=env),  # fails too
    ]
    assert runs[0].returncode != 0 and runs[3].returncode != 0
    for run in runs:
        err = run.stderr.decode()
        assert "Traceback" not in err, err
        assert leaked(err, tokens) == [], err
    assert b"DEBUG" in runs[1].stderr  # -v really logged at DEBUG
