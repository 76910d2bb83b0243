"""A worker process that dies (OOM killer, a crash in C code) must cost one job, not the pool:
afterwards parsing and summarizing work again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.workers import Workers, WorkerTimeout
from tests.reliability.jobs import answer, die


async def test_a_dead_worker_costs_one_job_not_the_pool() -> None:
    workers = Workers(1)
    try:
        assert await workers.run(answer, timeout=30) == 42
        with pytest.raises(WorkerTimeout):  # WorkerCrashed is a WorkerTimeout: every caller survives it
            await workers.run(die, timeout=30)
        assert await workers.run(answer, timeout=30) == 42
        assert await workers.run(answer, timeout=30) == 42
    finally:
        workers.close()


KILLED_PARENT = """
import asyncio, os, signal, sys
from bot.workers import Workers

async def main():
    workers = Workers(1)
    assert workers.prefork()  # the CLI's poll path: forked before any thread
    print(await workers.run(os.getpid, timeout=30), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # `kill -9` of the command mid-poll

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prefork and the parent-death signal are Linux-only")
def test_forked_workers_die_with_a_killed_command() -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_PARENT], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    worker = int(done.stdout.decode().split()[0])
    deadline = time.monotonic() + 15
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "a worker outlived its killed parent"


async def test_a_forked_pool_runs_jobs_and_closes() -> None:
    workers = Workers(2)
    try:
        assert workers.prefork() or threading.active_count() > 1  # not forked when the test runner has threads
        assert await workers.run(answer, timeout=30) == 42
    finally:
        workers.close()
    assert workers._executor is None  # closed: a later job would start a fresh pool


POOL_OF = """
import asyncio, json, os, sys
from bot.cli import workers_for

async def main(workers):
    pids = set()
    for _ in range(12):
        pids.update(await asyncio.gather(*(workers.run(os.getpid, timeout=30) for _ in range(4))))
    return sorted(pids)

setting = None if sys.argv[1] == "unset" else int(sys.argv[1])
workers = workers_for("ingest", setting)  # forked here, before any thread, as the CLI does
try:
    print(json.dumps({"parent": os.getpid(), "processes": workers.processes, "pids": asyncio.run(main(workers))}))
finally:
    workers.close()
"""


@pytest.mark.parametrize("setting", ["0", "1", "unset"])
def test_worker_processes_decides_where_a_poll_parses(setting: str) -> None:
    """`[bot] worker_processes`: 0 parses in the command's own process, N in N forked ones,
    unset in one per core (what several workers on one machine are told to set to 1)."""
    done = subprocess.run([sys.executable, "-c", POOL_OF, setting], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    expected = {"0": 0, "1": 1, "unset": os.cpu_count() or 1}[setting]
    assert report["processes"] == expected
    if expected == 0:
        assert report["pids"] == [report["parent"]]
    else:
        assert report["parent"] not in report["pids"] and 1 <= len(report["pids"]) <= expected


def test_the_service_pool_follows_the_setting() -> None:
    from bot.app import App
    from bot.config import parse_settings

    for value, expected in ((0, 0), (1, 1), (None, os.cpu_count() or 1)):
        data = {"bot": {} if value is None else {"worker_processes": value}}
        app = App(parse_settings(data), ":memory:")
        assert app.workers.processes == expected
