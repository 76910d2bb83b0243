"""Offline sentence and word splitting, and a sumy-compatible tokenizer.

sumy's own Tokenizer needs NLTK's punkt data, which we never download. nupunkt ships a
pretrained Punkt model inside its package; we run it per paragraph and then repair the
cases it gets wrong that matter in news and in the "golden rules": numbered or lettered
list items, exclamation marks inside names ("Yahoo! in"), "No. 12", a sentence ending in
the pronoun "I.", and German day ordinals ("am 3. Oktober").
"""

from __future__ import annotations

import re

import nupunkt

# nupunkt's model was trained on legal text and lists ordinary words ("so", "cent",
# "found", "week") as abbreviations, which glues news sentences together. We keep its
# dotted abbreviations ("u.s", "a.m") and single-letter initials, plus these.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr inc ltd plc co corp llc gov sen rep gen col capt cmdr sgt lt maj adm "
    "rev hon pres supt det insp jan feb apr jun jul aug sep sept oct nov dec mon tue tues thu thur "
    "thurs fri nos vol vols vs etc approx dept est fig figs ft mt ave blvd rd univ assn bros cf al ca "
    "pp ch sec art op ed eds mph oz lb lbs km cm mm kg no".split()
)
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# a list marker at the start of a chunk: "1.)", "1)", "1.", "a.", "• 9.", "⁃10."
_LIST_START = re.compile(r"^\s*([•⁃\-*]\s?)?(\d{1,2}|[a-z])(\.\)|\)|\.)\s")
_MARKER_ONLY = re.compile(r"^(?:[•⁃\-*]\s?)?(?:\d{1,2}|[a-z])(?:\.\)|\)|\.)$")
_NUMBER_ABBREV_END = re.compile(r"(?:\bN[o°º]|\bNos?|\bnos?|\bArt|\bp|\bpp)\.$")
_PRONOUN_I_INSIDE = re.compile(r"(?<=\s)I\.\s+(?=([A-Z][a-z]+)\b)")
_ORDINAL_END = re.compile(r"(?<![\d.])\d{1,2}\.$")
# words that, capitalised after "I.", almost surely begin a new sentence
_STARTERS = frozenset(
    "a an and as at but did do does for he her his how i if in it its many my no not of on our "
    "she so some that the their then there these they this those to was we were what when where "
    "which who why will would you your".split()
)


def _build_tokenizer() -> nupunkt.PunktSentenceTokenizer:
    tokenizer = nupunkt.load_default_model()
    params = tokenizer._params  # nupunkt exposes no public setter for the abbreviation set
    params.abbrev_types = {
        a for a in params.abbrev_types if "." in a or len(a) == 1 or a in _ABBREVIATIONS
    } | set(_ABBREVIATIONS)
    return tokenizer


_TOKENIZER = _build_tokenizer()


def _list_chunks(paragraph: str) -> list[str]:
    """Cut a paragraph that starts as a list ("1) a 2) b") at each following marker."""
    match = _LIST_START.match(paragraph)
    if not match:
        return [paragraph]
    bullet, label, punct = match.group(1) or "", match.group(2), match.group(3)
    chunks: list[str] = []
    start = 0
    while True:
        label = str(int(label) + 1) if label.isdigit() else chr(ord(label) + 1)
        marker = re.compile(r"\s" + re.escape(bullet.strip()) + r"\s?" * bool(bullet)
                            + re.escape(label) + re.escape(punct) + r"\s")
        found = marker.search(paragraph, start + len(match.group(0)) if not chunks else start + 1)
        if not found:
            break
        chunks.append(paragraph[start:found.start()].strip())
        start = found.start() + 1
    chunks.append(paragraph[start:].strip())
    return [c for c in chunks if c]


def _repair(sentences: list[str], language: str) -> list[str]:
    """Merge or split nupunkt's output where it is predictably wrong."""
    out: list[str] = []
    for sentence in sentences:
        if out:
            prev = out[-1]
            first = sentence[:1]
            merge = (
                _MARKER_ONLY.match(prev) is not None
                or (first.islower() and prev[-1:] in "!?")
                or (_NUMBER_ABBREV_END.search(prev) is not None and first.isdigit())
                or (language == "german" and _ORDINAL_END.search(prev) is not None)
            )
            if merge:
                out[-1] = f"{prev} {sentence}"
                continue
        out.append(sentence)
    final: list[str] = []
    for sentence in out:
        final.extend(_split_after_pronoun_i(sentence))
    return final


def _split_after_pronoun_i(sentence: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _PRONOUN_I_INSIDE.finditer(sentence):
        if match.group(1).lower() in _STARTERS:
            parts.append(sentence[start:match.start() + 2].strip())
            start = match.end()
    parts.append(sentence[start:].strip())
    return [p for p in parts if p]


def split_paragraph(paragraph: str, language: str = "english") -> list[str]:
    """Sentences of one paragraph (internal line breaks are treated as spaces)."""
    text = " ".join(paragraph.split())
    if not text:
        return []
    raw: list[str] = []
    for chunk in _list_chunks(text):
        raw.extend(s.strip() for s in _TOKENIZER.tokenize(chunk) if s.strip())
    return _repair(raw, language)


def split_sentences(text: str, language: str = "english") -> list[str]:
    """Split text into sentences, offline; blank lines always end a sentence."""
    sentences: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(text or ""):
        sentences.extend(split_paragraph(paragraph, language))
    return sentences


def split_words(sentence: str) -> tuple[str, ...]:
    """Alphabetic words (with inner apostrophes/hyphens); numbers and punctuation are dropped."""
    return tuple(_WORD.findall(sentence))


class OfflineTokenizer:
    """What sumy's parsers and document model call: `to_sentences`, `to_words`, `language`."""

    def __init__(self, language: str = "english") -> None:
        self.language = language

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(split_paragraph(paragraph, self.language))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return split_words(sentence)
