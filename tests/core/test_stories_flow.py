"""Stories across outlets and digests, filters and `why`, through the CLI against a real local
HTTP server and a real SQLite file."""

from __future__ import annotations

import sqlite3

from tests.conftest import Cli, write_config
from tests.support.feedserver import rss
from tests.support.stories import OTHER, late_bridge_item, outlet_items


def subscribe_outlets(cli: Cli, feed_server, outlets: str = "abc", late: str = "") -> None:
    for index, outlet in enumerate(outlets + late):
        feed_server.set(f"/{outlet}", body=rss(outlet_items(outlet, index, bridge=outlet not in late),
                                               title=f"Outlet {outlet.upper()}"))
        done = cli("feeds", "add", feed_server.url(f"/{outlet}"))
        assert done.returncode == 0, done.stderr.decode()


def only_channel(result: object) -> dict:
    assert isinstance(result, list) and len(result) == 1
    return result[0]


def test_three_outlets_become_one_entry_and_a_later_fourth_is_not_new(cli: Cli, feed_server) -> None:
    subscribe_outlets(cli, feed_server, "abc", late="d")
    digest = only_channel(cli.json("digest", "--json"))
    bridge = [i for i in digest["items"] if "Bridge" in i["title"]]
    assert len(bridge) == 1, [i["title"] for i in digest["items"]]
    entry = bridge[0]
    assert entry["url"] == "https://a.example/news/1"  # the longest text; ties would go to the earliest
    assert sorted(a["feed"] for a in entry["also"]) == ["Outlet B", "Outlet C"]
    assert sorted(a["url"] for a in entry["also"]) == ["https://b.example/news/1", "https://c.example/news/1"]
    assert all(a["title"] for a in entry["also"]) and isinstance(entry["story"], int)
    others = sorted(i["title"] for i in digest["items"] if i is not entry)
    assert others == sorted(title for title, _ in OTHER)  # unrelated news stays apart

    feed_server.set("/d", body=rss([late_bridge_item("d"), *outlet_items("d", 3, bridge=False)], title="Outlet D"))
    assert only_channel(cli.json("digest", "--json"))["items"] == []
    why = cli.json("why", "https://d.example/news/2", "--json")
    assert why["status"] == "merged" and why["story"] == entry["story"]
    assert "a.example" not in why["reason"] and "Outlet A" in why["reason"]
    assert cli.json("why", "https://b.example/news/1", "--json")["status"] == "merged"
    assert cli.json("why", "https://a.example/news/1", "--json")["status"] == "posted"


def test_repeat_stories_update_posts_one_update_line(workdir, feed_server) -> None:
    cli = Cli(workdir, write_config(workdir / "c.toml", '[digest]\nrepeat_stories = "update"\n'))
    subscribe_outlets(cli, feed_server, "abc", late="d")
    first = only_channel(cli.json("digest", "--json"))
    story = next(i["story"] for i in first["items"] if "Bridge" in i["title"])
    feed_server.set("/d", body=rss([late_bridge_item("d"), *outlet_items("d", 3, bridge=False)], title="Outlet D"))
    second = only_channel(cli.json("digest", "--json"))
    assert second["items"] == []
    assert second["updates"] == [{"feed": "Outlet D", "title": late_bridge_item("d")["title"],
                                  "url": "https://d.example/news/2", "story": story}]
    text = cli("digest")  # nothing new: no second update
    assert text.returncode == 0 and "Update —" not in text.stdout.decode()
    assert cli.json("why", "https://d.example/news/2", "--json")["reason"].startswith("posted as an update line")


def test_filters_from_config_and_cli_with_why(workdir, feed_server) -> None:
    config = write_config(workdir / "c.toml", '[[channels]]\nref = "console"\n'
                          'filters = [{ exclude = "derby" }, { exclude = "^museum", regex = true, field = "title" }]\n')
    cli = Cli(workdir, config)
    subscribe_outlets(cli, feed_server, "abcd")
    refused = cli("filters", "add", "--exclude-regex", "(a+)\\1")
    assert refused.returncode == 2 and "(a+)\\1" in refused.stderr.decode() and "RE2" in refused.stderr.decode()
    added = cli.json("filters", "add", "--exclude", "Snow", "--field", "title", "--json")
    assert added["added"] and added["origin"] == "cli"
    titles = {i["title"] for i in only_channel(cli.json("digest", "--json"))["items"]}
    assert not any(word in t for t in titles for word in ("derby", "Museum", "snow"))
    assert "City council approves new budget for primary schools" in titles
    listed = cli.json("filters", "list", "--json")
    assert [(f["action"], f["pattern"], f["origin"]) for f in listed] == [
        ("exclude", "derby", "config"), ("exclude", "^museum", "config"), ("exclude", "Snow", "cli")]
    why = cli.json("why", "https://b.example/news/101", "--json")
    assert why["status"] == "filtered" and "derby" in why["reason"] and why["filter"]
    assert cli.json("why", "https://d.example/news/103", "--json")["status"] == "filtered"
    assert cli("filters", "remove", str(listed[0]["id"])).returncode == 2  # config filters live in the config
    assert cli("filters", "remove", str(listed[2]["id"])).returncode == 0
    assert [f["pattern"] for f in cli.json("filters", "list", "--json")] == ["derby", "^museum"]
    words = cli.json("filters", "add", "include-regex", "text:^The", "--json")  # the chat form works too
    assert (words["action"], words["kind"], words["field"], words["pattern"]) == ("include", "regex", "text", "^The")
    assert cli("filters", "add").returncode == 2


def test_why_for_backfill_more_waiting_disabled_and_never_seen(workdir, feed_server) -> None:
    config = write_config(workdir / "c.toml", "[digest]\nmax_items = 1\nbackfill = 2\n"
                          "[bot]\ndisable_after_failures = 1\n")
    cli = Cli(workdir, config)
    items = [*outlet_items("a", 0, bridge=False), *outlet_items("b", 1, bridge=False),
             *outlet_items("c", 2, bridge=False)]
    feed_server.set("/feed", body=rss(items, title="Mixed"))
    assert cli("feeds", "add", feed_server.url("/feed")).returncode == 0
    backfilled = cli.json("why", "https://c.example/news/102", "--json")
    assert backfilled["status"] == "backfill"
    assert cli.json("why", "https://a.example/news/100", "--json")["status"] == "waiting"
    digest = only_channel(cli.json("digest", "--json"))
    assert len(digest["items"]) == 1 and digest["more"] == 1
    rolled = [u for u in ("https://a.example/news/100", "https://b.example/news/101")
              if cli.json("why", u, "--json")["status"] == "more"]
    assert len(rolled) == 1
    assert "…and 1 more" in cli.json("why", rolled[0], "--json")["reason"]
    never = cli.json("why", "https://nowhere.example/x", "--json")
    assert never["status"] == "never_seen" and never["article"] is None
    feed_server.set("/feed", status=500, body=b"down")
    cli("ingest")
    broken = cli.json("why", "https://nowhere.example/x", "--json")
    assert broken["status"] == "disabled" and "disabled" in broken["reason"]
    db = sqlite3.connect(cli.db)
    assert db.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'").fetchone()[0] == 0


def test_why_names_a_channel_that_follows_no_carrier(workdir, feed_server) -> None:
    cli = Cli(workdir, write_config(workdir / "c.toml"))
    subscribe_outlets(cli, feed_server, "a")
    feed_server.set("/b", body=rss(outlet_items("b", 1), title="Outlet B"))
    assert cli("feeds", "add", feed_server.url("/b"), "--channel", "discord:123").returncode == 0
    answer = cli.json("why", "https://b.example/news/1", "--channel", "console", "--json")
    assert answer["status"] == "not_subscribed" and "Outlet B" in answer["reason"]
    bad = cli("why", "https://b.example/news/1", "--channel", "discord:general")
    assert bad.returncode == 2 and "--channel" in bad.stderr.decode()
