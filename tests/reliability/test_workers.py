"""A worker process that dies (OOM killer, a crash in C code) must cost one job, not the pool:
afterwards parsing and summarizing work again."""

from __future__ import annotations

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
