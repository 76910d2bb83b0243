"""A local fake Slack for adapter tests: Web API, Socket Mode websocket and response_url."""

from tests.fakes.slack.server import BOT_USER, FakeSlack, Post
from tests.fakes.slack.signing import command_payload, signed_event, signed_request
from tests.fakes.slack.socket_mode import Ack

__all__ = ["BOT_USER", "Ack", "FakeSlack", "Post", "command_payload", "signed_event", "signed_request"]
