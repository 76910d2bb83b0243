"""CPU work off the event loop: feed parsing, page extraction and summarizing run in a
process pool, so they use every core and a pathological document cannot stall the bot.

`workers = 0` runs jobs in a thread instead (cheap start, one core): the CLI's one-shot
commands use that, the long-running service uses processes.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
# What the fork server imports before it forks workers (their pages are then shared, so PSS
# counts them once). A one-shot `ingest` only parses feeds: feedparser and lxml, no
# trafilatura (30 MB, 0.5 s), summarizer or platform library; a page that is not a feed
# imports trafilatura in its worker when it comes. The service's warm-up preloads the
# extractor in the fork server and the default summarizer (numpy) in every worker; the
# other sumy algorithms (and NLTK with them) load in a worker on its first such job.
PARSE_PRELOAD = ["bot.sources.page_source", "bot.sources.files", "bot.pipeline.dedupe"]
PRELOAD = [*PARSE_PRELOAD, "trafilatura"]
WARM = [*PRELOAD, "bot.pipeline.summarize"]


def _ignore_interrupts(parent: int | None = None) -> None:
    """Each worker's start. Ctrl-C reaches the whole process group; only the parent should
    act on it. On Linux a worker also dies with the process that forked it (the fork server,
    or the CLI itself after `prefork`): a SIGKILLed command must not leave workers blocked
    on their queue forever. `parent` is the pid expected as ours; if it is already gone
    (it died before the death signal was armed), leave now."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError) as exc:
            log.debug("no parent-death signal for this worker: %s", exc)
    if parent is not None and os.getppid() != parent:
        os._exit(0)


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
    def __init__(self, processes: int | None = None, *, preload: list[str] | None = None) -> None:
        self.processes = (os.cpu_count() or 1) if processes is None else processes
        self.preload = list(PARSE_PRELOAD if preload is None else preload)
        self._executor: Executor | None = None
        self._started = False  # a process pool has answered its first job

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.processes <= 0:
                self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsdigest-cpu")
            else:
                # one BLAS thread per worker: the pool already uses every core
                for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                    os.environ.setdefault(var, "1")
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(self.preload)
                self._executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=context,
                                                     initializer=_ignore_interrupts)
        return self._executor

    def prefork(self) -> bool:
        """Fork the worker processes now, straight from this process, if it has no other
        thread yet (a one-shot CLI command, before its event loop and store start).

        Cheaper than the fork server for a single poll: no fork-server interpreter to start
        and keep, no resource-tracker process, and what this process has imported so far is
        shared with the workers instead of loaded again (PSS counts those pages once). The
        parsers are not imported here but in each worker at its first job: a round of 304s
        parses nothing and should not pay for them.
        Objects are frozen first so the workers' garbage collector does not copy every page
        it visits. Forking is only safe without threads, and only done on Linux; elsewhere,
        or once threads exist, the pool starts through the fork server on its first job.
        A pool replaced after a crash or timeout also uses the fork server."""
        if (self._executor is not None or self.processes <= 0 or not sys.platform.startswith("linux")
                or threading.active_count() > 1):
            return False
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        gc.collect()
        gc.freeze()
        executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_ignore_interrupts, initargs=(os.getpid(),))
        executor.submit(gc.isenabled)  # with "fork", the first submit forks every worker at once
        self._executor = executor
        return True

    def use_threads(self) -> None:
        """Close the process pool and run later jobs in threads. The CLI's `digest` parses
        in processes, then summarizes at most a few items per channel: importing the
        summarizer in one process is cheaper than importing it in every worker."""
        self.close()
        self.processes = 0

    async def warm(self) -> None:
        """Start the pool and import the heavy modules now, off the event loop, so the
        first real job cannot stall the loop (a chat platform's 3-second deadline)."""
        if self._executor is None and self.preload == PARSE_PRELOAD:
            self.preload = list(PRELOAD)  # a long-running service extracts pages: share trafilatura
        await asyncio.to_thread(self._warm_blocking)

    def _warm_blocking(self) -> None:
        pool = self._pool()
        if isinstance(pool, ProcessPoolExecutor):
            for future in [pool.submit(_preload) for _ in range(self.processes)]:
                future.result()
        else:
            _preload()

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float = 60.0) -> T:
        pool = self._pool()
        if isinstance(pool, ProcessPoolExecutor) and not self._started:
            # submit() starts worker processes, and the first one waits for the fork server's
            # imports: done on the loop it would stall every download for that long
            future = asyncio.wrap_future(await asyncio.to_thread(pool.submit, fn, *args))
        else:
            future = asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        try:
            result = await asyncio.wait_for(future, timeout)
            if pool is self._executor:
                self._started = True
            return result
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
        executor, self._executor, self._started = self._executor, None, False
        if isinstance(executor, ProcessPoolExecutor):
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        executor, self._executor, self._started = self._executor, None, False
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


# ---- parse jobs: what a poll runs in a worker ----------------------------------------
# They import the parsers when called, so the process that submits them (the event loop's)
# need not load feedparser, lxml or trafilatura. They return plain tuples, which pickle in
# about a third of the time of the Entry dataclasses they come from.
# (key, title, url, published, text, is_teaser, author, categories, canonical_url, content_hash);
# the last two are None unless `identify` was asked for.
EntryRow = tuple


def _rows(result: Any, identify: bool) -> tuple[str | None, str | None, list[EntryRow]]:
    """`identify`: also compute each entry's canonical URL and content hash here. A feed's
    first poll stores every entry, and hashing 25,000 texts on the event loop's process
    made it the pipeline's bottleneck; a later poll stores a few new entries, which the
    caller identifies itself rather than hashing every known one here."""
    if identify:
        from bot.pipeline.dedupe import canonical_url, content_hash

        return result.title, result.warning, [
            (e.key, e.title, e.url, e.published, e.text, e.is_teaser, e.author, e.categories,
             e.canonical_url or canonical_url(e.url), content_hash(e.title, e.text)) for e in result.entries]
    return result.title, result.warning, [
        (e.key, e.title, e.url, e.published, e.text, e.is_teaser, e.author, e.categories, None, None)
        for e in result.entries]


def parse_source(data: bytes, url: str, content_type: str | None, charset: str | None, now: Any,
                 identify: bool = False) -> tuple[str | None, str | None, list[EntryRow]]:
    """`bot.sources.page_source.parse_source`, as (feed title, parse warning, entry rows)."""
    from bot.sources import page_source

    return _rows(page_source.parse_source(data, url, content_type, charset, now), identify)


def read_local(ref: str, max_bytes: int, now: Any, identify: bool = False
               ) -> tuple[str | None, str | None, list[EntryRow]]:
    """`bot.sources.files.read_local`, as the same rows."""
    from bot.sources import files

    return _rows(files.read_local(ref, max_bytes, now), identify)


def summarize(text: str, **options: Any) -> list[str]:
    """`bot.pipeline.summarize.summarize`, imported where the job runs: the process that
    submits it (the event loop's) need not load sumy, nltk and numpy for a worker's job."""
    from bot.pipeline import summarize as summarizer

    return summarizer.summarize(text, **options)
