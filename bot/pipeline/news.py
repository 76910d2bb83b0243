"""The default "news" summarizer: sumy-style centrality plus what news needs.

On news, position carries most of the signal (reporters put the story first), while
graph centrality finds the sentences the rest of the article keeps returning to. We
score every sentence with LexRank (sumy's idf-modified cosine, threshold and power
method) blended with Reduction-style word-overlap centrality, add a lead prior that
decays with the words read before a sentence (exp(-words/150); a long opening sentence
pushes the next one back, as it does for a reader) and headline overlap, subtract a little
for first- or second-person sentences (mostly quoted speech, which highlights rarely carry),
drop sentences that are not story text (captions, bylines, datelines, half quotes, fragments, very long
run-ons), and pick greedily with MMR so the three sentences do not repeat each other.
The similarity work runs on sparse term counts in plain Python: sentences share few terms, so
this costs no more than raw sumy LexRank, and `newsdigest summarize` starts without importing
numpy (about 0.1 s). `features` and `select` are apart so a sweep need not recompute the first.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from bot.pipeline.boilerplate import is_noise
from bot.pipeline.languages import stemmer_for, stop_words_for
from bot.pipeline.sentences import split_words


@dataclass(frozen=True)
class NewsParams:
    """Weights of the score, chosen on the dev splits only by a rule fixed before the sweep:
    among configurations with BBC dev R-1 >= 53 and CNN/DM dev R-1 >= Lead-3's, the one that
    agrees most with Lead-3. `python bench/tune.py` reruns the sweep and prints this choice
    (the rule and grids: bench/TUNING.md). Round 2's features (quote, speech and length
    penalties) stay at 0: the rule did not pick them in enough resamples of dev."""

    lexrank_weight: float = 0.0  # share of LexRank in the centrality blend (rest: overlap centrality)
    centrality: float = 1.0
    lead: float = 1.0
    tau: float = 12.0  # position prior exp(-i / tau), used when lead_words is 0
    headline: float = 0.3
    mmr: float = 1.5  # redundancy penalty times max cosine to already-picked sentences
    lexrank_threshold: float = 0.1  # sumy's default
    min_words: int = 6
    max_words: int = 50
    lead_words: float = 150.0  # if set, the position prior is exp(-words before / lead_words)
    long_penalty: float = 0.0  # times how far a sentence's length exceeds the article median
    backbone: int = 0  # the first `backbone` clean sentences get `backbone_bonus`
    backbone_bonus: float = 0.0
    quote_penalty: float = 0.0  # times 1 for sentences that open or close a direct quotation
    speech_penalty: float = 0.0  # times 1 for first/second-person sentences (unmarked speech)
    length_prior: float = 0.0  # times how far (log scale) a sentence is outside length_band words
    length_band: tuple[float, float] = (15.0, 25.0)


DEFAULT_PARAMS = NewsParams()

_CAPTION_PREFIX = re.compile(r"^(?:[A-Z][\w'’\-]*)(?:\s+[\w'’\-]+){0,3}\s*:\s+\S")
_CAPTION_WORDS = re.compile(
    r"\((?:pictured|left|right|centre|center|above|below|top|bottom|file|inset|second left|second right)"
    r"[^)]{0,40}\)|\bpictured\b|\b(?:photo|image|picture) (?:credit|courtesy)\b|\bscroll down\b"
    r"|\bclick here\b|\bread more\b|\bsubscribe\b|\bnewsletter\b|\badvertisement\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(?:By|Reporting by|Written by|Additional reporting)\s+[A-Z]")
_DATELINE = re.compile(r"^\s*(?:[A-Z][A-Za-z .,]{0,40})?\((?i:cnn|ap|afp|reuters)\)\s*(?:--|—|–|-)?")
_QUOTES_STRAIGHT = re.compile(r'"')
_ENDS_WELL = re.compile(r"[.!?][\"'”’)]*$")
# a quotation that starts the sentence, or one closed and then attributed ("...,' said Rose")
_QUOTE_OPEN = re.compile(r"^\s*[\"'‘“]")
_QUOTE_ATTRIBUTED = re.compile(
    r"[,.!?]\s?[\"'’”]\s*(?:\w+\s+){0,3}?(?:said|says|added|adds|told|explained|insisted|admitted|claimed"
    r"|continued|wrote|tweeted)\b", re.IGNORECASE)
# news highlights are third person; "I", "we" and "you" mostly come from quoted speech
_SPEECH = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|we|we're|we've|us|our|you|you're|your)\b", re.IGNORECASE)


@lru_cache(maxsize=200_000)
def _stem(language: str, word: str) -> str:
    return stemmer_for(language)(word)


def _is_junk(sentence: str) -> bool:
    """Sentences a reader should never see as a summary line (length is checked apart)."""
    if _BYLINE.match(sentence) or _DATELINE.match(sentence):
        return True
    if _CAPTION_WORDS.search(sentence):
        return True
    if _CAPTION_PREFIX.match(sentence) and sentence.index(":") < 40:
        return True
    if not _ENDS_WELL.search(sentence):
        return True
    straight = len(_QUOTES_STRAIGHT.findall(sentence))
    opened, closed = sentence.count("“"), sentence.count("”")
    return straight % 2 == 1 or opened != closed


def _terms(sentences: list[str], language: str) -> tuple[list[list[str]], list[int]]:
    stop = stop_words_for(language)
    terms, lengths = [], []
    for sentence in sentences:
        words = [w.lower() for w in split_words(sentence)]
        lengths.append(len(words))
        terms.append([_stem(language, w) for w in words if w not in stop])
    return terms, lengths


Row = dict[int, float]  # one row of a sparse symmetric matrix: column -> value, absent = 0


def _matrices(terms: list[list[str]]) -> tuple[list[Row], list[Row]]:
    """Shared word counts and idf-modified cosine similarity, as sparse rows.

    `shared[i][j]` (i != j) is the dot product of the count vectors of sentences i and j;
    `cosine[i][j]` that of their tf*idf unit vectors, the diagonal included (1, or 0 for a
    sentence without weighted terms). Pairs that share no term are absent from both: only
    sentences that share a term are ever visited, through each term's postings.
    """
    n = len(terms)
    counts = [Counter(sentence) for sentence in terms]
    df: Counter[str] = Counter()
    for sentence in counts:
        df.update(sentence.keys())
    idf = {term: math.log(n / (1.0 + d)) for term, d in df.items()}
    postings: dict[str, list[tuple[int, int, float]]] = {}
    for i, sentence in enumerate(counts):
        top = max(max(sentence.values(), default=0), 1)
        weighted = {term: c / top * idf[term] for term, c in sentence.items()}
        norm = math.sqrt(math.fsum(w * w for w in weighted.values())) or 1.0
        for term, c in sentence.items():
            postings.setdefault(term, []).append((i, c, weighted[term] / norm))
    shared: list[Row] = [{} for _ in range(n)]
    cosine: list[Row] = [{} for _ in range(n)]
    for posting in postings.values():
        for a, (i, count_i, unit_i) in enumerate(posting):
            cosine[i][i] = cosine[i].get(i, 0.0) + unit_i * unit_i
            for j, count_j, unit_j in posting[a + 1:]:
                shared_ij = shared[i].get(j, 0.0) + float(count_i * count_j)
                shared[i][j] = shared[j][i] = shared_ij
                cosine_ij = cosine[i].get(j, 0.0) + unit_i * unit_j
                cosine[i][j] = cosine[j][i] = cosine_ij
    return shared, cosine


LEXRANK_EPSILON = 0.1  # sumy's LexRankSummarizer.epsilon


def _norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in vector))


def _power_method(neighbours: list[list[int]], epsilon: float) -> list[float]:
    """The stationary vector of the row-normalized adjacency `neighbours`, iterated as sumy's LexRank does.

    Written out because sumy's lex_rank module imports NLTK, and with it scipy: two seconds
    before the first summary of every process. p = M^T p from 1/n, normalized by its L2 norm,
    until it moves by at most `epsilon`; a graph without edges (no sentence has a weighted
    term) has no such vector, and gets zeros.
    """
    n = len(neighbours)
    if not n:
        return []
    shares = [1.0 / (len(row) or 1) for row in neighbours]  # M[i, j] for j in row i
    p_vector = [1.0 / n] * n
    change = 1.0
    while change > epsilon:
        next_p = [0.0] * n
        for i, row in enumerate(neighbours):
            step = shares[i] * p_vector[i]
            for j in row:
                next_p[j] += step
        norm = _norm(next_p)
        if not norm > 0:
            return [0.0] * n
        next_p = [x / norm for x in next_p]
        change = _norm([x - y for x, y in zip(next_p, p_vector, strict=True)])
        p_vector = next_p
    return p_vector


def _lexrank(cosine: list[Row], threshold: float) -> list[float]:
    """LexRank over the edges with cosine above `threshold` (absent pairs have cosine 0)."""
    n = len(cosine)
    if threshold < 0.0:  # then every pair is an edge, those that share no term too
        neighbours = [[j for j in range(n) if row.get(j, 0.0) > threshold] for row in cosine]
    else:
        neighbours = [[j for j, value in row.items() if value > threshold] for row in cosine]
    return _power_method(neighbours, LEXRANK_EPSILON)


def _overlap_centrality(shared: list[Row], sizes: list[int]) -> list[float]:
    """sumy Reduction's score: shared words over the sum of log lengths, summed over the others.

    `sizes` are the terms per sentence; a pair whose log lengths sum to 0 scores 0.
    """
    logs = [math.log(max(size, 1)) for size in sizes]
    out = []
    for i, row in enumerate(shared):
        edges = []
        for j, value in row.items():
            norm = logs[i] + logs[j]
            if norm > 0:
                edges.append(value / norm)
        out.append(math.fsum(edges))
    return out


def _scaled(values: list[float]) -> list[float]:
    top = max(values, default=0.0)
    return [v / top for v in values] if top > 0 else [0.0] * len(values)


@dataclass(frozen=True)
class Features:
    """Everything about an article's sentences that does not depend on the weights."""

    n: int
    lengths: tuple[int, ...]  # words per sentence
    offsets: tuple[int, ...]  # words before each sentence
    cosine: tuple[Row, ...]  # sparse rows: a pair that shares no term has cosine 0
    lexrank: tuple[float, ...]  # scaled to max 1
    overlap: tuple[float, ...]  # scaled to max 1
    headline: tuple[float, ...]  # share of the headline's terms in each sentence
    bad: tuple[bool, ...]  # junk for reasons other than length
    quote: tuple[float, ...]  # 1 where the sentence opens or closes a direct quotation
    speech: tuple[float, ...]  # 1 where the sentence speaks in the first or second person
    noise: tuple[bool, ...] | None = None  # never story text (timestamps, URLs, notices): never picked


def features(sentences: list[str], *, title: str | None, language: str,
             params: NewsParams = DEFAULT_PARAMS) -> Features:
    """Similarities, centralities and filters of `sentences` (cleaned and split)."""
    n = len(sentences)
    terms, lengths = _terms(sentences, language)
    shared, cosine = _matrices(terms)
    title_terms = set(_terms([title], language)[0][0]) if title else set()
    headline = tuple(len(title_terms.intersection(t)) / len(title_terms) if title_terms else 0.0 for t in terms)
    offsets, read = [], 0
    for length in lengths:
        offsets.append(read)
        read += length
    return Features(
        n=n, lengths=tuple(lengths), offsets=tuple(offsets), cosine=tuple(cosine),
        lexrank=tuple(_scaled(_lexrank(cosine, params.lexrank_threshold))),
        overlap=tuple(_scaled(_overlap_centrality(shared, [len(t) for t in terms]))), headline=headline,
        bad=tuple(_is_junk(s) for s in sentences),
        quote=tuple(float(bool(_QUOTE_OPEN.match(s) or _QUOTE_ATTRIBUTED.search(s))) for s in sentences),
        speech=tuple(float(bool(_SPEECH.search(s))) for s in sentences),
        noise=tuple(is_noise(s) for s in sentences),
    )


def scores(f: Features, params: NewsParams) -> list[float]:
    """Centrality + position prior + headline overlap - length and quotation penalties, per sentence."""
    share = params.lexrank_weight
    score = [params.centrality * (share * lexrank + (1.0 - share) * overlap) + params.headline * headline
             for lexrank, overlap, headline in zip(f.lexrank, f.overlap, f.headline, strict=True)]
    if params.lead_words:
        # position in words read, not sentences: a long first sentence pushes the next one back
        position = [offset / params.lead_words for offset in f.offsets]
    else:
        position = [i / params.tau for i in range(f.n)]
    score = [s + params.lead * math.exp(-p) for s, p in zip(score, position, strict=True)]
    if params.long_penalty:
        from statistics import median as median_of  # only where the penalty is on

        median = float(median_of(f.lengths)) or 1.0
        score = [s - params.long_penalty * max(length / median - 1.0, 0.0)
                 for s, length in zip(score, f.lengths, strict=True)]
    if params.quote_penalty or params.speech_penalty:
        score = [s - params.quote_penalty * quote - params.speech_penalty * speech
                 for s, quote, speech in zip(score, f.quote, f.speech, strict=True)]
    if params.length_prior:
        low, high = params.length_band
        outside = [max(math.log(low / length), 0.0) + max(math.log(length / high), 0.0)
                   for length in (max(length, 1.0) for length in f.lengths)]
        score = [s - params.length_prior * o for s, o in zip(score, outside, strict=True)]
    return score


def junk_mask(f: Features, params: NewsParams) -> list[bool]:
    noise = f.noise or (False,) * f.n
    return [bad or length < params.min_words or length > params.max_words or noisy
            for bad, length, noisy in zip(f.bad, f.lengths, noise, strict=True)]


def select(f: Features, count: int, params: NewsParams = DEFAULT_PARAMS) -> list[int]:
    """Indices of the `count` sentences to keep, in article order.

    The first `backbone` clean sentences get a bonus (a lead-k backbone a later sentence
    must clearly beat); then picks are greedy by score minus MMR redundancy.
    """
    if f.n <= count:
        return [i for i in range(f.n) if f.noise is None or not f.noise[i]]
    score = scores(f, params)
    junk = junk_mask(f, params)
    clean = [i for i in range(f.n) if not junk[i]]
    if params.backbone:
        for i in clean[: params.backbone]:
            score[i] += params.backbone_bonus
    usable = [i for i in range(f.n) if f.noise is None or not f.noise[i]]
    # once a real sentence is picked, pad only with sentences that failed on length, never with
    # captions, headings or other junk (a short article gets a shorter summary instead)
    padding = [i for i in usable if not f.bad[i]]
    picked: list[int] = []
    while len(picked) < min(count, len(usable)):
        pool = ([i for i in clean if i not in picked] or [i for i in padding if i not in picked]
                or ([i for i in usable if i not in picked] if not picked else []))
        if not pool:
            break
        best = max(pool, key=lambda i: (score[i] - params.mmr * max((f.cosine[i].get(j, 0.0) for j in picked),
                                                                   default=0.0), -i))
        picked.append(best)
    return sorted(picked)


def news_summary(sentences: list[str], *, title: str | None, count: int, language: str,
                 params: NewsParams = DEFAULT_PARAMS) -> list[str]:
    """Pick `count` of `sentences` (already cleaned and split), returned in article order."""
    if len(sentences) <= count:  # all of them, but no junk beside real sentences
        kept = [s for s in sentences if not is_noise(s)]
        return [s for s in kept if not _is_junk(s)] or kept
    f = features(sentences, title=title, language=language, params=params)
    return [sentences[i] for i in select(f, count, params)]


def lead_summary(sentences: list[str], count: int) -> list[str]:
    """The Lead-k baseline, for benches: the first `count` sentences."""
    return list(sentences[: max(count, 0)])
