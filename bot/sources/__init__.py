"""Sources: turn fetched bytes (or local files) into entries. Never given a URL to fetch."""
