"""Story grouping on content (bot.digest.stories) and the bench's metrics, on synthetic items only."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bench.stories import bcubed, pairwise
from bot.digest import similarity
from bot.digest.stories import StoryDoc, assign_stories, group
from tests.conftest import REPO

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# unrelated background news: the IDF weights need a corpus where everyday words are common
BACKGROUND = [
    ("Storm closes schools across the northern coast",
     "Schools across the northern coast were closed on Monday as a storm brought heavy rain and strong winds."),
    ("Central bank leaves interest rates unchanged",
     "The central bank kept its main interest rate at 3 percent on Thursday, saying inflation was easing."),
    ("Football club appoints new coach after poor season",
     "The club said the new coach would start next week after the team finished the season in ninth place."),
    ("City council approves budget for new tram line",
     "The city council approved the budget for a tram line that will link the airport with the old town."),
    ("Researchers find new species of frog in rainforest",
     "A team of researchers said they had found a new species of frog during a survey of the rainforest."),
    ("Airline cancels flights as pilots strike over pay",
     "The airline cancelled more than 200 flights on Friday as pilots walked out in a dispute over pay."),
    ("Film festival opens with a record number of entries",
     "The film festival opened on Wednesday with a record number of entries from more than 80 countries."),
    ("Hospital waiting lists grow for the third month",
     "Waiting lists at hospitals grew for the third month in a row, according to figures published on Tuesday."),
    ("Tech company reports higher quarterly profit",
     "The tech company said its quarterly profit rose by 12 percent, helped by strong sales of its phones."),
    ("Wildfire forces thousands to leave their homes",
     "Thousands of people were told to leave their homes on Sunday as a wildfire spread through dry forest."),
]

QUAKE = [
    ("Reuters", "Magnitude 6.4 earthquake strikes off Valparaiso, tsunami warning lifted",
     "A magnitude 6.4 earthquake struck off the coast of Valparaiso in Chile on Monday, the geological "
     "survey said. Authorities briefly issued a tsunami warning and later lifted it. No damage was reported."),
    ("AP", "Strong quake shakes central Chile; no damage reported",
     "A strong earthquake of magnitude 6.4 shook central Chile on Monday near Valparaiso. A tsunami "
     "warning was issued and then lifted, officials said, and there were no early reports of damage."),
    ("BBC", "Chile: Valparaiso residents flee to high ground after magnitude 6.4 tremor",
     "Residents of Valparaiso fled to high ground after a magnitude 6.4 earthquake struck off the coast of "
     "Chile on Monday. The tsunami warning was lifted within an hour and no damage has been reported."),
]


def doc(i: int, source: str, title: str, text: str, published: datetime | None = NOW,
        story: int | None = None) -> StoryDoc:
    return StoryDoc(i, source, title, text, published, story)


def background(start: int = 1000) -> list[StoryDoc]:
    return [doc(start + k, f"bg{k}", t, x) for k, (t, x) in enumerate(BACKGROUND)]


def together(groups: list[list[int]], *ids: int) -> bool:
    return any(set(ids) <= set(g) for g in groups)


def test_same_event_from_three_outlets_with_different_headlines_is_one_story() -> None:
    docs = [doc(i + 1, s, t, x) for i, (s, t, x) in enumerate(QUAKE)] + background()
    groups = group(docs)
    assert [1, 2, 3] in groups
    assert all(len(g) == 1 for g in groups if g != [1, 2, 3])
    assert assign_stories(docs)[2] == 1  # a new story's id is its smallest doc id


def test_two_stories_sharing_a_common_word_stay_apart() -> None:
    docs = [
        doc(1, "a", "Election: governor concedes defeat in tight race",
            "The governor conceded defeat on Tuesday night after the final count in the election showed "
            "his rival ahead by 4,000 votes."),
        doc(2, "b", "Election officials recruit volunteers for polling stations",
            "Election officials are asking for volunteers to staff polling stations, saying many older "
            "workers have retired since the last election."),
        doc(3, "c", "Governor's rival wins by 4,000 votes after final count",
            "The final count gave the governor's rival a lead of 4,000 votes, and the governor conceded "
            "defeat on Tuesday night."),
    ] + background()
    groups = group(docs)
    assert together(groups, 1, 3)
    assert not together(groups, 1, 2) and not together(groups, 2, 3)


def test_two_items_of_one_feed_never_share_a_story() -> None:
    quake = [doc(1, "Reuters", *QUAKE[0][1:]), doc(2, "Reuters", *QUAKE[1][1:]), doc(3, "AP", *QUAKE[2][1:])]
    groups = group(quake + background())
    assert not together(groups, 1, 2)
    assert together(groups, 1, 3) or together(groups, 2, 3)


def test_a_new_item_joins_an_existing_story_but_not_from_a_member_feed() -> None:
    earlier = [doc(1, "Reuters", *QUAKE[0][1:], story=77), doc(2, "AP", *QUAKE[1][1:], story=77)]
    fresh = [doc(3, "BBC", *QUAKE[2][1:]), doc(4, "AP", QUAKE[1][1] + " (update)", QUAKE[1][2])]
    out = assign_stories(earlier + fresh + background())
    assert out[3] == 77
    assert out[4] != 77  # AP already has an item in story 77
    assert 1 not in out and 2 not in out  # docs with a story keep it and are not reported


def test_existing_stories_are_never_merged_with_each_other() -> None:
    docs = [doc(1, "Reuters", *QUAKE[0][1:], story=10), doc(2, "AP", *QUAKE[1][1:], story=20),
            doc(3, "BBC", *QUAKE[2][1:])] + background()
    groups = group(docs)
    assert not together(groups, 1, 2)
    assert assign_stories(docs)[3] in (10, 20)


def test_items_far_apart_in_time_are_not_one_story_unless_nearly_identical() -> None:
    later = NOW + timedelta(days=5)
    docs = [doc(1, "Reuters", *QUAKE[0][1:]), doc(2, "AP", *QUAKE[1][1:], published=later)] + background()
    assert not together(group(docs), 1, 2)
    near = [doc(1, "Reuters", *QUAKE[0][1:]), doc(2, "AP", *QUAKE[1][1:], published=NOW + timedelta(hours=5))]
    assert together(group(near + background()), 1, 2)
    copy = [doc(1, "Reuters", *QUAKE[0][1:]), doc(2, "AP", *QUAKE[0][1:], published=later)]
    assert together(group(copy + background()), 1, 2)
    undated = [doc(1, "Reuters", *QUAKE[0][1:], published=None), doc(2, "AP", *QUAKE[1][1:])]
    assert together(group(undated + background()), 1, 2)
    naive = [doc(1, "Reuters", *QUAKE[0][1:], published=later.replace(tzinfo=None)), doc(2, "AP", *QUAKE[1][1:])]
    assert not together(group(naive + background()), 1, 2)  # a naive time is read as UTC, not an error


def test_multilingual_items_group_by_content() -> None:
    docs = [
        doc(1, "spiegel", "Bundestag beschließt Heizungsgesetz nach langer Debatte",
            "Der Bundestag hat am Freitag das umstrittene Heizungsgesetz beschlossen. 399 Abgeordnete "
            "stimmten dafür, 275 dagegen."),
        doc(2, "zeit", "Heizungsgesetz: 399 Stimmen dafür im Bundestag",
            "Nach monatelangem Streit hat der Bundestag das Heizungsgesetz beschlossen: 399 Abgeordnete "
            "stimmten am Freitag dafür."),
        doc(3, "faz", "Überschwemmungen in Bayern: Tausende ohne Strom",
            "Nach heftigen Regenfällen sind in Bayern Tausende Haushalte ohne Strom, die Feuerwehr ist im "
            "Dauereinsatz."),
        doc(4, "rbc", "Госдума приняла закон о цифровом рубле",
            "Государственная дума приняла в третьем чтении закон о цифровом рубле, сообщает пресс-служба."),
        doc(5, "tass", "Закон о цифровом рубле принят Госдумой",
            "Депутаты Государственной думы приняли закон о цифровом рубле в третьем чтении."),
        doc(6, "nhk", "東京で震度5強の地震", "東京都で震度5強の地震がありました。津波の心配はありません。"),
        doc(7, "asahi", "東京都で震度5強 津波の心配なし",
            "きょう午前、東京都で震度5強の地震があり、津波の心配はないということです。"),
    ] + background()
    groups = group(docs)
    assert together(groups, 1, 2) and together(groups, 4, 5) and together(groups, 6, 7)
    assert not together(groups, 1, 3) and not together(groups, 2, 3)


def test_empty_titles_and_texts_do_not_crash_or_merge() -> None:
    docs = [doc(1, "a", "", ""), doc(2, "b", "", ""), doc(3, "c", "   ", "..."), doc(4, "d", "_ __", "")]
    assert group(docs) == [[1], [2], [3], [4]]
    assert assign_stories(docs) == {1: 1, 2: 2, 3: 3, 4: 4}
    assert group([]) == [] and assign_stories([]) == {}
    assert group([doc(1, "a", "Only one", "item")]) == [[1]]


def test_corpus_feeds_the_weights_without_joining_the_result() -> None:
    docs = [doc(i + 1, s, t, x) for i, (s, t, x) in enumerate(QUAKE)]
    out = assign_stories(docs, corpus=background())
    assert set(out) == {1, 2, 3} and set(out.values()) == {1}


def test_words_the_corpus_shows_everywhere_do_not_make_a_story() -> None:
    docs = [doc(1, "a", "Quarterly results beat forecasts at Norrland Steel",
                "Norrland Steel said quarterly results beat forecasts as orders for rails rose."),
            doc(2, "b", "Quarterly results beat forecasts at Fjord Shipping",
                "Fjord Shipping said quarterly results beat forecasts as freight rates rose.")] + background()
    assert together(group(docs), 1, 2)  # alone, the shared phrase looks like news
    season = [doc(3000 + k, f"c{k}", f"Quarterly results beat forecasts at firm {k}",
                  f"Firm number {k} said quarterly results beat forecasts as sales rose in region {k}.")
              for k in range(40)]
    assert not together(group(docs, corpus=season), 1, 2)  # the store's articles show it is routine
    assert assign_stories(docs, corpus=season)[2] == 2


def test_grouping_is_deterministic_and_independent_of_input_order() -> None:
    docs = [doc(i + 1, s, t, x) for i, (s, t, x) in enumerate(QUAKE)] + background()
    expected = group(docs)
    shuffled = docs[:]
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert group(shuffled) == expected
        assert assign_stories(shuffled) == assign_stories(docs)


def test_linkages_and_thresholds_are_accepted() -> None:
    docs = [doc(i + 1, s, t, x) for i, (s, t, x) in enumerate(QUAKE)] + background()
    for linkage in ("average", "complete", "single"):
        assert [1, 2, 3] in group(docs, linkage=linkage)
    assert all(len(g) == 1 for g in group(docs, threshold=1.01))


@pytest.mark.parametrize("gather_limit", [1 << 40, 0])  # per-pair gathers, then the blocked product
def test_similar_pairs_match_brute_force_cosines(monkeypatch, gather_limit: int) -> None:
    monkeypatch.setattr(similarity, "GATHER_LIMIT", gather_limit)
    rng = random.Random(7)
    vocab = [f"w{k}" for k in range(120)]  # a skewed vocabulary: some terms end up common
    items = [{rng.choice(vocab[: rng.choice((10, 40, 120))]): float(rng.randint(1, 3)) for _ in range(12)}
             for _ in range(300)]
    m = similarity.tfidf(items)
    dense = np.zeros((m.n, int(m.col.max()) + 1))
    dense[m.row, m.col] = m.val
    cos = dense @ dense.T
    i, j, s = similarity.similar_pairs(m, 0.3)
    assert np.all(i < j) and np.allclose(s, cos[i, j], atol=1e-5)
    df = (dense > 0).sum(axis=0)
    cap = min(max(similarity.COMMON_MIN, int(similarity.COMMON_SHARE * m.n)), similarity.COMMON_MAX)
    nominating = (df >= 2) & (df <= cap)
    shares = ((dense[:, nominating] > 0).astype(int) @ (dense[:, nominating] > 0).astype(int).T) > 0
    want = {(a, b) for a, b in zip(*np.nonzero(np.triu(cos >= 0.3 - 1e-9, 1) & shares), strict=True)}
    assert want and {(a, b) for a, b in zip(i.tolist(), j.tolist(), strict=True)} == want


def test_bench_metrics_on_known_clusters() -> None:
    gold = [[1, 2, 3], [4, 5], [6]]
    assert bcubed(gold, gold) == (1.0, 1.0, 1.0)
    assert pairwise(gold, gold) == (1.0, 1.0, 1.0)
    alone = [[i] for i in range(1, 7)]
    p, r, _ = bcubed(alone, gold)
    assert p == 1.0 and abs(r - (3 * (1 / 3) + 2 * (1 / 2) + 1) / 6) < 1e-9
    assert pairwise(alone, gold)[:2] == (1.0, 0.0)
    pred = [[1, 2], [3, 4, 5, 6]]
    p, r, f = bcubed(pred, gold)
    # precision per item: 1, 1, 1/4, 2/4, 2/4, 1/4; recall: 2/3, 2/3, 1/3, 1, 1, 1
    assert abs(p - (1 + 1 + 0.25 + 0.5 + 0.5 + 0.25) / 6) < 1e-9
    assert abs(r - (2 / 3 + 2 / 3 + 1 / 3 + 1 + 1 + 1) / 6) < 1e-9
    assert abs(f - 2 * p * r / (p + r)) < 1e-9
    p, r, f = pairwise(pred, gold)  # predicted pairs 1-2, 3-4, 3-5, 3-6, 4-5, 4-6, 5-6; gold 1-2, 1-3, 2-3, 4-5
    assert (p, r) == (2 / 7, 2 / 4)


def test_bench_without_data_says_so_in_one_line_and_exits_2(tmp_path) -> None:
    result = subprocess.run([sys.executable, "bench/stories.py", "--data", str(tmp_path / "missing.jsonl")],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and "missing.jsonl" in lines[0] and "--data" in lines[0]
    assert "Traceback" not in result.stderr


def test_ascii_tokenizing_matches_the_word_pattern() -> None:
    """The byte-table path for ASCII text gives exactly what the regex gives."""
    rng = random.Random(7)
    alphabet = "abcXYZ019_ -.,;:'\"()\t\n\x00\x1f\x7f"
    samples = ["", "_", "__a", "a", "5", "a_b c_ _5 12 x", "Don't stop: 3 of 4 (AT&T) e-mail"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    for text in samples:
        assert similarity.words(text) == similarity.WORD.findall(text.casefold()), repr(text)


def test_corpus_counts_are_the_same_on_first_and_later_use() -> None:
    """tfidf counts a corpus item by intersecting its words on first use and through its term
    set afterwards; both must give the IDF of the plain definition (a term set per item)."""
    rng = random.Random(5)
    vocab = "harbour ferry council budget river bridge Tuesday 12 the of and a new old".split()

    def text(n: int) -> str:
        return " ".join(rng.choice(vocab) for _ in range(n))

    docs = [(text(6), text(40)) for _ in range(12)]
    corpus = [(f"{text(5)} {k}", text(50)) for k in range(60)]
    items = [similarity.term_counts(t, x) for t, x in docs]
    similarity._cached_words.cache_clear()

    def expected() -> tuple[int, dict]:
        sets = []
        for title, body in corpus:
            tokens, heading = similarity.words(similarity.lead(body)), similarity.words(title)
            pairs = [*zip(tokens, tokens[1:], strict=False), *zip(heading, heading[1:], strict=False)]
            sets.append(frozenset((*tokens, *heading, *pairs)))
        n = len(items) + len(sets)
        df = {t: sum(t in c for c in items) + sum(t in s for s in sets) for c in items for t in c}
        return n, df

    first = similarity.tfidf(items, [similarity.corpus_words(t, x) for t, x in corpus])
    again = similarity.tfidf(items, [similarity.corpus_words(t, x) for t, x in corpus])
    assert all(similarity.corpus_words(t, x).terms is not None for t, x in corpus)
    for m in (first, again):
        assert np.array_equal(m.row, first.row) and np.array_equal(m.col, first.col)
        assert np.allclose(m.val, first.val, rtol=0, atol=0)
    # and the weights are the plain definition's: sublinear tf × ln((N + 1) / (df + 0.5)), per row
    # normalized, kept where positive
    n, df = expected()
    vocab_order = list(dict.fromkeys(t for c in items for t in c))
    want = []
    for i, counts in enumerate(items):
        weights = {t: (1 + np.log(c) if c >= 1 else c) * np.log((n + 1) / (df[t] + 0.5)) for t, c in counts.items()}
        norm = np.sqrt(sum(w * w for w in weights.values()))
        want += [(i, vocab_order.index(t), w / norm) for t, w in weights.items() if w > 0]
    got = list(zip(first.row.tolist(), first.col.tolist(), first.val.tolist(), strict=True))
    assert [(r, c) for r, c, _ in got] == [(r, c) for r, c, _ in want]
    assert np.allclose([v for *_, v in got], [v for *_, v in want], rtol=1e-12, atol=0)
    without = similarity.tfidf(items)
    assert not np.array_equal(without.val, first.val)  # the corpus does change the weights
