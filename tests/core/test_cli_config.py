"""Bad configuration and bad usage: one line on stderr naming the key, exit 2, no start."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli


@pytest.mark.parametrize(("toml", "expected"), [
    ("[fetch]\nbogus = 1\n", "fetch.bogus: unknown key"),
    ("[digest]\nschedule = \"61 25 * * *\"\n", "digest.schedule"),
    ("[digest]\ntimezone = \"Mars/Olympus\"\n", "digest.timezone"),
    ("[summary]\nalgorithm = \"gpt\"\n", "summary.algorithm"),
    ("[summary]\nlanguage = \"klingon\"\n", "summary.language"),
    ("[digest]\nmax_items = 0\n", "digest.max_items"),
    ("[[feeds]]\nurl = \"https://e.example/f\"\nchannels = [\"irc:x\"]\n", "feeds.0.channels"),
    ("[[channels]]\nref = \"console\"\nschedule = \"every day\"\n", "channels.0.schedule"),
    ("[fetch\nallow_private_addresses = true\n", "invalid TOML"),
    ("[fetch]\nallow_private_addresses = \"maybe\"\n", "fetch.allow_private_addresses"),
    ("[bot]\nadapters = [\"irc\"]\n", "bot.adapters"),
    ("[bot]\nworker_processes = -1\n", "bot.worker_processes"),
    ("[[channels]]\nref = \"console\"\nschedule = \"0 8 30 2 *\"\n", "never fires"),
])
def test_bad_config_is_one_clear_line(workdir, toml: str, expected: str) -> None:
    config = workdir / "bad.toml"
    config.write_text(toml)
    result = Cli(workdir, config)("feeds", "list")
    err = result.stderr.decode()
    assert result.returncode == 2
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert not (workdir / "test.db").exists()  # the bot did not start


def test_missing_config_file_and_bad_usage(workdir) -> None:
    missing = Cli(workdir, workdir / "nope.toml")("feeds", "list")
    assert missing.returncode == 2 and "nope.toml" in missing.stderr.decode()
    cli = Cli(workdir)
    for args in (("frobnicate",), ("summarize",), ("summarize", "x", "--algorithm", "gpt"), ()):
        result = cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.decode().count("\n") == 1 and "Traceback" not in result.stderr.decode()


def test_summarize_file_stdin_and_options(workdir) -> None:
    article = workdir / "a.txt"
    paragraphs = [f"Paragraph {n} explains that the council voted {n} times on the new bridge plan." for n in range(8)]
    article.write_text("Council approves bridge\n\n" + "\n\n".join(paragraphs)
                       + "\n\nSubscribe to our newsletter\nSign up here to get the latest news.")
    cli = Cli(workdir)
    out = cli.json("summarize", str(article), "--json", "--sentences", "2", "--algorithm", "textrank")
    assert set(out) == {"title", "url", "language", "algorithm", "sentences"}
    assert out["title"] == "Council approves bridge" and out["algorithm"] == "textrank"
    assert out["language"] == "english" and len(out["sentences"]) == 2
    assert not any("newsletter" in s.lower() or "sign up" in s.lower() for s in out["sentences"])
    piped = cli("summarize", "-", "--json", input=article.read_bytes())
    assert piped.returncode == 0 and json.loads(piped.stdout)["sentences"]
    bad_lang = cli("summarize", str(article), "--language", "klingon")
    assert bad_lang.returncode == 2 and "klingon" in bad_lang.stderr.decode()
    missing = cli("summarize", str(workdir / "none.txt"))
    assert missing.returncode == 2 and "none.txt" in missing.stderr.decode()


def test_quoted_numbers_and_flags_load_as_they_always_did() -> None:
    """Discord ids are often written quoted; a count may come as 5.0. The config was always
    read leniently there, and a value that is no number or flag at all is still an error."""
    from bot.config import ConfigError, parse_settings

    settings = parse_settings({"discord": {"guild_ids": ["123456789012345678"]}, "digest": {"max_items": 5.0},
                               "bot": {"poll_interval": "60"}, "fetch": {"allow_private_addresses": "true"}})
    assert settings.discord.guild_ids == [123456789012345678] and settings.digest.max_items == 5
    assert settings.bot.poll_interval == 60.0 and settings.fetch.allow_private_addresses is True
    with pytest.raises(ConfigError, match="discord.guild_ids"):
        parse_settings({"discord": {"guild_ids": ["my server"]}})
