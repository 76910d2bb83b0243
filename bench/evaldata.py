"""What the quality bench and the tuning sweep share: where the eval files are, how they load,
how ROUGE is computed and how resamples are drawn. One copy, so the sweep scores exactly what
`bench/quality.py` reports.

The eval files are for evaluation only; they stay outside the repository (see README).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.pipeline.clean import clean_text  # noqa: E402

METRICS = ("rouge1", "rouge2", "rougeLsum")
DATASETS = ("cnndm", "bbc")
BOOTSTRAP_SEED = 20240601
ENV_VAR = "NEWSDIGEST_EVAL_DIR"


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    reference: str  # one sentence per line


class MissingEvalData(Exception):
    """An eval file is not where we looked; the message says where, and how to point elsewhere."""


def eval_dir(cli_value: str | None = None) -> Path:
    """--eval-dir, else $NEWSDIGEST_EVAL_DIR, else ../shared/eval next to the repo."""
    value = cli_value or os.environ.get(ENV_VAR)
    return Path(value) if value else ROOT.parent / "shared" / "eval"


def require_files(directory: Path, names: Iterable[str]) -> None:
    """Raise MissingEvalData naming the first file (or the directory) that is not there."""
    if not directory.is_dir():
        raise MissingEvalData(f"eval data directory {directory} not found")
    for name in names:
        if not (directory / name).is_file():
            raise MissingEvalData(f"eval file {directory / name} not found")


def missing_data_line(script: str, error: MissingEvalData) -> str:
    """The one line a bench prints before exiting 2: what is missing, and how to point at it."""
    return (f"{script}: {error} (point at the directory holding the eval files with --eval-dir DIR "
            f"or {ENV_VAR}=DIR)")


def load_articles(path: Path) -> list[Article]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [Article(r["id"], r.get("title") or "", r["text"], r["summary"]) for r in rows]


def make_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)


def rouge_rows(predictions: list[list[str]], references: list[str], scorer=None) -> np.ndarray:
    """F1 x 100 per article and metric: shape (articles, 3). Sentences are newline-joined."""
    scorer = scorer or make_scorer()
    out = np.zeros((len(predictions), len(METRICS)))
    for i, (pred, ref) in enumerate(zip(predictions, references, strict=True)):
        scores = scorer.score(ref, "\n".join(pred))
        out[i] = [scores[m].fmeasure * 100.0 for m in METRICS]
    return out


def bootstrap_indices(n: int, rounds: int = 1000, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """The same resamples for every system, so intervals and paired differences line up."""
    return np.random.default_rng(seed).integers(0, n, size=(rounds, n))


def bootstrap_ci(values: np.ndarray, indices: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95 % percentile interval of the mean of `values` (one value per article)."""
    means = values[indices].mean(axis=1)
    return float(values.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def paired_difference(ours: np.ndarray, theirs: np.ndarray,
                      indices: np.ndarray) -> tuple[float, float, float, float]:
    """Mean difference, its 95 % interval, and the share of resamples where ours is not better."""
    diff = ours - theirs
    means = diff[indices].mean(axis=1)
    return (float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)),
            float((means <= 0).mean()))


def prepare(articles: Iterable[Article]) -> list[tuple[Article, str]]:
    """Each article with its cleaned text (what every summarizer is given)."""
    return [(a, clean_text(a.text, a.title or None)) for a in articles]
