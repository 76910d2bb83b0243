"""Which languages the summarizer can handle offline, and their word tools.

A language is supported when sumy ships its stop words and a stemmer for it works
without downloads, and its words are separated by spaces (our word tokenizer is a
regex; Chinese, Japanese, Korean and Thai would need a segmenter we do not install).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sumy.nlp.stemmers import Stemmer
from sumy.utils import get_stop_words, normalize_language

SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "english", "german", "french", "spanish", "italian", "portuguese", "swedish",
    "czech", "slovak", "polish", "ukrainian", "greek", "arabic", "hebrew",
)


def check_language(name: str) -> str:
    """Normalise a language name or ISO code ("en", "deu") to sumy's name, or raise ValueError."""
    raw = (name or "").strip()
    try:
        normal = normalize_language(raw) if raw else ""
    except Exception:  # pycountry raises on odd input; treat it as unknown
        normal = raw.lower()
    if normal not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {name!r} (supported: {', '.join(SUPPORTED_LANGUAGES)})")
    return normal


@cache
def stemmer_for(language: str) -> Callable[[str], str]:
    """sumy's stemmer for a supported language (Snowball or sumy's own)."""
    return Stemmer(check_language(language))


@cache
def stop_words_for(language: str) -> frozenset[str]:
    """sumy's bundled stop-word list, lower-cased."""
    return frozenset(w.lower() for w in get_stop_words(check_language(language)))
