"""The CLI end to end against a real local HTTP server and a real SQLite file."""

from __future__ import annotations

import sqlite3

from tests.conftest import Cli, write_config
from tests.support.feedserver import make_items, rss


def digest_items(cli: Cli, *extra: str) -> list[dict]:
    result = cli.json("digest", "--json", *extra)
    assert isinstance(result, list)
    return [item for channel in result for item in channel["items"]]


def test_backfill_then_only_new_items_and_never_twice(cli: Cli, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 50)))
    added = cli("feeds", "add", feed_server.url("/feed"))
    assert added.returncode == 0, added.stderr.decode()

    first = digest_items(cli)
    assert [i["title"] for i in first] == [f"Story number {n} about topic {n * 7 % 13}" for n in (50, 49, 48)]
    assert all(i["summary"] and i["url"] and i["feed"] == "Test feed" and i["published"] for i in first)
    assert digest_items(cli) == []  # a re-run posts nothing

    feed_server.set("/feed", body=rss(make_items(1, 52)))
    assert sorted(i["url"] for i in digest_items(cli)) == [
        "https://news.example/story/51", "https://news.example/story/52"]
    assert digest_items(cli) == []

    db = sqlite3.connect(cli.db)
    states = dict(db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())
    assert states == {"sent": 5, "skipped": 47}
    assert db.execute("SELECT COUNT(*) FROM digests WHERE state != 'sent'").fetchone()[0] == 0


def test_outage_is_capped_with_and_n_more(workdir, feed_server) -> None:
    config = write_config(workdir / "c.toml", "[digest]\nmax_items = 5\nbackfill = 2\n")
    cli = Cli(workdir, config)
    feed_server.set("/feed", body=rss(make_items(1, 10)))
    assert cli("feeds", "add", feed_server.url("/feed")).returncode == 0
    assert len(digest_items(cli)) == 2
    feed_server.set("/feed", body=rss(make_items(1, 40)))  # 30 new while "down"
    result = cli.json("digest", "--json")
    assert len(result) == 1 and len(result[0]["items"]) == 5 and result[0]["more"] == 25
    assert digest_items(cli) == []  # the rolled-up items are not posted later


def test_dry_run_records_nothing(cli: Cli, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 3)))
    assert cli("feeds", "add", feed_server.url("/feed")).returncode == 0
    dry = digest_items(cli, "--dry-run")
    assert len(dry) == 3
    assert [i["url"] for i in digest_items(cli)] == [i["url"] for i in dry]


def test_conditional_get_sends_validators_back(cli: Cli, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 3)))
    assert cli("feeds", "add", feed_server.url("/feed")).returncode == 0
    report = cli.json("ingest", "--json")
    assert report == {"feeds": 1, "new_articles": 0, "errors": []}
    last = feed_server.hits("/feed")[-1]
    assert last.get("If-None-Match", "").startswith('"')
    assert last.get("If-Modified-Since") == "Mon, 05 Jan 2026 07:00:00 GMT"
    assert "newsdigest" in last.get("User-Agent", "")


def test_errors_are_reported_per_feed_and_the_rest_works(workdir, feed_server) -> None:
    config = write_config(workdir / "c.toml", "[fetch]\nallow_private_addresses = true\ndeadline = 1.5\n"
                                               "[summary]\nalgorithm = \"luhn\"\n")
    cli = Cli(workdir, config)
    for path in ("/good", "/gone", "/broken", "/slow", "/moved", "/target"):
        feed_server.set(path, body=rss(make_items(1, 2, base=f"https://n.example{path}")))
    for path in ("/good", "/gone", "/broken", "/slow", "/moved"):
        assert cli("feeds", "add", feed_server.url(path)).returncode == 0
    feed_server.set("/gone", status=404, body=b"nope")
    feed_server.set("/broken", status=500, body=b"oops")
    feed_server.set("/slow", body=rss(make_items(5, 3)), delay=4)
    feed_server.set("/moved", status=301, location=feed_server.url("/target"))
    feed_server.set("/target", body=rss(make_items(1, 3, base="https://n.example/moved")))
    report = cli.json("ingest", "--json")
    errors = {e["feed"].rsplit("/", 1)[-1]: e["error"] for e in report["errors"]}
    assert set(errors) == {"gone", "broken", "slow"}
    assert "404" in errors["gone"] and "500" in errors["broken"]
    assert "time" in errors["slow"].lower()
    assert report["feeds"] == 5 and report["new_articles"] == 1  # the redirect's new third item
    listed = {f["url"].rsplit("/", 1)[-1]: f for f in cli.json("feeds", "list", "--json")}
    assert listed["gone"]["last_error"] and listed["good"]["last_error"] is None
    assert set(listed["good"]) >= {"id", "url", "title", "channels", "last_polled", "last_error", "disabled"}
    assert listed["good"]["channels"] == ["console"] and listed["good"]["disabled"] is None


def test_refused_address_is_refused_before_any_connection(workdir, feed_server) -> None:
    config = workdir / "strict.toml"
    config.write_text("[summary]\nsentences = 2\n")
    cli = Cli(workdir, config)
    feed_server.set("/feed", body=rss(make_items(1, 2)))
    result = cli("feeds", "add", feed_server.url("/feed"))
    assert result.returncode == 1
    err = result.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "loopback" in err and "Traceback" not in err
    assert feed_server.requests == []
    for hostile in ("http://2130706433/feed", "http://[::ffff:127.0.0.1]/x", "http://169.254.169.254/latest"):
        result = cli("feeds", "add", hostile)
        assert result.returncode != 0 and "Traceback" not in result.stderr.decode()
    assert cli.json("feeds", "list", "--json") == []


def test_feeds_remove_and_unknown(cli: Cli, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 1)))
    assert cli("feeds", "add", feed_server.url("/feed"), "--channel", "slack:C0123456789").returncode == 0
    [feed] = cli.json("feeds", "list", "--json")
    assert feed["channels"] == ["slack:C0123456789"]
    assert cli("feeds", "remove", str(feed["id"])).returncode == 0
    assert cli.json("feeds", "list", "--json") == []
    missing = cli("feeds", "remove", "999")
    assert missing.returncode == 2 and missing.stderr.decode().count("\n") == 1
    bad_channel = cli("feeds", "add", feed_server.url("/feed"), "--channel", "irc:#x")
    assert bad_channel.returncode == 2 and "channel" in bad_channel.stderr.decode()


def test_a_web_page_can_be_a_source_and_is_not_reposted(cli: Cli, feed_server, workdir) -> None:
    page = (workdir.parent / "p.html")
    paragraphs = "".join(f"<p>Paragraph {n}: the museum reopened its east wing with {n} new rooms today.</p>"
                         for n in range(6))
    feed_server.set("/page", body=f"<html><head><title>Museum reopens</title></head><body><article>"
                    f"<h1>Museum reopens</h1>{paragraphs}</article></body></html>".encode(),
                    content_type="text/html; charset=utf-8")
    assert cli("feeds", "add", feed_server.url("/page")).returncode == 0, page
    items = digest_items(cli)
    assert [i["title"] for i in items] == ["Museum reopens"] and items[0]["summary"]
    assert digest_items(cli) == []


def test_config_example_is_valid_and_documents_every_section() -> None:
    import tomllib

    import msgspec

    from bot.config import Settings, parse_settings
    from tests.conftest import REPO

    data = tomllib.loads((REPO / "config.example.toml").read_text())
    parse_settings(data, "config.example.toml")
    text = (REPO / "config.example.toml").read_text()
    for section in msgspec.structs.fields(Settings):
        if section.name in ("channels", "feeds"):
            continue
        assert f"[{section.name}]" in text
        for key in msgspec.structs.fields(section.type):
            assert key.name in text, f"{section.name}.{key.name} is not documented"


def test_undated_feed_backfills_its_newest_items(cli: Cli, feed_server) -> None:
    items = [{"title": f"Undated story {n} about the harbour", "link": f"https://u.example/{n}",
              "description": f"Story {n} text."} for n in range(10, 0, -1)]  # newest first, no dates
    feed_server.set("/feed", body=rss(items))
    assert cli("feeds", "add", feed_server.url("/feed")).returncode == 0
    assert sorted(i["url"] for i in digest_items(cli)) == [f"https://u.example/{n}" for n in (10, 8, 9)]


def test_removing_a_config_feed_sticks(workdir, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 2)))
    config = write_config(workdir / "c.toml", f'[[feeds]]\nurl = "{feed_server.url("/feed")}"\n')
    cli = Cli(workdir, config)
    [feed] = cli.json("feeds", "list", "--json")
    assert cli("feeds", "remove", str(feed["id"])).returncode == 0
    assert cli.json("feeds", "list", "--json") == []
    assert cli.json("feeds", "list", "--json") == []  # not re-added from the config on the next start
