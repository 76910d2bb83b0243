# ruff: noqa: E501  (fixture texts and expected values read better on one line)
"""The offline splitter: abbreviations, numbers, lists, and the sumy tokenizer protocol."""

import pytest

from bot.pipeline.sentences import OfflineTokenizer, split_sentences, split_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith went to Washington. He arrived late.", ["Mr. Smith went to Washington.", "He arrived late."]),
        ("The U.S. Army said so. Officials agreed.", ["The U.S. Army said so.", "Officials agreed."]),
        ("Growth was 3.5 per cent. Prices rose.", ["Growth was 3.5 per cent.", "Prices rose."]),
        ("Dr. Jones met Mrs. Brown at 5 p.m. on Friday.", ["Dr. Jones met Mrs. Brown at 5 p.m. on Friday."]),
        ("She works at Yahoo! in the sales team.", ["She works at Yahoo! in the sales team."]),
        ("1. The first item 2. The second item", ["1. The first item", "2. The second item"]),
        ("He lives at No. 10 Downing Street.", ["He lives at No. 10 Downing Street."]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_blank_lines_end_sentences_and_line_breaks_do_not() -> None:
    assert split_sentences("A title without a stop\n\nThe body\ncontinues here.") == [
        "A title without a stop",
        "The body continues here.",
    ]


def test_german_day_ordinal_is_not_a_sentence_end() -> None:
    text = "Die Wahl findet am 3. Oktober statt. Danach wird gezählt."
    assert split_sentences(text, "german") == ["Die Wahl findet am 3. Oktober statt.", "Danach wird gezählt."]


def test_words_drop_numbers_and_punctuation() -> None:
    assert split_words("It's a 3-day, well-known event (2015)!") == ("It's", "a", "day", "well-known", "event")


def test_tokenizer_has_what_sumy_calls() -> None:
    tokenizer = OfflineTokenizer("english")
    assert tokenizer.language == "english"
    assert tokenizer.to_sentences("One here. Two there.") == ("One here.", "Two there.")
    assert tokenizer.to_words("One here.") == ("One", "here")


def test_empty() -> None:
    assert split_sentences("") == []
    assert split_sentences("\n\n  \n") == []
