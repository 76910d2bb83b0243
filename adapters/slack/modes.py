"""Which way the Slack adapter runs: Socket Mode, HTTP mode, or many workspaces (OAuth).

The choice comes from `[slack] mode` and the secrets present; a missing piece is reported in
one line that names it (and never shows a secret).
"""

from __future__ import annotations

from bot.config import Secrets, Settings
from bot.store.installations import SecretBox, SecretKeyError


class SlackStartError(RuntimeError):
    """Slack could not be started (bad credentials, unreachable API); the message is one line."""


def choose_mode(settings: Settings, secrets: Secrets) -> str:
    """"socket", "http" or "oauth", from `[slack] mode` and which secrets are set."""
    mode = settings.slack.mode
    if mode == "oauth" or (mode == "auto" and settings.slack.client_id and not secrets.slack_bot_token):
        check_oauth(settings, secrets)
        return "oauth"
    if not secrets.slack_bot_token:
        raise SlackStartError("Slack needs SLACK_BOT_TOKEN (xoxb-…) in the environment")
    if mode == "auto":
        if secrets.slack_app_token:
            return "socket"
        if secrets.slack_signing_secret:
            return "http"
        raise SlackStartError(
            "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) "
            "besides SLACK_BOT_TOKEN"
        )
    if mode == "socket" and not secrets.slack_app_token:
        raise SlackStartError('[slack] mode = "socket" needs SLACK_APP_TOKEN (xapp-…) in the environment')
    if mode == "http" and not secrets.slack_signing_secret:
        raise SlackStartError('[slack] mode = "http" needs SLACK_SIGNING_SECRET in the environment')
    return mode


def check_oauth(settings: Settings, secrets: Secrets) -> SecretBox:
    """Everything the install flow needs, or one line saying what is missing."""
    if not settings.slack.client_id:
        raise SlackStartError('Slack install flow (mode "oauth") needs [slack] client_id in the config')
    for value, name in ((secrets.slack_client_secret, "SLACK_CLIENT_SECRET"),
                        (secrets.slack_signing_secret, "SLACK_SIGNING_SECRET")):
        if not value:
            raise SlackStartError(f'Slack install flow (mode "oauth") needs {name} in the environment')
    try:
        return SecretBox(secrets.secret_key)
    except SecretKeyError as exc:
        raise SlackStartError(f"Slack install flow refuses to start: {exc}") from None
