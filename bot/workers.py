"""CPU work off the event loop: feed parsing, page extraction and summarizing run in a
process pool, so they use every core and a pathological document cannot stall the bot.

`workers = 0` runs jobs in a thread instead (cheap start, one core): the CLI's one-shot
commands use that, the long-running service uses processes.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
# the fork server preloads the parsers every job needs; the service's warm-up also loads the
# summarizer (sumy, numpy), which a one-shot `ingest` never needs and should not pay for
PRELOAD = ["bot.sources.feeds", "bot.sources.files", "bot.sources.pages", "bot.sources.page_source", "trafilatura"]
WARM = [*PRELOAD, "bot.pipeline.summarize"]


def _ignore_interrupts() -> None:
    """Ctrl-C reaches the whole process group; only the parent should act on it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _job_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", "job")


def _preload() -> None:
    for name in WARM:
        importlib.import_module(name)


class WorkerTimeout(Exception):
    """A job ran past its time limit; the pool was replaced."""


class WorkerCrashed(WorkerTimeout):
    """A worker process died under a job (OOM killer, a crash in C code); the pool was
    replaced. A WorkerTimeout subclass, so every caller that survives a timeout survives this."""


class Workers:
    def __init__(self, processes: int | None = None) -> None:
        self.processes = (os.cpu_count() or 1) if processes is None else processes
        self._executor: Executor | None = None

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.processes <= 0:
                self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsdigest-cpu")
            else:
                # one BLAS thread per worker: the pool already uses every core
                for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                    os.environ.setdefault(var, "1")
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=context,
                                                     initializer=_ignore_interrupts)
        return self._executor

    async def warm(self) -> None:
        """Start the pool and import the heavy modules now, off the event loop, so the
        first real job cannot stall the loop (a chat platform's 3-second deadline)."""
        await asyncio.to_thread(self._warm_blocking)

    def _warm_blocking(self) -> None:
        pool = self._pool()
        if isinstance(pool, ProcessPoolExecutor):
            for future in [pool.submit(_preload) for _ in range(self.processes)]:
                future.result()
        else:
            _preload()

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float = 60.0) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool(), fn, *args)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            name = _job_name(fn)
            log.warning("a %s job ran past %.0f s; restarting the worker pool", name, timeout)
            self._reset()
            raise WorkerTimeout(f"{name} took longer than {timeout:.0f} s") from None
        except BrokenProcessPool:
            name = _job_name(fn)
            log.error("a worker process died during a %s job; restarting the worker pool", name)
            self._reset()
            raise WorkerCrashed(f"a worker process died during {name}") from None

    def _reset(self) -> None:
        executor, self._executor = self._executor, None
        if isinstance(executor, ProcessPoolExecutor):
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if isinstance(executor, ProcessPoolExecutor):
            _stop_forkserver()


def _stop_forkserver() -> None:
    """Reap the fork server now rather than at interpreter exit, so nothing it prints while
    dying can land after the CLI's last line. `_stop` is the hook CPython's own tests use."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        try:
            stop()
        except OSError as exc:
            log.debug("fork server already gone: %s", exc)
