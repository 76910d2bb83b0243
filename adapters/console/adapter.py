"""Renders digests as readable plain text on stdout (or another stream).

It has no commands of its own (the CLI is the console's command line) and nothing to rate
limit; a message id is a counter, so the ledger works the same as on a real platform.
"""

from __future__ import annotations

import itertools
import sys
from typing import IO, Any

from bot.config import Secrets, Settings
from bot.digest.text import render_digest_text
from bot.models import ChannelRef, Digest, Notice
from bot.ports import Clock, CommandPort, DeliveryError, SentMessage
from bot.sources.text import clean_inline


class ConsoleAdapter:
    platform = "console"

    def __init__(self, settings: Settings | None = None, secrets: Secrets | None = None,
                 clock: Clock | None = None, stream: IO[str] | None = None) -> None:
        self.stream = stream
        self._ids = itertools.count(1)
        self.sent: list[str] = []

    async def start(self, commands: CommandPort) -> None:
        return None

    async def stop(self) -> None:
        return None

    def render_digest(self, digest: Digest) -> list[Any]:
        return [render_digest_text(digest)]

    def render_notice(self, notice: Notice) -> list[Any]:
        return [f"[newsdigest] {clean_inline(notice.text)}\n"]

    async def send(self, channel: ChannelRef, payload: Any, *, nonce: str) -> SentMessage:
        stream = self.stream or sys.stdout
        try:
            stream.write(str(payload) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"cannot write to the console: {exc}") from exc
        self.sent.append(str(payload))
        return SentMessage(message_id=f"console-{next(self._ids)}")
