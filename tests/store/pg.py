"""A real PostgreSQL server for the tests: the one `.ci/run` started (NEWSDIGEST_TEST_POSTGRES_URL),
else a throwaway cluster of our own (`pg_config --bindir`), else a one-line skip — which
NEWSDIGEST_REQUIRE_POSTGRES=1 (set by CI) turns into a failure, so these tests never silently stop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE = "NEWSDIGEST_REQUIRE_POSTGRES"
GIVEN = "NEWSDIGEST_TEST_POSTGRES_URL"


def _missing(reason: str) -> None:
    line = f"PostgreSQL tests need a server: {reason}"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{line} ({REQUIRE}=1)", pytrace=False)
    pytest.skip(line)


def _bindir() -> Path | None:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    folder = Path(out.stdout.strip())
    return folder if (folder / "initdb").is_file() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """initdb + pg_ctl in a temporary folder, as an unprivileged user when we are root."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="nd-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.root, self.user)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["su", self.user, "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in cmd)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=check)

    def start(self) -> Cluster:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.pg_ctl("start")
        return self

    def pg_ctl(self, action: str) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200"
        args = ["pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60"]
        if action in ("start", "restart"):
            args += ["-o", options]
        if action in ("stop", "restart"):
            args += ["-m", "fast"]
        self._run(*args, action)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.pg_ctl("stop")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def server_url() -> Iterator[tuple[str, Cluster | None]]:
    """The session's server: (admin URL, our cluster or None when CI gave one)."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        _missing("the asyncpg package is not installed")
    given = os.environ.get(GIVEN)
    if given:
        yield given, None
        return
    bindir = _bindir()
    if bindir is None:
        _missing(f"no initdb under `pg_config --bindir` (install postgresql-15, or set {GIVEN})")
    try:
        cluster = Cluster(bindir).start()  # type: ignore[arg-type]
    except (subprocess.CalledProcessError, OSError) as exc:
        _missing(f"a throwaway cluster did not start ({getattr(exc, 'stderr', '') or exc})".strip())
    try:
        yield cluster.url, cluster
    finally:
        cluster.stop()


def new_database(admin_url: str) -> str:
    """A fresh, empty database on the server; its URL (works inside or outside an event loop)."""
    import asyncio
    import threading

    import asyncpg

    name = f"nd_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    failure: list[BaseException] = []
    thread = threading.Thread(target=lambda: _capture(failure, lambda: asyncio.run(create())))
    thread.start()
    thread.join(60)
    if failure:
        raise failure[0]
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def _capture(failure: list[BaseException], work) -> None:  # noqa: ANN001
    try:
        work()
    except BaseException as exc:  # noqa: BLE001 - handed to the caller
        failure.append(exc)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, Cluster | None]]:
    yield from server_url()


@pytest.fixture
def postgres_url(postgres_server: tuple[str, Cluster | None]) -> str:
    return new_database(postgres_server[0])


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: an SQLite file, or a fresh PostgreSQL database (the same tests on both)."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return request.getfixturevalue("postgres_url")
