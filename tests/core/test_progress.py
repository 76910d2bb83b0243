"""Progress of a long poll or OPML import: drawn on stderr when it is a terminal, absent
with --json or when stderr is a pipe or file; stdout keeps its documented contract."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli_commands
from bot.cli import main
from tests.conftest import write_config
from tests.support.feedserver import make_items, rss


class FakeTerminal(io.StringIO):
    """A stderr that says it is a terminal (what a user's shell gives)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def polled(tmp_path: Path, feed_server) -> tuple[Path, Path]:
    """A config and a database subscribed to two feeds (one of them broken)."""
    feed_server.set("/a", body=rss(make_items(1, 4)))
    feed_server.set("/b", status=500)
    opml = tmp_path / "feeds.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>'
                    f'<outline type="rss" text="A" xmlUrl="{feed_server.url("/a")}"/>'
                    f'<outline type="rss" text="B" xmlUrl="{feed_server.url("/b")}"/></body></opml>')
    config = write_config(tmp_path / "c.toml")
    assert main(["--config", str(config), "--db", str(tmp_path / "t.db"), "feeds", "import", str(opml)]) == 0
    return config, tmp_path / "t.db"


def run(monkeypatch, capsys, stderr: io.StringIO, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr(cli_commands.Progress, "DELAY", 0.0)  # draw at once, every step: the test poll is quick
    monkeypatch.setattr(cli_commands.Progress, "REFRESH", 0.0)
    capsys.readouterr()
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(list(argv))
    monkeypatch.undo()
    return code, capsys.readouterr().out, stderr.getvalue()


def test_a_poll_on_a_terminal_shows_feeds_articles_and_errors(polled, monkeypatch, capsys) -> None:
    config, db = polled
    code, out, err = run(monkeypatch, capsys, FakeTerminal(), "--config", str(config), "--db", str(db), "ingest")
    assert code == 0
    assert out.startswith("polled 2 feed(s): 4 new article(s), 1 error(s)")  # stdout unchanged
    assert "polling" in err and "2/2" in err and "articles=4" in err and "errors=1" in err


def test_json_output_has_no_progress_even_on_a_terminal(polled, monkeypatch, capsys) -> None:
    config, db = polled
    code, out, err = run(monkeypatch, capsys, FakeTerminal(), "--config", str(config), "--db", str(db),
                         "ingest", "--json")
    assert code == 0 and json.loads(out)["new_articles"] == 4
    assert err == ""


def test_no_progress_when_stderr_is_not_a_terminal(polled, monkeypatch, capsys) -> None:
    config, db = polled
    code, out, err = run(monkeypatch, capsys, io.StringIO(), "--config", str(config), "--db", str(db), "ingest")
    assert code == 0 and out.startswith("polled 2 feed(s)")
    assert "polling" not in err and "\r" not in err


def test_digest_shows_the_poll_progress_but_not_with_json(polled, monkeypatch, capsys) -> None:
    config, db = polled
    code, out, err = run(monkeypatch, capsys, FakeTerminal(), "--config", str(config), "--db", str(db),
                         "digest", "--dry-run")
    assert code == 0 and "polling" in err
    code, out, err = run(monkeypatch, capsys, FakeTerminal(), "--config", str(config), "--db", str(db),
                         "digest", "--dry-run", "--json")
    assert code == 0 and isinstance(json.loads(out), list) and "polling" not in err


def test_opml_import_on_a_terminal_counts_added_and_skipped(tmp_path: Path, monkeypatch, capsys) -> None:
    opml = tmp_path / "feeds.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>'
                    + "".join(f'<outline xmlUrl="https://site{n}.example/feed"/>' for n in range(3))
                    + '<outline xmlUrl="file:///etc/passwd"/></body></opml>')
    config = write_config(tmp_path / "c.toml")
    args = ("--config", str(config), "--db", str(tmp_path / "t.db"), "feeds", "import", str(opml))
    code, out, err = run(monkeypatch, capsys, FakeTerminal(), *args)
    assert code == 0 and out == "imported 3 feed(s), skipped 1\n"
    assert "importing" in err and "4/4" in err and "added=3" in err and "skipped=1" in err
    assert "skipped file:///etc/passwd" in err  # the per-outline reason still reaches stderr
    code, out, err = run(monkeypatch, capsys, io.StringIO(), *args)
    assert out == "imported 0 feed(s), skipped 1\n" or out.startswith("imported")
    assert "importing" not in err and "skipped file:///etc/passwd" in err


def test_a_real_pipe_gets_no_progress(polled) -> None:
    """The CLI as users run it in a script: stderr is a pipe, so nothing but the summary line."""
    config, db = polled
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "--db", str(db), "ingest"],
                          capture_output=True, timeout=120, env={**os.environ})
    assert done.returncode == 0
    assert done.stdout.decode().startswith("polled 2 feed(s)")
    assert b"polling" not in done.stderr and b"\r" not in done.stderr
