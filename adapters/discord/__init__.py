"""Discord adapter: slash commands and digest posts through discord.py."""

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.render import DiscordMessage

__all__ = ["DiscordAdapter", "DiscordMessage"]
