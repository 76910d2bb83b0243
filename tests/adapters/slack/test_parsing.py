"""Command names, argument parsing and admin lists."""

from __future__ import annotations

import pytest

from adapters.slack.commands import command_names, parse_args, parse_schedule
from adapters.slack.permissions import split_admins


def test_command_names_default_and_override() -> None:
    names = command_names({"digest": "/news", "/feeds": "Sources"})
    assert names["digest"] == "/news" and names["feeds"] == "/sources" and names["schedule"] == "/schedule"


@pytest.mark.parametrize("overrides", [{"digets": "/x"}, {"digest": "/has space"}, {"digest": "/feeds"}])
def test_bad_command_names_are_config_errors(overrides: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"\[slack\] commands"):
        command_names(overrides)


def test_arguments_lose_slack_formatting_once() -> None:
    assert parse_args("<https://a.example/f?x=1&amp;y=2|a.example/f>") == ["https://a.example/f?x=1&y=2"]
    assert parse_args("  https://b.example/rss  ") == ["https://b.example/rss"]
    assert parse_args("&amp;lt;") == ["&lt;"]


@pytest.mark.parametrize(("text", "expected"), [
    ("immediate", ("immediate", None)),
    ("immediate Europe/Berlin", ("immediate", "Europe/Berlin")),
    ("0 8 * * 1-5", ("0 8 * * 1-5", None)),
    ("0 8 * * mon-fri America/New_York", ("0 8 * * mon-fri", "America/New_York")),
    ("*/15 * * * * UTC", ("*/15 * * * *", "UTC")),
    ("0 */2 * * *", ("0 */2 * * *", None)),
])
def test_schedule_arguments(text: str, expected: tuple[str, str | None]) -> None:
    assert parse_schedule(parse_args(text)) == expected


def test_admin_entries() -> None:
    assert split_admins(["U012", "W034", "S056"]) == (frozenset({"U012", "W034"}), frozenset({"S056"}))
    with pytest.raises(ValueError, match="admins"):
        split_admins(["@alice"])


def test_manifest_matches_the_adapter() -> None:
    from pathlib import Path

    import yaml  # pyyaml is a test dependency

    from adapters.slack.commands import COMMANDS, USAGE

    manifest = yaml.safe_load((Path(__file__).parents[3] / "slack-app-manifest.yaml").read_text())
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [f"/{name}" for name in COMMANDS]
    assert all(c.get("usage_hint", "") == USAGE[c["command"][1:]] for c in commands)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {"commands", "chat:write", "users:read",
                                                              "usergroups:read"}
    assert manifest["settings"]["socket_mode_enabled"] is True
    [redirect] = manifest["oauth_config"]["redirect_urls"]
    assert redirect.startswith("https://") and redirect.endswith("/slack/oauth_redirect")
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == ["app_uninstalled", "tokens_revoked"]
