# ruff: noqa: E501  (fixture texts read better on one line)
"""The tuning rule on hand-made numbers, the sweep on made-up articles, and both benches without data.

Nothing here reads the eval files: every article below is invented for the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench import quality, tune
from bot.pipeline.news import NewsParams

REPO = Path(__file__).resolve().parents[2]

ARTICLES = [
    {"id": "m1", "title": "Town opens new bridge",
     "text": "The town of Millford opened its new river bridge on Tuesday morning. The bridge took three years to build and cost twelve million pounds. Local shops say the old crossing had cut their trade by half. Engineers tested the structure with forty loaded lorries last week. The council plans a footpath along both banks next spring. A brass band played as the first cars drove across the river.",
     "summary": "Millford opened its new river bridge on Tuesday.\nIt took three years and cost twelve million pounds."},
    {"id": "m2", "title": "",
     "text": "A rare owl was seen in the city park for the first time in fifty years. Bird watchers gathered at dawn to photograph the young female owl. The park keeper said the bird had been nesting in an old oak tree. Experts think a mild winter brought more mice into the park this year. The council has closed one path to keep visitors away from the nest. Volunteers will count the park's birds again in the autumn.",
     "summary": "A rare owl was seen in the city park.\nExperts credit a mild winter."},
    {"id": "m3", "title": "School wins robot contest",
     "text": "Pupils from Hill Road school won the national robot contest in Leeds. Their robot sorted coloured blocks faster than any other team's machine. The team of six pupils built the robot from spare parts over one term. Their teacher said the pupils had stayed late every Thursday to finish it. The school will spend the prize money on new laptops for the club. Next year the team hopes to compete at the European final.",
     "summary": "Hill Road pupils won the national robot contest.\nThe robot sorted blocks fastest."},
    {"id": "m4", "title": "",
     "text": "Heavy snow closed the mountain road for a second day on Friday. Police said two cars had slid off the road near the top of the pass. Nobody was hurt, but both drivers spent the night in a nearby farm. Snow ploughs are expected to clear the road by Saturday afternoon. Forecasters warn that more snow could fall early next week. We will keep you posted, said a council spokesman on the radio.",
     "summary": "Snow closed the mountain road again.\nTwo cars slid off near the pass."},
    {"id": "m5", "title": "Ferry delayed",
     "text": "The morning ferry to the island left two hours late because of fog. Passengers were offered free tea while they waited.",
     "summary": "The island ferry was delayed by fog."},
]


def _write_eval_dir(directory: Path) -> Path:
    rows = "\n".join(json.dumps(a) for a in ARTICLES) + "\n"
    (directory / "cnndm_dev.jsonl").write_text(rows, encoding="utf-8")
    (directory / "bbc_dev.jsonl").write_text(rows, encoding="utf-8")
    return directory


# ---- the choice rule -------------------------------------------------------------------------------


def test_rule_filters_on_both_constraints_then_maximises_agreement() -> None:
    cnn = np.array([45.0, 40.0, 42.0, 42.0])
    bbc = np.array([52.9, 55.0, 53.0, 54.0])
    agree = np.array([0.90, 0.85, 0.70, 0.60])
    # 0 misses the BBC floor, 1 is below Lead-3 on CNN/DM: the most agreeing feasible one is 2
    assert tune.choose(cnn, bbc, agree, lead_cnn_r1=41.0) == 2
    # the floor is inclusive on both sides
    assert tune.choose(cnn, bbc, agree, lead_cnn_r1=42.0) == 2
    assert tune.choose(cnn, bbc, agree, lead_cnn_r1=42.01) is None
    assert tune.choose(cnn, bbc, agree, lead_cnn_r1=41.0, bbc_floor=56.0) is None
    allowed = np.array([True, True, False, True])
    assert tune.choose(cnn, bbc, agree, 41.0, allowed=allowed) == 3


def test_rule_breaks_ties_by_cnn_then_bbc_then_grid_order() -> None:
    agree = np.array([0.7, 0.7, 0.7, 0.7, 0.7])
    cnn = np.array([42.0, 42.5, 42.5, 42.5, 42.5])
    bbc = np.array([60.0, 53.0, 54.0, 54.0, 53.5])
    # same agreement: higher CNN/DM R-1 (1-4), then higher BBC R-1 (2, 3), then the earlier one
    assert tune.choose(cnn, bbc, agree, lead_cnn_r1=41.0) == 2


def _table(r1: list[list[float]], agree: list[list[int]], lead_r1: float) -> tune.Table:
    r1_arr = np.asarray(r1, dtype=float)
    return tune.Table(r1_arr, np.asarray(agree), np.full(r1_arr.shape, 3), np.full(r1_arr.shape[1], lead_r1))


def test_round2_keeps_a_feature_the_resamples_pick_and_adopts_it_only_if_it_beats_the_base() -> None:
    base = NewsParams(speech_penalty=0.0)
    configs = [base, replace(base, speech_penalty=0.1), replace(base, quote_penalty=0.1)]
    n = 30
    # speech agrees more with Lead-3 on every article and scores higher on CNN/DM: always picked, adopted
    cnn = _table([[42.0] * n, [43.0] * n, [42.0] * n], [[2] * n, [3] * n, [2] * n], lead_r1=41.0)
    bbc = _table([[54.0] * n] * 3, [[2] * n] * 3, lead_r1=44.0)
    result = tune.round2(configs, 0, cnn, bbc, resamples=50)
    assert result.feature_share == {"quote_penalty": 0.0, "speech_penalty": 1.0, "length_prior": 0.0}
    assert result.kept == ("speech_penalty",) and result.candidate == 1 and result.chosen == 1
    assert result.beats_share == 1.0 and result.no_pick == 0
    # the same picks but no CNN/DM gain over the base: kept as a feature, yet the base stays
    level = _table([[42.0] * n] * 3, [[2] * n, [3] * n, [2] * n], lead_r1=41.0)
    result = tune.round2(configs, 0, level, bbc, resamples=50)
    assert result.candidate == 1 and result.beats_share == 0.0 and result.chosen == 0


def test_round2_drops_a_feature_that_wins_on_one_article_only() -> None:
    base = NewsParams(speech_penalty=0.0)
    configs = [base, replace(base, quote_penalty=0.1)]
    n = 40
    # the quote penalty agrees more on article 0 alone: a resample holds that article ~63 % of the time
    agree = [[2] * n, [3] + [2] * (n - 1)]
    cnn = _table([[42.0] * n, [42.0] * n], agree, lead_r1=41.0)
    bbc = _table([[54.0] * n] * 2, [[2] * n] * 2, lead_r1=44.0)
    assert tune.rule_on(cnn, bbc, tune.BBC_FLOOR) == 1  # the full-dev pick uses it...
    result = tune.round2(configs, 0, cnn, bbc, resamples=200)
    assert 0.5 < result.feature_share["quote_penalty"] < tune.KEEP_SHARE  # ...resamples mostly do not
    assert result.kept == () and result.candidate == 0 and result.chosen == 0


def test_round2_counts_resamples_without_a_feasible_configuration() -> None:
    configs = [NewsParams(speech_penalty=0.0)]
    cnn = _table([[42.0, 40.0]], [[3, 3]], lead_r1=41.0)
    bbc = _table([[54.0, 52.0]], [[3, 3]], lead_r1=44.0)  # mean 53: resamples fall on either side
    result = tune.round2(configs, 0, cnn, bbc, resamples=100)
    assert 0 < result.no_pick < 100 and result.chosen == 0


# ---- grids, scoring, determinism ------------------------------------------------------------------


def test_grids_contain_the_round1_and_current_defaults() -> None:
    round1_default = replace(NewsParams(), speech_penalty=0.0)
    assert tune.round1_default() == round1_default
    grid1 = tune.round1_grid()
    assert len(grid1) == len(set(grid1)) and round1_default in grid1
    assert round1_default in tune.round1_grid(tune.ROUND1_QUICK)
    assert NewsParams() in tune.round2_grid(round1_default)
    assert NewsParams() in tune.round2_grid(round1_default, tune.ROUND2_QUICK)
    assert all(c.quote_penalty == c.speech_penalty == c.length_prior == 0 for c in grid1)
    assert tune.round2_grid(round1_default) == tune.round2_grid(round1_default)


def test_sweep_rouge1_equals_the_quality_bench_scorer() -> None:
    articles = [quality.Article(a["id"], a["title"], a["text"], a["summary"]) for a in ARTICLES]
    items = tune.build_items(articles)
    for item, article, (_, cleaned) in zip(items, articles, quality.prepare(articles), strict=True):
        picks = item.picks(NewsParams())
        expected = quality.rouge_rows([[item.sentences[i] for i in picks]], [article.reference])[0, 0]
        assert item.rouge1(picks) == pytest.approx(expected, abs=1e-9)
        lead = quality.rouge_rows([quality.split_sentences(cleaned)[:3]], [article.reference])[0, 0]
        assert item.lead_r1 == pytest.approx(lead, abs=1e-9)
        assert item.lead_mask[:3].all()  # no sentence equals a headline here, so Lead-3 = candidates 0-2
    assert items[-1].picks(NewsParams()) == (0, 1)  # a two-sentence article keeps both


def test_quick_sweep_is_deterministic_on_made_up_articles(tmp_path: Path) -> None:
    directory = _write_eval_dir(tmp_path)
    first = tune.run(directory, quick=True, bbc_floor=0.0, resamples=20)
    second = tune.run(directory, quick=True, bbc_floor=0.0, resamples=20)
    assert first == second and first.chosen is not None
    assert first.configs == (len(tune.round1_grid(tune.ROUND1_QUICK)), len(first.grid2))


def test_main_prints_the_choice_and_compares_it_with_the_code_defaults(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture) -> None:
    directory = _write_eval_dir(tmp_path)
    assert tune.main(["--eval-dir", str(directory), "--quick", "--bbc-floor", "0", "--resamples", "20"]) == 0
    out = capsys.readouterr().out
    assert "chosen: lexrank_weight=" in out and "equals the code's defaults (NewsParams()): " in out
    assert "bot path vs sweep path for the defaults: 0 articles differ" in out
    # an unreachable floor: nothing is feasible, said in one line
    assert tune.main(["--eval-dir", str(directory), "--quick", "--bbc-floor", "101"]) == 1
    assert "no configuration has BBC dev R-1 >= 101.0" in capsys.readouterr().out


# ---- without data ------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", ["bench/tune.py", "bench/quality.py"])
def test_benches_without_data_say_so_in_one_line_and_exit_2(tmp_path: Path, script: str) -> None:
    for directory, missing in ((tmp_path / "nowhere", "nowhere"), (tmp_path, "cnndm_dev.jsonl")):
        done = subprocess.run([sys.executable, str(REPO / script), "--eval-dir", str(directory)],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stdout == "" and "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and missing in lines[0]
        assert "--eval-dir DIR" in lines[0] and "NEWSDIGEST_EVAL_DIR" in lines[0]
