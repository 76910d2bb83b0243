"""A recording chat adapter for a second platform, so one service can serve several
channels (the console adapter has a single channel). Renders like the console."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from bot.digest.text import render_digest_text
from bot.models import ChannelRef, Digest, Notice
from bot.ports import CommandPort, SentMessage


class RecordingAdapter:
    def __init__(self, platform: str = "discord") -> None:
        self.platform = platform
        self.sent: list[tuple[str, str, str]] = []  # (channel ref, text, nonce)
        self.hang = asyncio.Event()  # set: the next send blocks until `release` is set
        self.release = asyncio.Event()
        self._ids = itertools.count(1)

    async def start(self, commands: CommandPort) -> None:
        return None

    async def stop(self) -> None:
        return None

    def render_digest(self, digest: Digest) -> list[Any]:
        return [render_digest_text(digest)]

    def render_notice(self, notice: Notice) -> list[Any]:
        return [f"[notice] {notice.text}"]

    async def send(self, channel: ChannelRef, payload: Any, *, nonce: str) -> SentMessage:
        if self.hang.is_set():
            self.hang.clear()
            await self.release.wait()  # a stuck platform call
        self.sent.append((str(channel), str(payload), nonce))
        return SentMessage(message_id=f"{self.platform}-{next(self._ids)}")

    def texts(self, ref: str) -> list[str]:
        return [text for channel, text, _ in self.sent if channel == ref]
