# ruff: noqa: E501  (fixture texts and expected values read better on one line)
"""The quality bench's machinery on tiny made-up articles (not the eval texts), no scores."""

import json
from pathlib import Path

import numpy as np
import pytest

from bench import quality

ARTICLES = [
    quality.Article(
        "a1", "Bakery wins prize",
        "A small bakery in Leeds has won the national bread prize. The judges praised its sourdough. "
        "The owner opened the shop in 2019. She plans to hire two more bakers next year.",
        "A Leeds bakery won the national bread prize.\nJudges praised its sourdough.",
    ),
    quality.Article(
        "a2", "",
        "Heavy rain closed three roads in the valley on Monday. Police advised drivers to stay at home. "
        "The river rose by two metres overnight. Forecasters expect more rain on Wednesday.",
        "Heavy rain closed three roads.\nMore rain is expected on Wednesday.",
    ),
    quality.Article(
        "a3", "Library reopens",
        "The city library reopened after a year of repairs. New windows and a cafe were added. "
        "Visitors queued before the doors opened. The mayor cut the ribbon at ten o'clock.",
        "The city library reopened after repairs.",
    ),
]


def test_rouge_on_a_hand_computed_case() -> None:
    # 5 of 6 unigrams shared -> P = R = F = 5/6; bigrams: 3 of 5 shared -> 3/5; LCS "the cat on the mat" = 5/6
    rows = quality.rouge_rows([["the cat lay on the mat"]], ["the cat sat on the mat"])
    assert rows.shape == (1, 3)
    assert rows[0] == pytest.approx([500 / 6, 60.0, 500 / 6])


def test_rouge_lsum_uses_one_sentence_per_line() -> None:
    # same two sentences in the opposite order: every reference sentence is found whole (R-Lsum 100),
    # while bigrams lose only the join "man the" vs "charged police" (6 of 7)
    rows = quality.rouge_rows([["the man was charged", "police arrested a man"]],
                              ["police arrested a man\nthe man was charged"])
    assert rows[0] == pytest.approx([100.0, 600 / 7, 100.0])


def test_rouge_stems_words() -> None:
    rows = quality.rouge_rows([["officials arrested"]], ["official arrests"])
    assert rows[0][0] == pytest.approx(100.0)


def test_bootstrap_is_deterministic_and_sane() -> None:
    values = np.array([10.0, 20.0, 30.0, 40.0])
    first = quality.bootstrap_indices(4, rounds=200)
    assert np.array_equal(first, quality.bootstrap_indices(4, rounds=200))
    mean, low, high = quality.bootstrap_ci(values, first)
    assert mean == pytest.approx(25.0) and 10.0 <= low <= mean <= high <= 40.0
    assert quality.bootstrap_ci(np.full(4, 7.0), first) == pytest.approx((7.0, 7.0, 7.0))
    diff, d_low, d_high, p_not_better = quality.paired_difference(values + 1.0, values, first)
    assert (diff, d_low, d_high, p_not_better) == pytest.approx((1.0, 1.0, 1.0, 0.0))
    assert quality.paired_difference(values, values, first)[3] == 1.0


def test_systems_run_on_made_up_articles() -> None:
    prepared = quality.prepare(ARTICLES)
    lead, _ = quality.run_system("lead3", prepared)
    assert lead[0] == quality.split_sentences(ARTICLES[0].text)[:3]
    for name in ("news", *quality.ALGORITHMS[1:]):
        outputs, ms = quality.run_system(name, prepared, count=2)
        assert len(outputs) == 3 and all(1 <= len(o) <= 2 for o in outputs) and ms >= 0
        again, _ = quality.run_system(name, prepared, count=2)
        assert again == outputs
    rows = quality.rouge_rows(lead, [a.reference for a in ARTICLES])
    assert rows.shape == (3, 3) and (rows >= 0).all() and (rows <= 100).all()


def test_loaders_and_eval_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "tiny_dev.jsonl"
    data.write_text("\n".join(json.dumps({"id": a.id, "title": a.title, "text": a.text, "summary": a.reference})
                              for a in ARTICLES) + "\n", encoding="utf-8")
    assert quality.load_articles(data) == ARTICLES
    outputs = tmp_path / "outputs.jsonl"
    outputs.write_text("\n".join(json.dumps({"id": i, "system": "M0", "system_name": "Lead", "summary": "x\ny"})
                                 for i in ("a1", "a2")) + "\n", encoding="utf-8")
    assert quality.neural_rows(outputs, ["a1", "a2"]) == {"Lead": [["x", "y"], ["x", "y"]]}
    assert quality.neural_rows(outputs, ["a1", "a3"]) == {}
    golden = tmp_path / "golden.jsonl"
    golden.write_text(json.dumps({"id": "g1", "text": "Mr. Li left. He ran.", "sentences": ["Mr. Li left.", "He ran."]})
                      + "\n" + json.dumps({"id": "g2", "text": "A b. C d.", "sentences": ["A b. C d."]}) + "\n",
                      encoding="utf-8")
    exact, total, wrong = quality.golden_rules(golden)
    assert (exact, total) == (2 - len(wrong), 2) and wrong in ([], ["g2"])
    monkeypatch.setenv("NEWSDIGEST_EVAL_DIR", str(tmp_path))
    assert quality.eval_dir() == tmp_path
    assert quality.eval_dir("/elsewhere") == Path("/elsewhere")
