"""The console adapter: digests rendered for a terminal. The default with no platform."""

from adapters.console.adapter import ConsoleAdapter

__all__ = ["ConsoleAdapter"]
