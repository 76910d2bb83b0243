"""The store contract suite runs on both backends; see tests/store/pg.py for the server."""

from tests.store.pg import postgres_server, postgres_url, store_target  # noqa: F401 - fixtures
