"""Summary quality: ROUGE of every algorithm on the offline eval sets, with bootstrap intervals.

    python bench/quality.py --split test      # report (never tune on test)
    python bench/quality.py --split dev       # tune here

Prints, for CNN/DM and BBC, R-1 / R-2 / R-Lsum F1 x 100 (rouge-score, use_stemmer=True,
R-Lsum over newline-joined sentences) with 95 % bootstrap intervals for our default,
every sumy algorithm through our pipeline, Lead-3 (after our cleaning and splitting)
and, on test, the published neural outputs; then paired bootstrap differences of ours
against Lead-3, and the sentence splitter's accuracy and speed on the golden rules.
Deterministic: fixed bootstrap seed, and PYTHONHASHSEED pinned (sumy's LSA builds its
vocabulary from a frozenset, so its output follows string-hash order).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# the shared helpers stay importable from here (tests and older scripts use `quality.<name>`)
from bench.evaldata import (  # noqa: E402, F401
    BOOTSTRAP_SEED,
    DATASETS,
    METRICS,
    Article,
    MissingEvalData,
    bootstrap_ci,
    bootstrap_indices,
    eval_dir,
    load_articles,
    make_scorer,
    missing_data_line,
    paired_difference,
    prepare,
    require_files,
    rouge_rows,
)
from bot.pipeline.clean import clean_text  # noqa: E402
from bot.pipeline.sentences import split_sentences  # noqa: E402
from bot.pipeline.summarize import ALGORITHMS, summarize_sentences  # noqa: E402


def system_runner(name: str, count: int) -> Callable[[Article, str], list[str]]:
    """A function (article, cleaned text) -> summary sentences for a system name."""
    if name == "lead3":
        return lambda a, cleaned: split_sentences(cleaned)[:count]
    return lambda a, cleaned: summarize_sentences(cleaned, title=a.title or None, sentences=count,
                                                  algorithm=name, language="english")


def run_system(name: str, prepared: list[tuple[Article, str]],
               count: int = 3) -> tuple[list[list[str]], float]:
    """Summaries for every article and the median milliseconds per article."""
    runner = system_runner(name, count)
    outputs, times = [], []
    for article, cleaned in prepared:
        start = time.perf_counter()
        outputs.append(runner(article, cleaned))
        times.append(time.perf_counter() - start)
    return outputs, float(np.median(times) * 1000.0) if times else 0.0


def neural_rows(path: Path, ids: list[str]) -> dict[str, list[list[str]]]:
    """Published system outputs aligned to `ids` (systems missing an article are skipped)."""
    by_system: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                by_system.setdefault(row["system_name"], {})[row["id"]] = row["summary"]
    out = {}
    for system, texts in sorted(by_system.items()):
        if all(i in texts for i in ids):
            out[system] = [texts[i].split("\n") for i in ids]
    return out


def golden_rules(path: Path, repeat: int = 3) -> tuple[int, int, list[str]]:
    """Exact-match count of our splitter on the golden rules, and the ids it gets wrong."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    wrong = [r["id"] for r in rows if split_sentences(r["text"]) != r["sentences"]]
    return len(rows) - len(wrong), len(rows), wrong


def splitter_ms_per_article(articles: list[Article], repeat: int = 3) -> float:
    """Best-of-`repeat` mean milliseconds to split one article's cleaned text."""
    texts = [clean_text(a.text, a.title or None) for a in articles]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            split_sentences(text)
        best = min(best, (time.perf_counter() - start) / max(len(texts), 1))
    return best * 1000.0


def _fmt(ci: tuple[float, float, float]) -> str:
    return f"{ci[0]:5.1f} [{ci[1]:4.1f},{ci[2]:4.1f}]"


def report(dataset: str, split: str, directory: Path, rounds: int, systems: list[str]) -> None:
    articles = load_articles(directory / f"{dataset}_{split}.jsonl")
    prepared = prepare(articles)
    references = [a.reference for a in articles]
    scorer = make_scorer()
    indices = bootstrap_indices(len(articles), rounds)
    rows: dict[str, np.ndarray] = {}
    timing: dict[str, float] = {}
    for name in systems:
        outputs, ms = run_system(name, prepared)
        rows[name] = rouge_rows(outputs, references, scorer)
        timing[name] = ms
    if dataset == "cnndm" and split == "test":
        outputs_path = directory / "cnndm_test_system_outputs.jsonl"
        if outputs_path.is_file():
            for system, outputs in neural_rows(outputs_path, [a.id for a in articles]).items():
                rows[f"published {system}"] = rouge_rows(outputs, references, scorer)
    print(f"\n## {dataset}_{split} ({len(articles)} articles, 3 sentences, F1 x 100, 95% bootstrap CI)")
    print(f"| {'system':<26} | {'R-1':^17} | {'R-2':^17} | {'R-Lsum':^17} | ms/article |")
    print(f"|{'-' * 28}|{'-' * 19}|{'-' * 19}|{'-' * 19}|-----------:|")
    for name, values in rows.items():
        cells = " | ".join(_fmt(bootstrap_ci(values[:, m], indices)) for m in range(len(METRICS)))
        ms = f"{timing[name]:.2f}" if name in timing else "-"
        label = "ours (news)" if name == "news" else name
        print(f"| {label:<26} | {cells} | {ms:>10} |")
    if "news" in rows and "lead3" in rows:
        print("\nPaired bootstrap, ours - Lead-3 (mean [95% CI], P(ours <= Lead-3)):")
        for m, metric in enumerate(METRICS):
            d = paired_difference(rows["news"][:, m], rows["lead3"][:, m], indices)
            print(f"  {metric:<9} {d[0]:+5.2f} [{d[1]:+5.2f},{d[2]:+5.2f}]  p={d[3]:.3f}")


def _pin_hash_seed() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--eval-dir", default=None, help="default: $NEWSDIGEST_EVAL_DIR or ../shared/eval")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--systems", default=",".join(("news", "lead3", *ALGORITHMS[1:])))
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args(argv)
    _pin_hash_seed()
    directory = eval_dir(args.eval_dir)
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    try:
        require_files(directory, [f"{dataset}_{args.split}.jsonl" for dataset in datasets])
    except MissingEvalData as error:
        print(missing_data_line("bench/quality.py", error), file=sys.stderr)
        return 2
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for dataset in datasets:
        report(dataset, args.split, directory, args.bootstrap, systems)
    golden = directory / "golden_rules_en.jsonl"
    bbc = directory / f"bbc_{args.split}.jsonl"
    if golden.is_file() and bbc.is_file():
        exact, total, wrong = golden_rules(golden)
        ms = splitter_ms_per_article(load_articles(bbc))
        print(f"\nSentence splitter: golden rules {exact}/{total} exact (wrong: {', '.join(wrong) or '-'}); "
              f"{ms:.3f} ms per BBC {args.split} article")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
