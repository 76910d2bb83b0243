"""Content similarity of short news items: TF-IDF cosine over the title plus the lead text.

Why hand-written: scikit-learn/scipy would be heavy new dependencies for a few dozen lines.
Vectors are sparse (words and adjacent word pairs of the title and of the first words of the
text: about a hundred terms per item), so similar pairs are found through an inverted index
in numpy: only pairs sharing a non-common term are ever scored, which keeps the cost near
O(n·k) instead of a dense n × vocabulary product. The IDF weights come from the documents
given (the store's recent articles), not from a fixed corpus, so no stop list is needed in
any language: words every outlet uses get a weight near zero.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from bot import defaults
from bot.pipeline.dedupe import ascii_word_runs

WORD = re.compile(r"[^\W_]\w+|\d")  # words of 2+ characters, and lone digits; never bare underscores
DIGIT = re.compile(r"\d")
OPENERS = "\"'“‘«„([¿¡"  # may precede a name: "Biden said" still starts with a capital
ENDS = frozenset(".!?…:;")
Term = str | tuple[str, str]  # a word, or two adjacent words

# scripts written without spaces: one word run is a whole clause, so they are read as character bigrams
NO_SPACE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")
LEAD_WORDS = 60  # the lead part of the text that is compared (titles are compared whole)
TITLE_WEIGHT = 2.0  # a title word counts like this many lead words
PAIR_WEIGHT = 0.5  # adjacent word pairs ("jobless claims") add phrase evidence: fewer topic-only matches
MARK_WEIGHT = 1.5  # names (capitalised mid-sentence) and numbers are stronger evidence of one event
# A term in more than COMMON_SHARE of the items (at least COMMON_MIN, at most COMMON_MAX items) never
# nominates a pair on its own: a speed-up (such pairs are weak anyway; nominated pairs get their exact cosine)
COMMON_SHARE = 0.2
COMMON_MIN = 20
COMMON_MAX = 50
CACHED = 2000  # items per cache whose terms are remembered across digests (the story context: 2,000)
GATHER_LIMIT = 1 << 24  # pairs × common terms up to which rows are gathered per pair (no BLAS threads)


class Matrix(NamedTuple):
    """Sparse rows: entry k is row[k], column (term) col[k], value val[k]; n rows in all."""
    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    n: int


def _ascii_words(text: str) -> list[str]:
    """WORD.findall(text.casefold()) for ASCII text (most leads; twice as fast, and every digest
    tokenizes ~2,000 context leads): each run of word characters, leading underscores dropped,
    kept when two characters or more or a digit."""
    out = []
    for token in ascii_word_runs(text):
        if token[0] == "_":
            token = token.lstrip("_")
            if not token:
                continue
        if len(token) > 1 or token.isdigit():
            out.append(token)
    return out


def words(text: str) -> list[str]:
    """Casefolded word tokens; runs of a script written without spaces become character bigrams."""
    if text.isascii():  # no script without spaces is ASCII
        return _ascii_words(text)
    tokens = WORD.findall(text.casefold())
    if NO_SPACE.search(text) is None:
        return tokens
    out: list[str] = []
    for token in tokens:
        if NO_SPACE.search(token):
            out += [token[i:i + 2] for i in range(max(1, len(token) - 1))]
        else:
            out.append(token)
    return out


def marks(text: str, tokens: list[str]) -> set[str]:
    """Names (capitalised, not at a sentence start) and numbers among `tokens` of `text`: in a
    lead they are the who/what/how-many that two reports of one event share."""
    found = {t for t in tokens if not t.isalpha() and DIGIT.search(t)}
    chunks = text.split()
    for before, chunk in zip(chunks, chunks[1:], strict=False):
        if chunk[0] in OPENERS:
            chunk = chunk.lstrip(OPENERS)
        if chunk and chunk[0].isupper() and before[-1] not in ENDS:
            match = WORD.match(chunk)
            if match:
                found.add(match.group().casefold())
    return found


def lead(text: str, limit: int | None = None) -> str:
    """The first `limit` (default LEAD_WORDS) words of `text`, within its first STORY_LEAD_CHARS
    characters: in a script written without spaces one "word" can be a whole article, and the
    store hands context articles over cut to that length, so candidates are cut alike."""
    n = LEAD_WORDS if limit is None else limit
    return " ".join(text[:defaults.STORY_LEAD_CHARS].split(maxsplit=n)[:n])


def term_counts(title: str, text: str) -> dict[Term, float]:
    """Weighted term frequencies of one item: words and adjacent word pairs of the title and
    the lead; title terms weigh more, names and numbers too. Headlines are often Title Cased,
    so a title word is a name only if the lead shows it as one.

    Remembered, like `corpus_words`: every digest compares its candidates with the same few thousand
    recent articles, and with many channels tokenizing those again for each channel was most
    of a digest's time. Both caches are keyed by the lead, not the whole text (no article
    bodies kept), and bounded (CACHED items each). Callers must not change the dict."""
    return _cached_counts(title, lead(text))


@lru_cache(maxsize=CACHED)
def _cached_counts(title: str, body: str) -> dict[Term, float]:
    tokens = words(body)
    heading = words(title)
    strong = marks(body, tokens) | {t for t in heading if not t.isalpha() and DIGIT.search(t)}
    counts: dict[Term, float] = {t: c * MARK_WEIGHT if t in strong else float(c)
                                for t, c in Counter(tokens).items()}
    for token in heading:
        counts[token] = counts.get(token, 0.0) + TITLE_WEIGHT * (MARK_WEIGHT if token in strong else 1.0)
    for seq, weight in ((tokens, PAIR_WEIGHT), (heading, PAIR_WEIGHT * TITLE_WEIGHT)):
        for pair in zip(seq, seq[1:], strict=False):  # a tuple key: cheaper than joining strings
            counts[pair] = counts.get(pair, 0.0) + weight
    return counts


class CorpusItem:
    """A corpus item's words, and its term set once it has been used twice.

    Counting which of a digest's terms one recent article holds costs either a term set per
    article (built once, then counted whole, in C, by every digest: the cheap way for a
    service that builds many digests against the same articles) or intersections over its
    words (no set built: the cheap way for a single digest, as `newsdigest digest` builds).
    An item takes the second way on its first use and builds its set on its second."""

    __slots__ = ("heading", "terms", "tokens", "used")

    def __init__(self, tokens: tuple[str, ...], heading: tuple[str, ...]) -> None:
        self.tokens, self.heading = tokens, heading
        self.terms: frozenset[Term] | None = None
        self.used = False

    def held(self, singles: set[str], pairs: set[tuple[str, str]]) -> Iterable[Term]:
        """The terms this item holds among `singles` and `pairs` (the digest's own), or all its
        terms once it has a term set (counting them all in C is cheaper than intersecting)."""
        tokens, heading = self.tokens, self.heading
        if self.terms is None and not self.used:
            self.used = True
            found = singles.intersection(tokens)
            found.update(singles.intersection(heading))
            found.update(pairs.intersection(zip(tokens, tokens[1:], strict=False)))
            found.update(pairs.intersection(zip(heading, heading[1:], strict=False)))
            return found
        if self.terms is None:
            self.terms = frozenset((*tokens, *heading, *zip(tokens, tokens[1:], strict=False),
                                    *zip(heading, heading[1:], strict=False)))
        return self.terms


def corpus_words(title: str, text: str) -> CorpusItem:
    """A corpus item as `tfidf` counts it: the words of its lead and of its title (its terms
    are those words and their adjacent pairs, within the lead and within the title).
    Remembered like `term_counts` (CACHED items, keyed by the lead)."""
    return _cached_words(title, lead(text))


@lru_cache(maxsize=CACHED)
def _cached_words(title: str, body: str) -> CorpusItem:
    return CorpusItem(tuple(words(body)), tuple(words(title)))


def tfidf(items: Sequence[dict[Term, float]], extra: Iterable[CorpusItem] = ()) -> Matrix:
    """Unit-length TF-IDF rows for `items` as sparse entries (row, term, weight), sorted by row.

    IDF is ln((N + 1) / (df + 0.5)) over `items` plus `extra` (corpus items, from
    `corpus_words`): a term present almost everywhere weighs about 0, so it cannot make two
    items look alike. Term frequency is sublinear (1 + ln tf, weights below 1 kept as they
    are): a word repeated in one lead is not more news."""
    vocab: dict[Term, int] = {}
    cols = [vocab.setdefault(term, len(vocab)) for counts in items for term in counts]
    tfs = [c for counts in items for c in counts.values()]
    rows = np.repeat(np.arange(len(items)), [len(counts) for counts in items])
    df = np.bincount(np.array(cols, np.int64), minlength=len(vocab)).astype(float)
    n = len(items)
    # each corpus item adds one to the count of each of the items' terms it holds
    singles = {t for t in vocab if type(t) is str}
    pairs = {t for t in vocab if type(t) is tuple}
    seen: Counter[Term] = Counter()
    for item in extra:
        n += 1
        seen.update(item.held(singles, pairs))
    for term, k in vocab.items():
        df[k] += seen.get(term, 0)
    row, col, tf = rows, np.array(cols, np.int64), np.array(tfs, float)
    weight = np.where(tf >= 1, 1 + np.log(np.maximum(tf, 1)), tf) * np.log((n + 1) / (df[col] + 0.5))
    norm = np.sqrt(np.bincount(row, weights=weight * weight, minlength=len(items)))
    keep = weight > 0
    row, col, weight = row[keep], col[keep], weight[keep]
    return Matrix(row, col, weight / norm[row], len(items))


def similar_pairs(m: Matrix, floor: float, common_share: float = COMMON_SHARE) -> tuple[np.ndarray, ...]:
    """All pairs (i < j) of rows whose cosine is at least `floor`, as arrays (i, j, cosine).

    Pairs are nominated by the terms they share that are not common (in at most common_share
    × n rows, clamped to COMMON_MIN..COMMON_MAX); their cosine is then exact: the common
    terms' part is added from a dense matrix of those terms only. A pair sharing only common
    words is never a story match, so skipping it loses nothing that matters and keeps the
    cost near O(n·k)."""
    n = m.n
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if n < 2 or len(m.col) == 0:
        return empty
    df = np.bincount(m.col)
    cap = min(max(COMMON_MIN, int(common_share * n)), COMMON_MAX)
    nominate = (df[m.col] >= 2) & (df[m.col] <= cap)
    row, col, val = m.row[nominate], m.col[nominate], m.val[nominate]
    order = np.lexsort((row, col))  # by term, then by row: pairs come out with i < j
    row, col, val = row[order], col[order], val[order]
    if len(col) == 0:
        return empty
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    sizes = np.diff(np.r_[starts, len(col)])
    later = np.repeat(sizes, sizes) - (np.arange(len(col)) - np.repeat(starts, sizes)) - 1
    total = int(later.sum())
    if total == 0:
        return empty
    left = np.repeat(np.arange(len(col)), later)
    right = left + np.arange(total) - np.repeat(np.cumsum(later) - later, later) + 1
    keys, inverse = np.unique(row[left] * n + row[right], return_inverse=True)
    dots = np.bincount(inverse, weights=val[left] * val[right])
    i, j = keys // n, keys % n
    common = df[m.col] > cap
    if common.any():
        dots = dots + _common_part(m, common, i, j)
    keep = dots >= floor
    return i[keep], j[keep], dots[keep]


def _common_part(m: Matrix, common: np.ndarray, i: np.ndarray, j: np.ndarray, block: int = 512) -> np.ndarray:
    """The common terms' share of the dot products of pairs (i, j), i sorted. Small work: gather
    the two rows of each pair; large: a dense float32 product of a block of rows at a time
    (BLAS: several times faster than the memory-bound gathers, but it wakes BLAS threads)."""
    terms, dense_col = np.unique(m.col[common], return_inverse=True)
    dense = np.zeros((m.n, len(terms)), np.float32)
    dense[m.row[common], dense_col] = m.val[common]
    out = np.zeros(len(i))
    if len(i) * len(terms) <= GATHER_LIMIT:
        for lo in range(0, len(i), 1 << 15):
            hi = lo + (1 << 15)
            out[lo:hi] = np.einsum("ij,ij->i", dense[i[lo:hi]], dense[j[lo:hi]])
        return out
    for start in range(0, m.n, block):
        lo, hi = np.searchsorted(i, [start, start + block])
        if lo < hi:
            out[lo:hi] = (dense[start:start + block] @ dense.T)[i[lo:hi] - start, j[lo:hi]]
    return out
