"""What the fake Slack records: Web API calls, posted messages, response_url uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes.slack import blockkit


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    token: str | None = None  # the token the call carried (tests check which workspace spoke)


@dataclass
class Post:
    """A message that landed in a channel (or a response_url answer)."""

    channel: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    at: float
    args: dict[str, Any] = field(default_factory=dict)

    def mrkdwn_texts(self) -> list[tuple[str, bool]]:
        """(text, parse_bare_mentions) for the fallback text and every text object."""
        parse_top = bool(self.args.get("link_names")) or self.args.get("parse") == "full"
        out = [(self.text, parse_top)]
        for obj in blockkit.text_objects(self.blocks):
            if obj.get("type") == "mrkdwn":
                out.append((obj.get("text", ""), not obj.get("verbatim", False)))
        return out

    def mentions(self) -> list[str]:
        return [m for text, bare in self.mrkdwn_texts() for m in blockkit.mentions(text, bare)]

    def links(self) -> list[tuple[str, str]]:
        return [lk for text, _ in self.mrkdwn_texts() for lk in blockkit.links(text)]

    def display(self) -> str:
        """What a reader sees in the blocks (or the text when there are none)."""
        if not self.blocks:
            return blockkit.display(self.text)
        parts = []
        for obj in blockkit.text_objects(self.blocks):
            text = obj.get("text", "")
            parts.append(blockkit.display(text) if obj.get("type") == "mrkdwn" else text)
        return "\n".join(parts)


@dataclass
class ResponseUrl:
    created: float
    uses: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
