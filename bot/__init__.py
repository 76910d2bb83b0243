"""newsdigest core: sources → summaries → SQLite → digests. Imports no chat platform."""

__version__ = "0.1.0"
