"""The PostgreSQL fixtures (a real server, or a one-line skip) for the store tests here."""

from tests.store.pg import postgres_server, postgres_url, store_target  # noqa: F401 - fixtures
