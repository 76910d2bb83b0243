"""A worker process that dies (OOM killer, a crash in C code) must cost one job, not the pool:
afterwards parsing and summarizing work again."""

from __future__ import annotations

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
