"""Filter semantics: whole words and phrases (case-insensitive, Unicode-aware) and RE2 patterns."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_settings
from bot.filters import CompiledFilter, FilterError, FilterText, blocked_by, make_spec, parse_filter_words


def matches(pattern: str, text: str, *, regex: bool = False, field: str = "any") -> bool:
    spec = make_spec("exclude", pattern, regex=regex, field=field)
    return CompiledFilter(spec).matches(FilterText(title=text, text=""))


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("AI", "New AI rules agreed", True),
    ("AI", "Plans for the Maine coast", False),  # not inside a word
    ("ai", "A.I. is not AI", True),
    ("solar power", "Town switches to Solar-Power ferries", True),  # a phrase across punctuation
    ("solar power", "solar panels and power lines", False),
    ("Straße", "Neue STRASSE im Zentrum", True),  # casefold: ß = ss
    ("café", "Le CAFÉ du coin", True),
    ("東京", "東京 marathon", True),
    ("naïve", "a naive plan", False),  # accents are not stripped
    ("sport", "Sports results", False),  # whole words only
])
def test_keywords_are_whole_words_case_insensitive_unicode(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected


def test_regex_is_re2_case_insensitive_and_linear() -> None:
    assert matches(r"^opinion\s*\|", "Opinion | The week", regex=True)
    assert not matches(r"^opinion", "An opinion piece", regex=True)
    # the classic catastrophic-backtracking pattern runs in linear time under RE2
    assert not matches(r"^(a+)+$", "a" * 50_000 + "!", regex=True)


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=x)y", r"(?<!x)y", r"((a{60}){60}){60}", r"[z-a]", "("])
def test_patterns_re2_cannot_run_safely_are_refused_naming_them(pattern: str) -> None:
    with pytest.raises(FilterError) as caught:
        make_spec("exclude", pattern, regex=True)
    assert pattern in str(caught.value)


def test_fields_and_include_exclude_rules() -> None:
    article = FilterText(title="Rovers win the derby", text="A late header settled it.",
                         categories=("Sport", "Football"), author="Jo Writer")
    include_sport = CompiledFilter(make_spec("include", "football", field="categories"), 1)
    exclude_author = CompiledFilter(make_spec("exclude", "jo writer", field="author"), 2)
    include_title = CompiledFilter(make_spec("include", "header", field="title"), 3)
    assert blocked_by(article, [include_sport]) is None
    assert "#2" in (blocked_by(article, [include_sport, exclude_author]) or "")
    assert "none of the include filters" in (blocked_by(article, [include_title]) or "")
    assert blocked_by(article, [include_title, include_sport]) is None  # any include is enough


def test_chat_words_form() -> None:
    spec = parse_filter_words(["exclude-regex", "title:^Opinion", "|"])
    assert (spec.action, spec.kind, spec.field, spec.pattern) == ("exclude", "regex", "title", "^Opinion |")
    assert parse_filter_words(["include", "climate", "change"]).pattern == "climate change"
    with pytest.raises(FilterError):
        parse_filter_words(["drop", "x"])
    with pytest.raises(FilterError):
        parse_filter_words(["include"])


def test_config_filter_errors_name_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"channels": [{"ref": "console",
                                      "filters": [{"exclude": "x"}, {"include": "(", "regex": True}]}]})
    assert "channels.0.filters.1" in str(caught.value) and "'('" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse_settings({"feeds": [{"url": "seeds", "filters": [{"include": "a", "exclude": "b"}]}]})
    assert "feeds.0.filters.0" in str(caught.value)
