"""Include / exclude filters on feed text: whole-word keywords and phrases, or RE2 patterns.

Feed text is written by strangers, so a user pattern never runs on a backtracking engine:
patterns compile with google-re2, which guarantees linear time and refuses what it cannot
run that way (backreferences, look-around, huge repetitions). Keywords compile to our own
pattern of escaped words, which cannot backtrack badly either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import re2

Action = Literal["include", "exclude"]
Kind = Literal["word", "regex"]
FIELDS = ("any", "title", "text", "categories", "author")
MAX_PATTERN = 500
RE2_MAX_MEM = 8 << 20  # a pattern whose program would need more is refused, not run


class FilterError(ValueError):
    """A filter that cannot be used; the message names the pattern."""


@dataclass(frozen=True, slots=True)
class FilterSpec:
    action: Action
    kind: Kind
    field: str
    pattern: str

    def describe(self) -> str:
        what = f"regex /{self.pattern}/" if self.kind == "regex" else f"{self.pattern!r}"
        where = "" if self.field == "any" else f" in {self.field}"
        return f"{self.action} {what}{where}"


@dataclass(frozen=True, slots=True)
class FilterText:
    """The parts of an article a filter can look at."""

    title: str
    text: str
    categories: tuple[str, ...] = ()
    author: str | None = None

    def field(self, name: str) -> str:
        if name == "title":
            return self.title
        if name == "text":
            return self.text
        if name == "categories":
            return "\n".join(self.categories)
        if name == "author":
            return self.author or ""
        return "\n".join([self.title, self.text, *self.categories, self.author or ""])


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _word_pattern(phrase: str) -> re.Pattern[str]:
    words = re.findall(r"\w+", _fold(phrase))
    if not words:
        raise FilterError(f"filter {phrase!r} has no words to match")
    body = r"\W+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)")


def _regex(pattern: str):  # noqa: ANN202 - re2's compiled type is private
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = RE2_MAX_MEM
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise FilterError(f"pattern '{pattern}' is refused: {reason} (patterns use RE2 syntax, which runs in "
                          "linear time: no backreferences or look-around)") from None


class CompiledFilter:
    """One filter, ready to test article text."""

    def __init__(self, spec: FilterSpec, ident: int | None = None, feed_id: int | None = None) -> None:
        self.spec = spec
        self.id = ident
        self.feed_id = feed_id
        self._match = _compile(spec)

    def matches(self, text: FilterText) -> bool:
        return self._match(text.field(self.spec.field))

    def describe(self) -> str:
        label = f"filter #{self.id}" if self.id is not None else "filter"
        scope = f" (feed {self.feed_id})" if self.feed_id is not None else ""
        return f"{label}{scope}: {self.spec.describe()}"


def _compile(spec: FilterSpec):  # noqa: ANN202 - a small closure
    if spec.kind == "regex":
        compiled = _regex(spec.pattern)
        return lambda value: compiled.search(value) is not None
    words = _word_pattern(spec.pattern)
    return lambda value: words.search(_fold(value)) is not None


def make_spec(action: str, pattern: str, *, regex: bool = False, field: str = "any") -> FilterSpec:
    """Validate a filter from the config, the CLI or chat; raises FilterError naming it."""
    action = action.strip().lower()
    if action not in ("include", "exclude"):
        raise FilterError(f"unknown filter action {action!r}: use include or exclude")
    field = (field or "any").strip().lower()
    if field not in FIELDS:
        raise FilterError(f"unknown filter field {field!r} (choose from {', '.join(FIELDS)})")
    pattern = pattern.strip()
    if not pattern:
        raise FilterError("a filter needs a keyword, phrase or pattern")
    if len(pattern) > MAX_PATTERN:
        raise FilterError(f"filter pattern is too long ({len(pattern)} characters; at most {MAX_PATTERN})")
    spec = FilterSpec(action=action, kind="regex" if regex else "word", field=field, pattern=pattern)  # type: ignore[arg-type]
    _compile(spec)  # refuse it now, not when the first article arrives
    return spec


def parse_filter_words(words: list[str]) -> FilterSpec:
    """Chat form: `include|exclude|include-regex|exclude-regex [title:|text:|categories:|author:]PATTERN…`."""
    if len(words) < 2:
        raise FilterError("usage: include|exclude|include-regex|exclude-regex [field:]keyword or pattern")
    head, rest = words[0].strip().lower(), " ".join(words[1:]).strip()
    action, _, suffix = head.partition("-")
    if suffix not in ("", "regex"):
        raise FilterError(f"unknown filter action {head!r}: use include, exclude, include-regex or exclude-regex")
    field = "any"
    prefix, sep, remainder = rest.partition(":")
    if sep and prefix.lower() in FIELDS and remainder.strip():
        field, rest = prefix.lower(), remainder
    return make_spec(action, rest, regex=suffix == "regex", field=field)


def blocked_by(text: FilterText, filters: list[CompiledFilter]) -> str | None:
    """None when the article may be posted; else why not, naming the filter(s). Any matching
    exclude stops it; when includes exist, at least one must match."""
    for f in filters:
        if f.spec.action == "exclude" and f.matches(text):
            return f"dropped by {f.describe()}"
    includes = [f for f in filters if f.spec.action == "include"]
    if includes and not any(f.matches(text) for f in includes):
        return "matched none of the include filters: " + "; ".join(f.describe() for f in includes)
    return None
