"""Build the requests Slack sends: slash commands (form body) and events (JSON), v0 signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

TEAM_ID = "T0123456789"
APP_ID = "A0123456789"
VERIFICATION_TOKEN = "fake-verification-token"


def command_payload(command: str, text: str, *, user_id: str, channel_id: str, response_url: str,
                    user_name: str = "someone", channel_name: str = "general") -> dict[str, str]:
    """The fields Slack posts for a slash command (also the Socket Mode envelope payload)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": "newsdigest-test",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"1234.5678.{abs(hash((command, text, user_id))) % 10**8}",
    }


def signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_request(payload: dict[str, str], secret: str, *, timestamp: int | None = None,
                   tamper: bool = False) -> tuple[bytes, dict[str, str]]:
    """(body, headers) for POST /slack/events. `tamper` changes one byte after signing."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    body = urlencode(payload)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, ts, body),
    }
    if tamper:
        body = body[:-1] + ("x" if body[-1] != "x" else "y")
    return body.encode(), headers


def signed_event(envelope: dict, secret: str, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) for an Events API delivery: a JSON body, signed like a command."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    body = json.dumps(envelope)
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, ts, body),
    }
    return body.encode(), headers
