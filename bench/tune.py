"""Rerun the tuning of the `news` summarizer's weights on the dev files: the sweep and the choice rule.

    python bench/tune.py                 # the full default sweep (see bench/TUNING.md for time)
    python bench/tune.py --quick         # a small grid around the defaults, seconds
    python bench/tune.py --round2-only   # round 2 alone, around the code's defaults
    python bench/tune.py --eval-dir DIR  # or NEWSDIGEST_EVAL_DIR=DIR; reads only *_dev.jsonl

The rule (written down in bench/TUNING.md, which is the reference):

Round 1. Over the round-1 grid, keep the configurations with BBC dev R-1 >= 53 and CNN/DM dev
R-1 >= Lead-3's; of those take the one whose picks agree most with Lead-3 on CNN/DM dev (share
of our picked sentences that are Lead-3's). Ties: higher CNN/DM dev R-1, then higher BBC dev
R-1, then the earlier configuration in grid order.

Round 2. Over a grid around the round-1 pick that adds the new features (quote penalty, speech
penalty, length prior), a new feature is kept only if the round-1 rule picks it (weight > 0) in
>= 70 % of 200 resamples of both dev sets. The candidate is the rule's pick over the round-2
configurations whose dropped features are 0; it replaces the round-1 pick only if it beats it
on CNN/DM dev R-1 in >= 70 % of paired resamples.

It prints the chosen configuration and whether it equals `NewsParams()` in bot/pipeline/news.py.
Deterministic: fixed grids, a fixed resample seed, no hash-order dependence. The summarizer is
run through its public `features` (once per article) and `select` (once per configuration);
articles of at most 3 sentences, where no weight matters, take `news_summary`'s answer.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.evaldata import (  # noqa: E402
    BOOTSTRAP_SEED,
    Article,
    MissingEvalData,
    eval_dir,
    load_articles,
    make_scorer,
    missing_data_line,
    prepare,
    require_files,
    rouge_rows,
)
from bot.pipeline.news import Features, NewsParams, features, news_summary, select  # noqa: E402
from bot.pipeline.sentences import split_sentences  # noqa: E402
from bot.pipeline.summarize import summarize_sentences  # noqa: E402

DEV_FILES = ("cnndm_dev.jsonl", "bbc_dev.jsonl")
COUNT = 3  # sentences per summary, as in bench/quality.py
BBC_FLOOR = 53.0
KEEP_SHARE = 0.7  # round 2: share of resamples a feature / a new default must win
RESAMPLES = 200
NEW_FEATURES = ("quote_penalty", "speech_penalty", "length_prior")

# Round 1: every combination (a full grid, not a sample, so a rerun sees the same configurations).
# `extra` holds the one-at-a-time variants README's "what did not help" names.
ROUND1 = {
    "lexrank_weight": (0.0, 0.15, 0.3, 0.5),
    "lead": (0.25, 0.5, 0.75, 1.0, 1.5),
    "position": (("lead_words", 100.0), ("lead_words", 150.0), ("lead_words", 200.0), ("lead_words", 300.0),
                 ("tau", 8.0), ("tau", 12.0)),
    "headline": (0.0, 0.3, 0.6),
    "mmr": (0.5, 1.0, 1.5, 2.0),
    "extra": ((), (("backbone", 1), ("backbone_bonus", 0.25)), (("backbone", 2), ("backbone_bonus", 0.25)),
              (("long_penalty", 0.1),)),
}
ROUND1_QUICK = {
    "lexrank_weight": (0.0, 0.3),
    "lead": (0.75, 1.0),
    "position": (("lead_words", 150.0), ("lead_words", 200.0)),
    "headline": (0.3,),
    "mmr": (1.5,),
    "extra": ((),),
}
# Round 2: steps around the round-1 pick for lead, position and headline, and the new features.
ROUND2 = {
    "lead": (-0.25, 0.0, 0.25),
    "position": (2 / 3, 1.0, 4 / 3),  # times lead_words (or tau): 150 -> 100, 150, 200
    "headline": (-0.15, 0.0, 0.15),
    "quote_penalty": (0.0, 0.1, 0.2),
    "speech_penalty": (0.0, 0.1, 0.2, 0.4),
    "length_prior": (0.0, 0.1, 0.2),
}
ROUND2_QUICK = {
    "lead": (0.0,),
    "position": (1.0,),
    "headline": (0.0,),
    "quote_penalty": (0.0, 0.1),
    "speech_penalty": (0.0, 0.1),
    "length_prior": (0.0,),
}


def _params(**values: float) -> NewsParams:
    """A configuration: the swept values; everything else stays at the code's default."""
    return NewsParams(**{k: round(v, 6) if isinstance(v, float) else v for k, v in values.items()})


def round1_grid(spec: dict = ROUND1) -> list[NewsParams]:
    """The round-1 configurations in a fixed order; the new features are 0."""
    out = []
    for lexrank, lead, (kind, pos), headline, mmr, extra in itertools.product(
            spec["lexrank_weight"], spec["lead"], spec["position"], spec["headline"], spec["mmr"], spec["extra"]):
        position = {"lead_words": pos} if kind == "lead_words" else {"lead_words": 0.0, "tau": pos}
        out.append(_params(lexrank_weight=lexrank, lead=lead, headline=headline, mmr=mmr, **position,
                           **dict(extra), **dict.fromkeys(NEW_FEATURES, 0.0)))
    return out


def round2_grid(base: NewsParams, spec: dict = ROUND2) -> list[NewsParams]:
    """Configurations around `base`, with the new features; `base` itself is among them."""
    out, seen = [], set()
    for d_lead, d_pos, d_head, quote, speech, length in itertools.product(
            spec["lead"], spec["position"], spec["headline"], spec["quote_penalty"], spec["speech_penalty"],
            spec["length_prior"]):
        lead, headline = base.lead + d_lead, base.headline + d_head
        if lead < 0 or headline < 0:
            continue
        if base.lead_words:
            position = {"lead_words": base.lead_words * d_pos}
        else:
            position = {"tau": base.tau * d_pos}
        values = {f.name: getattr(base, f.name) for f in fields(NewsParams)}
        values.update(lead=lead, headline=headline, quote_penalty=quote, speech_penalty=speech,
                      length_prior=length, **position)
        config = _params(**values)
        if config not in seen:
            seen.add(config)
            out.append(config)
    return out


# ---- data: per-article features once, R-1 of a pick set without re-tokenizing -------------------


def _title_key(text: str) -> str:
    # the same normalisation summarize_sentences uses to drop sentences equal to the headline
    return re.sub(r"\W+", " ", text).strip().lower()


@dataclass
class Item:
    """One dev article as the sweep needs it; R-1 of a pick set is cached (many configs agree)."""

    article: Article
    cleaned: str
    sentences: list[str]  # the candidates summarize_sentences gives the summarizer
    feats: Features | None  # None for articles of at most COUNT candidates: no weight matters there
    fixed: tuple[int, ...]  # the picks of such a short article (news_summary's own answer)
    lead3: list[str]  # bench/quality.py's Lead-3: the first sentences of the cleaned text
    lead_mask: np.ndarray  # candidate is one of Lead-3's sentences
    sentence_counts: list[Counter]
    reference_counts: Counter
    lead_r1: float
    cache: dict

    def picks(self, params: NewsParams) -> tuple[int, ...]:
        return self.fixed if self.feats is None else tuple(select(self.feats, COUNT, params))

    def rouge1(self, picks: tuple[int, ...]) -> float:
        """rouge-score's R-1 F1 x 100 of the picked sentences (newline-joined tokens = concatenated tokens)."""
        if picks not in self.cache:
            pred = Counter()
            for i in picks:
                pred.update(self.sentence_counts[i])
            self.cache[picks] = rouge1_f(pred, self.reference_counts)
        return self.cache[picks]


def rouge1_f(pred: Counter, reference: Counter) -> float:
    """rouge-score's unigram F1 x 100 from token counts (its _score_ngrams, without re-tokenizing)."""
    overlap = sum(min(n, pred[t]) for t, n in reference.items())
    precision = overlap / max(sum(pred.values()), 1)
    recall = overlap / max(sum(reference.values()), 1)
    return (2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0) * 100.0


def candidates(article: Article, cleaned: str) -> list[str]:
    """The sentences summarize_sentences gives the `news` summarizer."""
    title_key = _title_key(article.title) if article.title else None
    return [s for s in split_sentences(cleaned, "english") if _title_key(s) != title_key]


def _positions(chosen: list[str], sentences: list[str]) -> tuple[int, ...]:
    """Indices of `chosen` (a subsequence of `sentences`, in order) in `sentences`."""
    out, start = [], 0
    for text in chosen:
        start = sentences.index(text, start)
        out.append(start)
        start += 1
    return tuple(out)


def build_items(articles: Sequence[Article]) -> list[Item]:
    from rouge_score.tokenizers import DefaultTokenizer

    tokenizer = DefaultTokenizer(use_stemmer=True)
    items = []
    for article, cleaned in prepare(articles):
        sentences = candidates(article, cleaned)
        lead3 = split_sentences(cleaned)[:COUNT]
        title = article.title or None
        # news_summary = features + select above COUNT sentences; below, its own rule, whatever the weights
        long = len(sentences) > COUNT
        feats = features(sentences, title=title, language="english") if long else None
        fixed = () if long else _positions(news_summary(sentences, title=title, count=COUNT, language="english"),
                                           sentences)
        reference = Counter(tokenizer.tokenize(article.reference))
        items.append(Item(
            article=article, cleaned=cleaned, sentences=sentences, feats=feats, fixed=fixed, lead3=lead3,
            lead_mask=np.asarray([s in lead3 for s in sentences], dtype=bool),
            sentence_counts=[Counter(tokenizer.tokenize(s)) for s in sentences], reference_counts=reference,
            lead_r1=rouge1_f(Counter(tokenizer.tokenize("\n".join(lead3))), reference), cache={}))
    return items


@dataclass(frozen=True)
class Table:
    """Per configuration and article: R-1 and how many picks are Lead-3's; plus Lead-3's own R-1."""

    r1: np.ndarray  # (configs, articles)
    agree: np.ndarray  # (configs, articles), integer counts
    picked: np.ndarray  # (configs, articles), number of picks
    lead_r1: np.ndarray  # (articles,)


def score_configs(items: list[Item], configs: Sequence[NewsParams]) -> Table:
    r1 = np.zeros((len(configs), len(items)))
    agree = np.zeros((len(configs), len(items)), dtype=np.int64)
    picked = np.zeros((len(configs), len(items)), dtype=np.int64)
    for c, params in enumerate(configs):
        for a, item in enumerate(items):
            picks = item.picks(params)
            r1[c, a] = item.rouge1(picks)
            agree[c, a] = int(item.lead_mask[list(picks)].sum()) if picks else 0
            picked[c, a] = len(picks)
    return Table(r1, agree, picked, np.asarray([item.lead_r1 for item in items]))


# ---- the rule --------------------------------------------------------------------------------------


def choose(cnn_r1: np.ndarray, bbc_r1: np.ndarray, agreement: np.ndarray, lead_cnn_r1: float,
           bbc_floor: float = BBC_FLOOR, allowed: np.ndarray | None = None) -> int | None:
    """Round 1's rule over per-configuration means: the index it picks, or None if nothing is feasible.

    Feasible: BBC R-1 >= bbc_floor and CNN/DM R-1 >= Lead-3's. Best: most agreement with Lead-3,
    then CNN/DM R-1, then BBC R-1, then the earliest index.
    """
    feasible = (bbc_r1 >= bbc_floor) & (cnn_r1 >= lead_cnn_r1)
    if allowed is not None:
        feasible &= allowed
    pool = np.flatnonzero(feasible)
    if not pool.size:
        return None
    return int(min(pool, key=lambda i: (-agreement[i], -cnn_r1[i], -bbc_r1[i], i)))


def _means(table: Table, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean R-1, agreement share and Lead-3 R-1, optionally under bootstrap weights (counts per article)."""
    if weights is None:
        return table.r1.mean(axis=1), table.agree.sum(axis=1) / table.picked.sum(axis=1), float(table.lead_r1.mean())
    total = weights.sum()
    return (table.r1 @ weights / total, (table.agree @ weights) / (table.picked @ weights),
            float(table.lead_r1 @ weights / total))


def rule_on(cnn: Table, bbc: Table, bbc_floor: float, cnn_w: np.ndarray | None = None,
            bbc_w: np.ndarray | None = None, allowed: np.ndarray | None = None) -> int | None:
    cnn_r1, agreement, lead_r1 = _means(cnn, cnn_w)
    bbc_r1, _, _ = _means(bbc, bbc_w)
    return choose(cnn_r1, bbc_r1, agreement, lead_r1, bbc_floor, allowed)


def resample_weights(n: int, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap resamples as counts per article: shape (rounds, n)."""
    draws = rng.integers(0, n, size=(rounds, n))
    return np.stack([np.bincount(row, minlength=n) for row in draws]).astype(float)


@dataclass(frozen=True)
class Round2:
    feature_share: dict[str, float]  # share of resamples whose pick uses the feature
    kept: tuple[str, ...]
    candidate: int | None  # index into the round-2 grid
    beats_share: float  # share of paired resamples where the candidate beats the base on CNN/DM R-1
    chosen: int  # index into the round-2 grid of the final configuration
    no_pick: int  # resamples where nothing was feasible


def round2(configs: Sequence[NewsParams], base: int, cnn: Table, bbc: Table, bbc_floor: float = BBC_FLOOR,
           resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Round2:
    """Round 2's rule: bootstrap which new features the rule keeps, then the paired check."""
    rng = np.random.default_rng(seed)
    cnn_w = resample_weights(cnn.r1.shape[1], resamples, rng)
    bbc_w = resample_weights(bbc.r1.shape[1], resamples, rng)
    uses = {name: np.asarray([getattr(c, name) > 0 for c in configs]) for name in NEW_FEATURES}
    hits = dict.fromkeys(NEW_FEATURES, 0)
    no_pick = 0
    for b in range(resamples):
        pick = rule_on(cnn, bbc, bbc_floor, cnn_w[b], bbc_w[b])
        if pick is None:
            no_pick += 1
            continue
        for name in NEW_FEATURES:
            hits[name] += bool(uses[name][pick])
    share = {name: hits[name] / resamples for name in NEW_FEATURES}
    kept = tuple(name for name in NEW_FEATURES if share[name] >= KEEP_SHARE)
    allowed = np.ones(len(configs), dtype=bool)
    for name in NEW_FEATURES:
        if name not in kept:
            allowed &= ~uses[name]
    candidate = rule_on(cnn, bbc, bbc_floor, allowed=allowed)
    beats = 0.0
    chosen = base
    if candidate is not None and candidate != base:
        diff = cnn.r1[candidate] - cnn.r1[base]
        beats = float(np.mean(cnn_w @ diff / cnn_w.sum(axis=1) > 0))
        if beats >= KEEP_SHARE:
            chosen = candidate
    return Round2(share, kept, candidate, beats, chosen, no_pick)


# ---- running it ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    round1_pick: NewsParams | None
    round2: Round2 | None
    chosen: NewsParams | None
    configs: tuple[int, int]  # round-1 and round-2 grid sizes
    grid2: tuple[NewsParams, ...]
    dev: dict  # means of the chosen configuration and Lead-3


SWEPT = ("lexrank_weight", "lead", "lead_words", "tau", "headline", "mmr", "backbone", "backbone_bonus",
         "long_penalty", *NEW_FEATURES)


def describe(params: NewsParams) -> str:
    return ", ".join(f"{name}={getattr(params, name)}" for name in SWEPT)


def differences(params: NewsParams, reference: NewsParams) -> list[str]:
    return [f"{f.name}: {getattr(params, f.name)} (code default {getattr(reference, f.name)})"
            for f in fields(NewsParams) if getattr(params, f.name) != getattr(reference, f.name)]


def round1_default() -> NewsParams:
    """The code's defaults with the round-2 features off: what round 1 is meant to have picked."""
    return replace(NewsParams(), **dict.fromkeys(NEW_FEATURES, 0.0))


def run(directory: Path, quick: bool = False, bbc_floor: float = BBC_FLOOR, resamples: int = RESAMPLES,
        log=None, round2_only: bool = False) -> Result:
    """The whole tuning: round 1, round 2, and the chosen configuration's dev means.

    With `round2_only`, round 1 is skipped and round 2 runs around round1_default(): a check of
    round 2 alone, for when round 1 does not land on the defaults.
    """
    def say(text: str) -> None:
        if log:
            log(text)

    cnn_articles = load_articles(directory / DEV_FILES[0])
    bbc_articles = load_articles(directory / DEV_FILES[1])
    cnn_items, bbc_items = build_items(cnn_articles), build_items(bbc_articles)
    if round2_only:
        grid1, base = [], round1_default()
        say(f"round 1 skipped; round 2 around the code's round-1 defaults: {describe(base)}")
    else:
        grid1 = round1_grid(ROUND1_QUICK if quick else ROUND1)
        say(f"round 1: {len(grid1)} configurations x {len(cnn_items) + len(bbc_items)} dev articles")
        cnn1, bbc1 = score_configs(cnn_items, grid1), score_configs(bbc_items, grid1)
        pick1 = rule_on(cnn1, bbc1, bbc_floor)
        if pick1 is None:
            return Result(None, None, None, (len(grid1), 0), (), {})
        base = grid1[pick1]
        say(f"round 1 pick: {describe(base)}")
    grid2 = round2_grid(base, ROUND2_QUICK if quick else ROUND2)
    say(f"round 2: {len(grid2)} configurations, {resamples} resamples")
    cnn2, bbc2 = score_configs(cnn_items, grid2), score_configs(bbc_items, grid2)
    second = round2(grid2, grid2.index(base), cnn2, bbc2, bbc_floor, resamples)
    chosen = grid2[second.chosen]
    dev = {}
    for name, table, c in (("cnndm", cnn2, second.chosen), ("bbc", bbc2, second.chosen)):
        dev[name] = {"r1": float(table.r1[c].mean()), "agree": float(table.agree[c].sum() / table.picked[c].sum()),
                     "lead_r1": float(table.lead_r1.mean())}
    return Result(base, second, chosen, (len(grid1), len(grid2)), tuple(grid2), dev)


def full_scores(directory: Path, params: NewsParams) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """R-1/R-2/R-Lsum means of `params` and of Lead-3 through bench/quality.py's scorer, and on how many
    articles the bot's own path (summarize_sentences, code defaults) picks otherwise than the sweep
    does for NewsParams(): 0 means the sweep scores what the bot runs."""
    scorer = make_scorer()
    out = {}
    for name in DEV_FILES:
        items = build_items(load_articles(directory / name))
        ours = [[item.sentences[i] for i in item.picks(params)] for item in items]
        mismatch = sum(
            summarize_sentences(item.cleaned, title=item.article.title or None, sentences=COUNT, algorithm="news",
                                language="english") != [item.sentences[i] for i in item.picks(NewsParams())]
            for item in items)
        references = [item.article.reference for item in items]
        out[name.split("_")[0]] = (rouge_rows(ours, references, scorer).mean(axis=0),
                                   rouge_rows([item.lead3 for item in items], references, scorer).mean(axis=0),
                                   mismatch)
    return out


def code_fingerprint() -> str:
    """A short hash of bot/pipeline/*.py: a result holds for the code it was computed on."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "bot" / "pipeline").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", default=None, help="default: $NEWSDIGEST_EVAL_DIR or ../shared/eval")
    parser.add_argument("--quick", action="store_true", help="a small grid around the defaults")
    parser.add_argument("--bbc-floor", type=float, default=BBC_FLOOR)
    parser.add_argument("--resamples", type=int, default=RESAMPLES)
    parser.add_argument("--round2-only", action="store_true",
                        help="skip round 1; run round 2 around the code's defaults with the new features off")
    args = parser.parse_args(argv)
    directory = eval_dir(args.eval_dir)
    try:
        require_files(directory, DEV_FILES)
    except MissingEvalData as error:
        print(missing_data_line("bench/tune.py", error), file=sys.stderr)
        return 2
    start = time.perf_counter()
    print(f"summarizer code (sha256 of bot/pipeline/*.py): {code_fingerprint()}")
    result = run(directory, args.quick, args.bbc_floor, args.resamples, log=print, round2_only=args.round2_only)
    print(f"grids: round 1 {result.configs[0]}, round 2 {result.configs[1]} configurations")
    if result.chosen is None:
        print(f"no configuration has BBC dev R-1 >= {args.bbc_floor} and CNN/DM dev R-1 >= Lead-3's")
        return 1
    second = result.round2
    print("round 2 bootstrap: " + ", ".join(f"{k} picked in {v:.0%}" for k, v in second.feature_share.items())
          + f" of {args.resamples} resamples ({second.no_pick} without a feasible config); "
          f"kept: {', '.join(second.kept) or 'none'}")
    candidate = "none" if second.candidate is None else describe(result.grid2[second.candidate])
    print(f"round 2 candidate: {candidate}; beats the round-1 pick on CNN/DM dev R-1 in "
          f"{second.beats_share:.0%} of paired resamples")
    print(f"chosen: {describe(result.chosen)}")
    for name, values in result.dev.items():
        print(f"  {name} dev: R-1 {values['r1']:.2f} (Lead-3 {values['lead_r1']:.2f}), "
              f"{values['agree']:.1%} of picks are Lead-3's")
    scores = full_scores(directory, result.chosen)
    for name, (ours, lead, mismatch) in scores.items():
        line = (f"  {name} dev (bench/quality.py scorer): ours R-1/R-2/R-Lsum "
                f"{ours[0]:.2f}/{ours[1]:.2f}/{ours[2]:.2f}, Lead-3 {lead[0]:.2f}/{lead[1]:.2f}/{lead[2]:.2f}")
        print(line + f"; bot path vs sweep path for the defaults: {mismatch} articles differ")
    diff = differences(result.chosen, NewsParams())
    if diff:
        print("equals the code's defaults (NewsParams()): NO - " + "; ".join(diff))
    else:
        print("equals the code's defaults (NewsParams()): yes")
    print(f"runtime: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
