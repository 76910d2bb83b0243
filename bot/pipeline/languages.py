"""Which languages the summarizer can handle offline, and their word tools.

A language is supported when sumy ships its stop words and a stemmer for it works
without downloads, and its words are separated by spaces (our word tokenizer is a
regex; Chinese, Japanese, Korean and Thai would need a segmenter we do not install).

Importing sumy's stemmer module imports NLTK, which imports scipy when it is installed:
about two seconds before the first summary. The Snowball languages therefore stem with
PyStemmer (the Snowball project's own C build, about 25× faster). Its algorithms are newer
than NLTK's copies: English agrees with NLTK on all but 28 of the 14,569 words of our dev sets
(ROUGE unchanged), French, Spanish, Italian and Portuguese on every stop word, German and
Swedish on all but 3, Arabic differs on 149 of 751 (its newer algorithm strips more
prefixes). Only the languages sumy stems by its own code (Czech, Slovak, Polish, Ukrainian,
Greek) load sumy's stemmers. Stop words are read from sumy's data files directly for the same reason
(`sumy.utils` imports requests and pycountry).
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable
from functools import cache

SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "english", "german", "french", "spanish", "italian", "portuguese", "swedish",
    "czech", "slovak", "polish", "ukrainian", "greek", "arabic", "hebrew",
)

# ISO 639-1, 639-2/T and 639-2/B codes of the supported languages ("iw" is Hebrew's old code)
_CODES: dict[str, str] = {
    code: name
    for name, codes in {
        "english": "en eng", "german": "de deu ger", "french": "fr fra fre", "spanish": "es spa",
        "italian": "it ita", "portuguese": "pt por", "swedish": "sv swe", "czech": "cs ces cze",
        "slovak": "sk slk slo", "polish": "pl pol", "ukrainian": "uk ukr", "greek": "el ell gre",
        "arabic": "ar ara", "hebrew": "he heb iw",
    }.items()
    for code in codes.split()
}
_SNOWBALL = frozenset({"english", "german", "french", "spanish", "italian", "portuguese", "swedish", "arabic"})


def check_language(name: str) -> str:
    """A language name, ISO code ("en", "deu") or tag ("en-US", "pt_BR") as our name, or ValueError."""
    raw = (name or "").strip().lower()
    primary = raw.replace("_", "-").split("-", 1)[0]
    normal = raw if raw in SUPPORTED_LANGUAGES else _CODES.get(primary, raw)
    if normal not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {name!r} (supported: {', '.join(SUPPORTED_LANGUAGES)})")
    return normal


@cache
def stemmer_for(language: str) -> Callable[[str], str]:
    """A stemmer for a supported language: Snowball, sumy's own, or lower-casing (Hebrew)."""
    language = check_language(language)
    if language in _SNOWBALL:
        import Stemmer

        return Stemmer.Stemmer(language).stemWord
    if language == "hebrew":
        return str.lower
    from sumy.nlp.stemmers import Stemmer

    return Stemmer(language)


@cache
def stop_words_for(language: str) -> frozenset[str]:
    """sumy's bundled stop-word list, lower-cased."""
    data = pkgutil.get_data("sumy", f"data/stopwords/{check_language(language)}.txt") or b""
    return frozenset(w.strip().lower() for w in data.decode("utf-8").splitlines() if w.strip())
