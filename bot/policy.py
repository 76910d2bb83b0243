"""A channel's effective settings: its own overrides, else the config's [digest]/[summary]."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.store import ChannelRow


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    schedule: str
    timezone: str
    max_items: int
    backfill: int
    sentences: int
    algorithm: str
    language: str
    title: str
    repeat_stories: str = "never"


def policy_for(channel: ChannelRow | None, settings: Settings) -> ChannelPolicy:
    d, s = settings.digest, settings.summary

    def pick(name: str, default):  # noqa: ANN001, ANN202 - tiny local helper
        value = getattr(channel, name, None) if channel is not None else None
        return default if value is None else value

    return ChannelPolicy(
        schedule=pick("schedule", d.schedule), timezone=pick("timezone", d.timezone),
        max_items=pick("max_items", d.max_items), backfill=pick("backfill", d.backfill),
        sentences=pick("sentences", s.sentences), algorithm=pick("algorithm", s.algorithm),
        language=pick("language", s.language), title=d.title,
        repeat_stories=pick("repeat_stories", d.repeat_stories),
    )
