"""A local fake Discord (REST + gateway) for testing the adapter with the real discord.py."""

from tests.fakes.discord.interactions import FakeInteraction
from tests.fakes.discord.server import MANAGE_CHANNELS, FakeDiscord, Posted

__all__ = ["MANAGE_CHANNELS", "FakeDiscord", "FakeInteraction", "Posted"]
