"""Hostile OPML files through `newsdigest feeds import`: entity bombs and external entities
are refused with one clear line, local paths and odd schemes inside are skipped one by one,
and the rest of the list is still imported."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli

LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))


def opml(body: str, prolog: str = "") -> str:
    return f'<?xml version="1.0"?>{prolog}<opml version="2.0"><head><title>t</title></head><body>{body}</body></opml>'


def test_entity_bomb_and_external_entity_are_refused(cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-OPML")
    cases = {
        "laughs.opml": opml('<outline xmlUrl="https://a.example/&l9;" text="x"/>',
                            f'<!DOCTYPE opml [<!ENTITY l0 "lol">{LAUGHS}]>'),
        "xxe.opml": opml('<outline xmlUrl="https://a.example/feed" text="&x;"/>',
                         f'<!DOCTYPE opml [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = cli("feeds", "import", str(path), timeout=30)
        err = result.stderr.decode()
        assert result.returncode == 2 and "not a readable OPML file" in err, err
        assert err.count("\n") == 1 and "Traceback" not in err and "TOP-SECRET" not in err
    assert cli.json("feeds", "list", "--json") == []


def test_bad_outlines_are_skipped_and_the_rest_imported(cli: Cli, tmp_path: Path) -> None:
    body = "".join([
        '<outline text="folder">',
        '<outline xmlUrl="/etc/passwd" text="p"/>',
        '<outline xmlUrl="file:///etc/passwd" text="f"/>',
        '<outline xmlUrl="gopher://127.0.0.1:6379/_" text="g"/>',
        '<outline xmlUrl="https://a.example/feed?token=xoxb-123456-abcdefghij" text="t"/>',
        '<outline xmlUrl="https://good.example/feed" text="Good &#x202e;feed"/>',
        "</outline>",
    ])
    path = tmp_path / "mixed.opml"
    path.write_text(opml(body))
    result = cli("feeds", "import", str(path), "--channel", "discord:1", timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    assert b"imported 2 feed(s), skipped 3" in result.stdout
    err = result.stderr.decode()
    assert err.count("skipped ") == 3 and "xoxb-123456" not in err and "Traceback" not in err
    feeds = {f["url"]: f for f in cli.json("feeds", "list", "--json")}
    assert set(feeds) == {"https://a.example/feed?token=xoxb-123456-abcdefghij", "https://good.example/feed"}
    assert feeds["https://good.example/feed"]["title"] == "Good feed"  # bidi override removed
    assert feeds["https://good.example/feed"]["channels"] == ["discord:1"]


def test_endless_file_is_refused(cli: Cli) -> None:
    result = cli("feeds", "import", "/dev/zero", timeout=60)
    assert result.returncode == 2 and b"not an OPML feed list" in result.stderr
