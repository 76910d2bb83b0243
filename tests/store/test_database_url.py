"""Choosing the store by URL, and the PostgreSQL password kept out of config files and logs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from bot.config import ConfigError, Secrets, parse_settings
from bot.logs import Redactor
from bot.store import Store
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SqliteDatabase
from tests.conftest import Cli, write_config


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once closed


def test_a_url_selects_postgresql_and_anything_else_sqlite(tmp_path) -> None:
    assert isinstance(Store("postgresql://nd@db.example/nd").db, PostgresDatabase)
    assert isinstance(Store("postgres://nd@db.example/nd").db, PostgresDatabase)
    assert isinstance(Store(tmp_path / "x.db").db, SqliteDatabase)
    assert isinstance(Store(str(tmp_path / "postgresql.db")).db, SqliteDatabase)


def test_a_password_in_the_config_file_is_refused() -> None:
    for url in ("postgresql://nd:hunter22@db.example/nd", "postgresql://nd@db.example/nd?password=hunter22"):
        with pytest.raises(ConfigError, match="PGPASSWORD or NEWSDIGEST_DATABASE_URL"):
            parse_settings({"bot": {"database": url}})
    assert parse_settings({"bot": {"database": "postgresql://nd@db.example:5433/nd"}}).bot.database


def test_database_passwords_are_redacted() -> None:
    secrets = Secrets.from_env({"NEWSDIGEST_DATABASE_URL": "postgresql://nd:Sup3rSecret@db/nd",
                                "PGPASSWORD": "An0therSecret"})
    redactor = Redactor(secrets.values())
    line = redactor.redact("tried postgresql://nd:Sup3rSecret@db/nd, then An0therSecret, "
                           "then postgres://other:pw@h/x")
    assert "Sup3rSecret" not in line and "An0therSecret" not in line and "pw@" not in line
    assert "postgresql://nd:[redacted]@db/nd" in line


def test_an_unreachable_server_is_one_clear_line_without_the_password(tmp_path) -> None:
    cli = Cli(tmp_path, write_config(tmp_path / "c.toml"))
    url = f"postgresql://nd:Sup3rSecret@127.0.0.1:{closed_port()}/nd"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDIGEST_")}
    from_env = subprocess.run([sys.executable, "-m", "bot", "--config", str(cli.config), "feeds", "list"],
                              cwd=tmp_path, capture_output=True, timeout=60,
                              env={**env, "NEWSDIGEST_DATABASE_URL": url})
    for result in (cli("--db", url, "feeds", "list"), from_env):  # Cli's own --db comes first; the last wins
        err = result.stderr.decode()
        assert result.returncode == 2, err
        assert "Sup3rSecret" not in err and "cannot use database postgresql://nd@127.0.0.1" in err, err
