"""Same-story grouping against labelled windows: B-cubed and pairwise precision/recall/F1, and time.

    python bench/stories.py [--data PATH] [--threshold X] [--linkage complete|average|single]
                            [--sweep] [--dates] [--corpus JSONL ...]

The data (JSON lines, one window per line: {"window": N, "items": [{"id", "cluster", "feed",
"title", "text", ...}]}) is read from --data, else $NEWSDIGEST_STORIES_DATA, else
../shared/eval/stories_dev.jsonl next to the repository. It is evaluation data only: nothing
of it is copied into the project. Items are grouped per window by `bot.digest.stories.group`
with no publication times (the dev data only has the story's date, the same for every item of
a story, so using it would leak the answer; --dates does so anyway, as an optimistic check of
the time rule). Printed: per window and mean scores, today's title-Jaccard rule and "every
item alone" for comparison, the pool (every distinct item once, in one call: the windows are
overlapping samples of ~730 items), the CPU time per 1,000 items, per window and in one call
(more distractors: closer to a store's three days), and with --sweep the F1 plateau over
thresholds plus held-out choices (pick the threshold on one part, report on the other).
--corpus adds other articles to the IDF corpus, as the store's recent articles will be: a
broader corpus raises the weight of topic words, so the same threshold merges a little more.
Deterministic. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from itertools import combinations
from pathlib import Path
from typing import Protocol, cast

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.digest.stories import LINKAGE, STORY_THRESHOLD, StoryDoc, group  # noqa: E402

DATA_ENV = "NEWSDIGEST_STORIES_DATA"
DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "stories_dev.jsonl"
SWEEP = [round(0.075 + 0.025 * k, 3) for k in range(11)]
Clusters = list[list[int]]


class Grouper(Protocol):
    def __call__(self, docs: Sequence[StoryDoc], *, threshold: float) -> Clusters: ...


def bcubed(pred: Clusters, gold: Clusters) -> tuple[float, float, float]:
    """Mean over items of |own predicted ∩ own gold group| / |predicted| (P) and / |gold| (R)."""
    p_of = {i: set(c) for c in pred for i in c}
    g_of = {i: set(c) for c in gold for i in c}
    items = sorted(g_of)
    p = statistics.fmean(len(p_of[i] & g_of[i]) / len(p_of[i]) for i in items)
    r = statistics.fmean(len(p_of[i] & g_of[i]) / len(g_of[i]) for i in items)
    return p, r, f1(p, r)


def pairwise(pred: Clusters, gold: Clusters) -> tuple[float, float, float]:
    """Precision/recall of "same story" pairs. No predicted pair at all counts as precision 1
    (nothing was merged wrongly); no gold pair as recall 1."""
    def pairs(clusters: Clusters) -> set[tuple[int, int]]:
        return {(a, b) for c in clusters for a, b in combinations(sorted(c), 2)}
    guessed, true = pairs(pred), pairs(gold)
    hit = len(guessed & true)
    p = hit / len(guessed) if guessed else 1.0
    r = hit / len(true) if true else 1.0
    return p, r, f1(p, r)


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def load(path: Path, dates: bool, offset: int = 0) -> list[tuple[list[StoryDoc], Clusters, list[dict]]]:
    """Windows as (docs, gold clusters, raw items); doc ids are window * 10,000 + position."""
    windows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        base = offset + int(row.get("window", len(windows))) * 10_000
        docs, by_cluster = [], {}
        for k, item in enumerate(row["items"]):
            when = None
            if dates and item.get("date"):
                when = datetime.fromisoformat(item["date"]).replace(tzinfo=UTC)
            docs.append(StoryDoc(base + k, item["feed"], item.get("title") or "", item.get("text") or "", when))
            by_cluster.setdefault(item["cluster"], []).append(base + k)
        windows.append((docs, list(by_cluster.values()), row["items"]))
    return windows


TITLE_STOP = frozenset("a an the and or of to in on for at by with from as is are was were be it its this that "
                       "after over into new says say said will has have had not no".split())


def title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"\w+", title.casefold()) if w not in TITLE_STOP and len(w) > 1)


def same_title(a: frozenset[str], b: frozenset[str]) -> bool:
    if len(a) < 4 or len(b) < 4:
        return False
    return len(a & b) / len(a | b) >= 0.6


def title_rule(docs: Sequence[StoryDoc]) -> Clusters:
    """The rule newsdigest used before content grouping, kept as the baseline: join the first
    earlier story whose title words have Jaccard >= 0.6 (4+ words each), never two items of
    one feed in a story."""
    stories: list[tuple[frozenset[str], list[StoryDoc]]] = []
    for d in docs:
        mine = title_words(d.title)
        for theirs, members in stories:
            if same_title(mine, theirs) and all(m.source != d.source for m in members):
                members.append(d)
                break
        else:
            stories.append((mine, [d]))
    return [[m.id for m in members] for _, members in stories]


def alone(docs: Sequence[StoryDoc]) -> Clusters:
    return [[d.id] for d in docs]


def score(windows: Sequence, method: Callable[[Sequence[StoryDoc]], Clusters]) -> list[tuple[float, ...]]:
    return [bcubed(pred, gold) + pairwise(pred, gold) for docs, gold, _ in windows
            for pred in [method(docs)]]


def mean(rows: Sequence[tuple[float, ...]]) -> tuple[float, ...]:
    return tuple(statistics.fmean(col) for col in zip(*rows, strict=True))


def fmt(row: Sequence[float]) -> str:
    return "  ".join(f"{x:.3f}" for x in row)


HEADER = "B3-P   B3-R   B3-F1  pw-P   pw-R   pw-F1"


def pool(windows: Sequence) -> tuple[list[StoryDoc], Clusters]:
    """Every distinct item once (the windows are samples of one pool and overlap), with its gold
    story: one call over all of them has more distractors and complete stories."""
    docs: dict[str, StoryDoc] = {}
    gold: dict[str, list[int]] = {}
    for window_docs, _, items in windows:
        for d, item in zip(window_docs, items, strict=True):
            if item["id"] not in docs:
                docs[item["id"]] = d
                gold.setdefault(item["cluster"], []).append(d.id)
    return list(docs.values()), list(gold.values())


def halves(docs: Sequence[StoryDoc], gold: Clusters) -> tuple[tuple[list[StoryDoc], Clusters], ...]:
    """The pool split into two halves that share no story (alternate gold stories by smallest id)."""
    out: list[tuple[list[StoryDoc], Clusters]] = [([], []), ([], [])]
    by_id = {d.id: d for d in docs}
    for k, cluster in enumerate(sorted(gold, key=min)):
        out[k % 2][0].extend(by_id[i] for i in cluster)
        out[k % 2][1].append(cluster)
    return out[0], out[1]


def cpu_ms_per_1000(calls: Sequence[Sequence[StoryDoc]], run: Grouper, threshold: float) -> float:
    """Best of 3, process CPU time (the machine may be shared): milliseconds per 1,000 items."""
    items = sum(len(c) for c in calls)
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for docs in calls:
            run(docs, threshold=threshold)
        best = min(best, time.process_time() - started)
    return 1e6 * best / items


def evaluate(sets: Sequence[tuple[Sequence[StoryDoc], Clusters]], run: Grouper, t: float) -> tuple[float, ...]:
    """Mean scores over (docs, gold) sets at threshold t."""
    return mean([bcubed(p, g) + pairwise(p, g) for docs, g in sets for p in [run(docs, threshold=t)]])


def choose(sets: Sequence[tuple[Sequence[StoryDoc], Clusters]], run: Grouper, min_pw_p: float = 0.75,
           slack: float = 0.01) -> float:
    """Leaning to precision: the highest threshold whose mean B-cubed F1 is within `slack` of the
    best one among those with mean pairwise precision >= min_pw_p (the top of the plateau)."""
    scores = [(t, evaluate(sets, run, t)) for t in SWEEP]
    fine = [(t, m[2]) for t, m in scores if m[3] >= min_pw_p] or [(SWEEP[-1], 0.0)]
    best = max(f for _, f in fine)
    return max(t for t, f in fine if f >= best - slack)


def sweep(windows: Sequence, whole: tuple[list[StoryDoc], Clusters], run: Grouper) -> None:
    sets = [(docs, gold) for docs, gold, _ in windows]
    print("\nsweep: windows mean, worst window's B3-F1; the pool in one call")
    print(f"thresh  {HEADER}  worst  | pool B3-F1 pw-P")
    for x in SWEEP:
        rows = [bcubed(p, g) + pairwise(p, g) for docs, g in sets for p in [run(docs, threshold=x)]]
        pooled = evaluate([whole], run, x)
        print(f"{x:>6}  {fmt(mean(rows))}  {min(r[2] for r in rows):.3f}  | {pooled[2]:.3f}  {pooled[3]:.3f}")
    print("\nheld out: choose on one part (top of the B3-F1 plateau: within 0.01 of the best with pw-P >= 0.75),"
          " report on the other")
    a, b = halves(*whole)
    splits = {"windows 0-5 | 6-11": (sets[:6], sets[6:]), "windows even | odd": (sets[::2], sets[1::2]),
              "pool, disjoint stories A | B": ([a], [b])}
    for name, (one, two) in splits.items():
        for train, test, label in ((one, two, "1st"), (two, one, "2nd")):
            x = choose(train, run)
            print(f"  {name}, chosen on {label}: {x:<6} -> held out {fmt(evaluate(test, run, x))}")


def load_corpus(paths: Sequence[Path]) -> list[StoryDoc]:
    """Extra IDF documents (JSON lines with "title"/"text"), like the store's other recent articles."""
    docs = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                docs.append(StoryDoc(10**9 + len(docs), f"corpus:{path.name}", row.get("title") or "",
                                     row.get("text") or "", None))
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--threshold", type=float, default=STORY_THRESHOLD)
    parser.add_argument("--linkage", default=LINKAGE, choices=("average", "complete", "single"))
    parser.add_argument("--sweep", action="store_true", help="F1 plateau over thresholds and held-out choices")
    parser.add_argument("--dates", action="store_true", help="use the (per-story, leaking) dates")
    parser.add_argument("--corpus", type=Path, nargs="*", default=[],
                        help="JSON-lines files of other articles (title, text) added to the IDF corpus")
    args = parser.parse_args(argv)
    path = args.data or Path(os.environ.get(DATA_ENV) or DEFAULT_DATA)
    if not path.is_file():
        print(f"stories bench: no data at {path}; pass --data PATH or set {DATA_ENV} to a stories jsonl",
              file=sys.stderr)
        return 2
    missing = [p for p in args.corpus if not p.is_file()]
    if missing:
        print(f"stories bench: no corpus file at {missing[0]} (--corpus takes JSON-lines files)", file=sys.stderr)
        return 2
    windows = load(path, args.dates)
    corpus = load_corpus(args.corpus)
    t = args.threshold
    run = cast(Grouper, partial(group, linkage=args.linkage, corpus=corpus))
    ours = [bcubed(p, g) + pairwise(p, g) for docs, g, _ in windows for p in [run(docs, threshold=t)]]
    print(f"data: {path} ({len(windows)} windows, {sum(len(w[0]) for w in windows)} items)"
          f"{'  [dates: optimistic]' if args.dates else ''}"
          f"{f'  + {len(corpus)} IDF corpus documents' if corpus else ''}")
    print(f"threshold {t}, {args.linkage} link\nwindow  {HEADER}")
    for (docs, _, _), row in zip(windows, ours, strict=True):
        print(f"{docs[0].id // 10_000:>6}  {fmt(row)}")
    print(f"  mean  {fmt(mean(ours))}")
    print(f"spread  B3-F1 {min(r[2] for r in ours):.3f}-{max(r[2] for r in ours):.3f}"
          f" (sd {statistics.stdev(r[2] for r in ours):.3f}),"
          f" pw-P {min(r[3] for r in ours):.3f}-{max(r[3] for r in ours):.3f}")
    print(f" title  {fmt(mean(score(windows, title_rule)))}   the old rule: title-word Jaccard >= 0.6")
    print(f" alone  {fmt(mean(score(windows, alone)))}   every item alone")
    whole = pool(windows)
    print(f"  pool  {fmt(evaluate([whole], run, t))}   all {len(whole[0])} distinct items in one call"
          f" ({len(whole[1])} stories)")
    calls = [w[0] for w in windows]
    every = [d for c in calls for d in c]
    print(f"time (CPU, best of 3): {cpu_ms_per_1000(calls, run, t):.1f} ms per 1,000 items in calls of ~200;"
          f" {cpu_ms_per_1000([whole[0]], run, t):.1f} in one call of {len(whole[0])};"
          f" {cpu_ms_per_1000([every], run, t):.1f} in one call of {len(every)} (windows concatenated)")
    if args.sweep:
        sweep(windows, whole, run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
