"""Extractive summaries, offline: our "news" summarizer or any sumy algorithm by name.

Pure and synchronous; the caller runs it in an executor or a process pool. Every path
cleans the text first, splits sentences with our offline splitter (sumy's default
tokenizer would need NLTK data we never download) and returns sentences in article
order, never the headline.
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.pipeline.clean import clean_text
from bot.pipeline.languages import check_language, stemmer_for, stop_words_for
from bot.pipeline.news import news_summary
from bot.pipeline.sentences import OfflineTokenizer, split_paragraph, split_sentences

if TYPE_CHECKING:
    from sumy.models.dom import ObjectDocumentModel

__all__ = ["ALGORITHMS", "build_document", "split_sentences", "summarize", "summarize_sentences"]

# the same names, in the same order, as bot.config.ALGORITHMS
ALGORITHMS: tuple[str, ...] = (
    "news", "lexrank", "lsa", "textrank", "luhn", "kl", "sumbasic", "edmundson", "reduction",
)

# sumy's summarizers by module and class, imported on first use: their package imports NLTK
# (and scipy with it), two seconds that the default "news" path never pays
_SUMY_CLASSES = {
    "lexrank": ("lex_rank", "LexRankSummarizer"),
    "lsa": ("lsa", "LsaSummarizer"),
    "textrank": ("text_rank", "TextRankSummarizer"),
    "luhn": ("luhn", "LuhnSummarizer"),
    "kl": ("kl", "KLSummarizer"),
    "sumbasic": ("sum_basic", "SumBasicSummarizer"),
    "reduction": ("reduction", "ReductionSummarizer"),
    "edmundson": ("edmundson", "EdmundsonSummarizer"),
}

# Edmundson's cue method needs words that mark important (bonus) and unimportant (stigma)
# sentences; sumy's defaults are Czech. These suit English news reporting.
EDMUNDSON_BONUS_WORDS = (
    "announced", "said", "says", "found", "revealed", "confirmed", "killed", "arrested", "charged",
    "approved", "launched", "new", "first", "record", "major", "million", "billion", "percent",
    "according", "officials", "police", "government", "president", "report", "study", "results",
    "decision", "agreed", "won", "lost", "deal", "plan", "court", "election",
)
EDMUNDSON_STIGMA_WORDS = (
    "subscribe", "newsletter", "advertisement", "click", "follow", "share", "pictured", "photo",
    "caption", "copyright", "cookies", "reportedly", "perhaps", "maybe", "hardly", "meanwhile",
    "also", "however", "anyway", "incidentally", "scroll", "video", "image",
)


def _tokenizer(language: str) -> OfflineTokenizer:
    return OfflineTokenizer(language)


def build_document(text: str, language: str, title: str | None = None,
                   heading: bool = False) -> ObjectDocumentModel:
    """A sumy document from already-cleaned text: one Paragraph per blank-line block.

    Sentences equal to the title are left out. With `heading`, the title becomes a
    heading (Edmundson uses it; headings are never candidate sentences). We build the
    model directly rather than through PlaintextParser so an all-caps line is not
    mistaken for a heading.
    """
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

    tokenizer = _tokenizer(language)
    title_key = _key(title) if title else None
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        sentences = [Sentence(s, tokenizer) for s in split_paragraph(block, language) if _key(s) != title_key]
        if sentences:
            paragraphs.append(sentences)
    if heading and title and title.strip():
        heading = Sentence(title.strip(), tokenizer, is_heading=True)
        if paragraphs:
            paragraphs[0].insert(0, heading)
        else:
            paragraphs.append([heading])
    return ObjectDocumentModel([Paragraph(p) for p in paragraphs])


def _sumy_class(algorithm: str) -> type:
    module, name = _SUMY_CLASSES[algorithm]
    return getattr(importlib.import_module(f"sumy.summarizers.{module}"), name)


def _sumy_summarizer(algorithm: str, language: str) -> Callable:
    stemmer = stemmer_for(language)
    stop_words = stop_words_for(language)
    if algorithm == "edmundson":
        english = language == "english"
        summarizer = _sumy_class("edmundson")(stemmer, cue_weight=1.0 if english else 0.0, key_weight=0.0,
                                         title_weight=1.0, location_weight=1.0)
        summarizer.null_words = stop_words
        if english:
            summarizer.bonus_words = EDMUNDSON_BONUS_WORDS
            summarizer.stigma_words = EDMUNDSON_STIGMA_WORDS
        return summarizer
    summarizer = _sumy_class(algorithm)(stemmer)
    summarizer.stop_words = frozenset(summarizer.normalize_word(w) for w in stop_words)
    return summarizer


def _check_algorithm(algorithm: str) -> str:
    name = (algorithm or "").strip().lower()
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r} (choose from {', '.join(ALGORITHMS)})")
    return name


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def summarize_sentences(cleaned: str, *, title: str | None, sentences: int, algorithm: str,
                        language: str) -> list[str]:
    """Summarize text that has already been cleaned (benches use it to time the parts)."""
    if sentences <= 0:
        return []
    title_key = _key(title) if title else None
    if algorithm == "news":
        candidates = [s for s in split_sentences(cleaned, language) if _key(s) != title_key]
        return news_summary(candidates, title=title, count=sentences, language=language)
    document = build_document(cleaned, language, title, heading=algorithm == "edmundson")
    if not document.sentences:
        return []
    summarizer = _sumy_summarizer(algorithm, language)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LSA warns about short texts; the result is still usable
        picked = summarizer(document, sentences)
    return [str(s) for s in picked]


def summarize(text: str, *, title: str | None = None, sentences: int = 3, algorithm: str = "news",
              language: str = "english") -> list[str]:
    """Clean `text` and return at most `sentences` of its sentences, in article order.

    Raises ValueError for an unknown algorithm or an unsupported language.
    """
    name = _check_algorithm(algorithm)
    lang = check_language(language)
    cleaned = clean_text(text or "", title)
    if not cleaned.strip():
        return []
    return summarize_sentences(cleaned, title=title, sentences=sentences, algorithm=name, language=lang)
