# ruff: noqa: E501  (fixture texts and expected values read better on one line)
"""summarize(): boilerplate never reaches the summary, every algorithm works, errors are clear."""

import socket
from pathlib import Path

import pytest

from bot.config import ALGORITHMS as CONFIG_ALGORITHMS
from bot.pipeline.languages import SUPPORTED_LANGUAGES, check_language
from bot.pipeline.summarize import ALGORITHMS, split_sentences, summarize

ROOT = Path(__file__).resolve().parents[2]

TITLE = "Harbour town votes to build a new sea wall"
ARTICLE = f"""{TITLE}

By Jane Doe

(CNN) -- Residents of the harbour town of Westby voted on Sunday to build a new sea wall after two winters of flooding.

The wall will cost 4.5 million pounds and should be finished in 2027, the council said. Mr. Ray Patel, the mayor, said the vote was the clearest the town had ever held.

- Advertisement -

Flooding in January damaged more than 200 homes and closed the harbour for three weeks. Insurers have paid out over 12 million pounds since the storms began.

Opponents argued that the sea wall would spoil the view of the old harbour. They asked the council to consider moving homes instead of building a wall.

The council will now ask the government to pay half of the cost. A decision on the money is expected in the spring.

Photo: Westby Council

Subscribe to our newsletter
Sign up here to get the latest news, updates and special offers delivered directly to your inbox.
"""


def _seed_article() -> tuple[str, str]:
    files = sorted((ROOT / "seeds").glob("*.txt"))  # committed; nothing outside the repo is read
    assert files, "seeds/ holds at least one sample article"
    text = files[0].read_text(encoding="utf-8")
    return text.split("\n", 1)[0].strip(), text


@pytest.mark.parametrize("article", [(TITLE, ARTICLE), _seed_article()], ids=["made-up", "seed"])
def test_summary_has_no_boilerplate_and_no_headline(article: tuple[str, str]) -> None:
    title, text = article
    summary = summarize(text, title=title, sentences=3)
    assert 1 <= len(summary) <= 3
    joined = "\n".join(summary)
    for junk in ("Subscribe to our newsletter", "Sign up here", "Advertisement", "By Jane Doe", "(CNN)"):
        assert junk not in joined
    assert all(s.strip().lower() != title.lower() for s in summary)
    assert all(s in text.replace("(CNN) -- ", "") for s in summary)  # extractive, verbatim


def test_algorithm_names_match_the_config() -> None:
    assert ALGORITHMS == CONFIG_ALGORITHMS


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("count", [1, 2, 4])
def test_every_algorithm_returns_at_most_n_sentences_in_article_order(algorithm: str, count: int) -> None:
    summary = summarize(ARTICLE, title=TITLE, sentences=count, algorithm=algorithm)
    assert 1 <= len(summary) <= count
    body = split_sentences(ARTICLE)
    positions = [body.index(s) if s in body else -1 for s in summary]
    assert positions == sorted(positions)
    assert TITLE not in summary


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_input_same_output(algorithm: str) -> None:
    first = summarize(ARTICLE, title=TITLE, algorithm=algorithm)
    assert summarize(ARTICLE, title=TITLE, algorithm=algorithm) == first


def test_unknown_algorithm_and_language_raise_value_error() -> None:
    with pytest.raises(ValueError, match="unknown algorithm 'magic'"):
        summarize(ARTICLE, algorithm="magic")
    with pytest.raises(ValueError, match="unsupported language 'klingon'"):
        summarize(ARTICLE, language="klingon")
    with pytest.raises(ValueError, match="unsupported language"):
        check_language("chinese")  # sumy knows it, but it needs a word segmenter we do not ship


def test_language_codes_are_normalised() -> None:
    assert check_language("en") == "english"
    assert check_language(" German ") == "german"
    # feeds declare languages as tags: the primary subtag decides
    assert check_language("en-US") == "english" and check_language("pt_BR") == "portuguese"
    assert check_language("el") == "greek" and check_language("ger") == "german"
    with pytest.raises(ValueError, match="unsupported language"):
        check_language("zh-CN")
    assert "english" in SUPPORTED_LANGUAGES


def test_german_works_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("the summarizer tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    import nltk

    monkeypatch.setattr(nltk, "download", no_network)
    text = (
        "Die Stadt Bremen hat am 3. Oktober einen neuen Hafen eröffnet. Der Bürgermeister sprach von einem "
        "großen Tag für die Region. Der Bau hat drei Jahre gedauert und 80 Millionen Euro gekostet. "
        "Kritiker bemängeln die hohen Kosten für den Hafen. Die Reedereien wollen ab dem Frühjahr dort anlegen."
    )
    for algorithm in ALGORITHMS:
        summary = summarize(text, title="Bremen eröffnet Hafen", sentences=2, algorithm=algorithm, language="de")
        assert 1 <= len(summary) <= 2
        assert all(s in text for s in summary)


def test_tiny_and_empty_text() -> None:
    assert summarize("") == []
    assert summarize("Advertisement") == []
    assert summarize("Only one sentence here.", sentences=3) == ["Only one sentence here."]
    assert summarize(TITLE, title=TITLE) == []
    assert summarize(ARTICLE, sentences=0) == []


def test_news_backbone_keeps_the_lead_and_long_sentences_are_skipped() -> None:
    from dataclasses import replace

    from bot.pipeline.news import DEFAULT_PARAMS, features, select

    sentences = [s for s in split_sentences(ARTICLE) if s != TITLE]
    f = features(sentences, title=TITLE, language="english")
    kept = select(f, 3, replace(DEFAULT_PARAMS, backbone=2, backbone_bonus=100.0))
    assert kept[:2] == [i for i in range(f.n) if f.lengths[i] >= DEFAULT_PARAMS.min_words and not f.bad[i]][:2]
    longest = max(range(f.n), key=f.lengths.__getitem__)
    assert longest not in select(f, 3, replace(DEFAULT_PARAMS, max_words=int(f.lengths[longest]) - 1))


def test_news_penalises_quoted_speech_and_lengths_outside_the_band() -> None:
    from dataclasses import replace

    from bot.pipeline.news import DEFAULT_PARAMS, features, scores

    sentences = [
        "'We are thrilled with the result,' said the club's chairman after the final whistle.",
        "I think we can win the whole thing this year if we keep working hard.",
        "The club reported a record profit of £20m for the season, up from £12m a year earlier.",
        "Profits rose.",
    ]
    f = features(sentences, title=None, language="english")
    assert list(f.quote) == [1.0, 0.0, 0.0, 0.0]
    assert list(f.speech) == [1.0, 1.0, 0.0, 0.0]
    plain = scores(f, replace(DEFAULT_PARAMS, speech_penalty=0.0))
    speech = scores(f, replace(DEFAULT_PARAMS, speech_penalty=0.1))
    assert [s < p for s, p in zip(speech, plain, strict=True)] == [True, True, False, False]
    quoted = scores(f, replace(DEFAULT_PARAMS, speech_penalty=0.0, quote_penalty=0.5))
    assert quoted[0] == plain[0] - 0.5 and quoted[1] == plain[1]
    band = scores(f, replace(DEFAULT_PARAMS, speech_penalty=0.0, length_prior=1.0))
    assert band[3] < plain[3] and band[2] == plain[2]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_supported_language_summarizes_offline(language: str) -> None:
    text = " ".join(f"Sentence number {n} talks about topic {n % 3} in some detail." for n in range(8))
    for algorithm in ("news", "lexrank", "luhn"):
        assert 1 <= len(summarize(text, sentences=2, language=language, algorithm=algorithm)) <= 2
