"""`python -m bot` is the same as the `newsdigest` command."""

from bot.cli import entry

entry()
