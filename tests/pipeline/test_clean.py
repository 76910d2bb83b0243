# ruff: noqa: E501  (fixture texts and expected values read better on one line)
"""clean_text removes each kind of boilerplate and keeps the story."""

import pytest

from bot.pipeline.clean import clean_text

STORY = "The council approved the new budget on Tuesday."


@pytest.mark.parametrize(
    "junk",
    [
        "Subscribe to our newsletter",
        "Sign up here to get the latest news, updates and special offers delivered directly to your inbox.",
        "Advertisement",
        "- Advertisement -",
        "Share this article",
        "We use cookies to improve your experience. By continuing you accept our cookie policy.",
        "By Jane Doe",
        "By Jane Doe and John Smith, Staff Reporters",
        "Reporting by John Smith; Editing by Bob Jones",
        "Photo: Getty Images",
        "(Getty Images)",
        "Image caption The mayor at the meeting",
        "Media playback is unsupported on your device",
    ],
)
def test_boilerplate_line_is_removed(junk: str) -> None:
    cleaned = clean_text(f"{STORY}\n\n{junk}\n\nCouncillors will vote again in May.")
    assert STORY in cleaned
    assert "Councillors will vote again in May." in cleaned
    assert junk not in cleaned


@pytest.mark.parametrize("prefix", ["(CNN) -- ", "(CNN) ", "WASHINGTON (CNN) — ", "LONDON, England (Reuters) - "])
def test_dateline_prefix_is_removed(prefix: str) -> None:
    assert clean_text(prefix + STORY) == STORY


def test_leading_title_line_is_removed_but_not_later_mentions() -> None:
    text = "Council Approves Budget\n\nCouncil approves budget, said the headline.\n\n" + STORY
    cleaned = clean_text(text, title="Council approves budget")
    assert not cleaned.startswith("Council Approves Budget")
    assert "said the headline" in cleaned


def test_sentences_that_merely_look_like_boilerplate_are_kept() -> None:
    text = "By Monday, the river had burst its banks.\n\nPolice said the photo was taken at noon."
    assert clean_text(text) == text


def test_inline_fragments_are_cut() -> None:
    cleaned = clean_text("The storm hit at dawn. Scroll down for video. Roofs were torn off (Photo: AP).")
    assert "Scroll down" not in cleaned and "Photo" not in cleaned
    assert "The storm hit at dawn." in cleaned and "Roofs were torn off" in cleaned


def test_paragraphs_stay_separated_by_blank_lines() -> None:
    cleaned = clean_text("First paragraph here.\nStill the first.\n\n\n\nSecond paragraph.")
    assert cleaned == "First paragraph here. Still the first.\n\nSecond paragraph."


def test_empty_input() -> None:
    assert clean_text("") == ""
    assert clean_text("Advertisement\n\nSubscribe to our newsletter") == ""


def test_ascii_normalizing_matches_the_unicode_rule() -> None:
    """normalize_text's byte table for ASCII text gives exactly what the regex over NFKC gives."""
    import random
    import re
    import unicodedata

    from bot.pipeline.dedupe import normalize_text

    rng = random.Random(11)
    alphabet = "aZ09_ -.,;:!?'\"()[]\t\n\r\x00\x0b\x1c\x1f\x7f"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        expected = re.sub(r"\W+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
        assert normalize_text(text) == expected, repr(text)
    assert normalize_text("Ünïcode  ＡＢＣ, too") == "ünïcode abc too"
