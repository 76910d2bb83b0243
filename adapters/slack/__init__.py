"""Slack adapter: slash commands and digest posts through slack-bolt (Socket Mode or HTTP)."""

from adapters.slack.adapter import SlackAdapter, SlackStartError

__all__ = ["SlackAdapter", "SlackStartError"]
