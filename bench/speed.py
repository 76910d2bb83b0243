"""Summarizer throughput: one process, all cores, and our cost relative to raw sumy LexRank.

    python bench/speed.py --split test

Summarizes every article of the split's CNN/DM and BBC files through `summarize()` (clean,
split, score). Prints articles per second in one process and with a process pool of all
cores, and our per-article cost as a ratio to sumy's LexRank run through the same
pipeline (same cleaning, same splitter), measured side by side in this run, interleaved
article by article so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# One BLAS thread per process: the matrices are small, and a multi-threaded BLAS in each
# worker would fight the process pool for the same cores.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.quality import eval_dir, load_articles  # noqa: E402
from bot.pipeline.summarize import summarize  # noqa: E402


def _one(job: tuple[str, str, str]) -> int:
    text, title, algorithm = job
    return len(summarize(text, title=title or None, algorithm=algorithm))


def side_by_side(jobs: list[tuple[str, str]], algorithms: tuple[str, ...], rounds: int) -> dict[str, float]:
    """Best-of-`rounds` total seconds per algorithm, timing each article for each in turn."""
    best = dict.fromkeys(algorithms, float("inf"))
    for _ in range(rounds):
        totals = dict.fromkeys(algorithms, 0.0)
        for text, title in jobs:
            for algorithm in algorithms:
                start = time.perf_counter()
                _one((text, title, algorithm))
                totals[algorithm] += time.perf_counter() - start
        for algorithm in algorithms:
            best[algorithm] = min(best[algorithm], totals[algorithm])
    return best


def pooled(jobs: list[tuple[str, str]], algorithm: str, workers: int, rounds: int) -> float:
    """Best wall seconds to summarize every job with a warmed-up pool of `workers` processes."""
    work = [(text, title, algorithm) for text, title in jobs]
    best = float("inf")
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_one, work[: workers * 20]))  # start and warm every worker
        for _ in range(rounds):
            start = time.perf_counter()
            list(pool.map(_one, work, chunksize=max(1, len(work) // (workers * 8))))
            best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--eval-dir", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    directory = eval_dir(args.eval_dir)
    jobs = []
    for dataset in ("cnndm", "bbc"):
        path = directory / f"{dataset}_{args.split}.jsonl"
        if not path.is_file():
            print(f"missing {path} (use --eval-dir or NEWSDIGEST_EVAL_DIR)", file=sys.stderr)
            return 2
        jobs += [(a.text, a.title) for a in load_articles(path)]
    side_by_side(jobs[:20], ("news", "lexrank"), 1)  # warm caches and imports
    totals = side_by_side(jobs, ("news", "lexrank"), args.rounds)
    n = len(jobs)
    one = n / totals["news"]
    print(f"{n} articles ({args.split}: CNN/DM + BBC), best of {args.rounds} rounds")
    ms = totals["news"] / n * 1000
    print(f"ours (news):      {ms:6.2f} ms/article, {one:7.1f} articles/s in one process")
    print(f"raw sumy LexRank: {totals['lexrank'] / n * 1000:6.2f} ms/article (same cleaning and splitter)")
    print(f"cost ratio ours / LexRank: {totals['news'] / totals['lexrank']:.2f}x")
    single = n / pooled(jobs, "news", 1, args.rounds)
    rate = n / pooled(jobs, "news", args.workers, args.rounds)
    print(f"process pool, 1 worker: {single:7.1f} articles/s")
    print(f"all cores ({args.workers} workers): {rate:7.1f} articles/s, {rate / single:.2f}x one worker, "
          f"{rate / one:.2f}x the in-process rate")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
