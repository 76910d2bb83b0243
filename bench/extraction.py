"""Page extraction fidelity on hand-written article pages (bench/pages/).

    python bench/extraction.py [--pages DIR] [-v]

Each page `NN-LANG-slug.html` comes with `.txt` (the article text a reader should get,
written by hand: no headline, byline, date, caption, pitch or notice) and `.title` (the
headline without section or site name). The pages were written for this bench: six
layouts (semantic article, div soup with ads, boilerplate as paragraphs inside the story,
credited photo galleries, a legacy table page split by <br>, embedded posts and video)
in English, German, French, Spanish, Portuguese and Italian, each with navigation,
cookie banners, share bars, newsletter boxes, related links, comments and scripts.

Reports, per extractor, mean token precision / recall / F1 against the hand-made text
(bag of lower-cased word tokens, as the usual extraction benchmarks count them), then
for our pipeline the share of titles that are exactly the headline and the share of
summary sentences (3 and 5 per page, the default `news` summarizer and sumy LexRank) that are
not article text (not a contiguous run of the hand-made text's tokens).
Deterministic; reads only files in this repository.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.pipeline.clean import clean_text  # noqa: E402
from bot.pipeline.summarize import summarize  # noqa: E402
from bot.sources.pages import extract_page  # noqa: E402
from bot.sources.text import html_to_text  # noqa: E402

LANGUAGES = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "pt": "portuguese", "it": "italian"}
_WORD = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def prf(extracted: str, truth: str) -> tuple[float, float, float]:
    got, want = Counter(tokens(extracted)), Counter(tokens(truth))
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def is_article_text(sentence: str, truth_tokens: str) -> bool:
    """True when the sentence's tokens occur, in order and contiguously, in the article."""
    words = " ".join(tokens(sentence))
    return bool(words) and f" {words} " in truth_tokens


def _ours(html: bytes) -> str:
    return extract_page(html, "https://news.example/article")[1]


def _ours_cleaned(html: bytes) -> str:
    title, text = extract_page(html, "https://news.example/article")
    return clean_text(text, title)


def _trafilatura(**options) -> Callable[[bytes], str]:
    def run(html: bytes) -> str:
        import trafilatura

        return trafilatura.extract(html.decode("utf-8"), url="https://news.example/article", **options) or ""

    return run


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "ours (extract_page)": _ours,
    "ours + clean_text (what summaries read)": _ours_cleaned,
    "trafilatura defaults": _trafilatura(),
    "trafilatura favor_precision": _trafilatura(favor_precision=True),
    "trafilatura favor_recall": _trafilatura(favor_recall=True),
    "whole page as text (html_to_text)": lambda html: html_to_text(html.decode("utf-8")),
}


def load(pages: Path) -> list[tuple[str, bytes, str, str]]:
    found = []
    for page in sorted(pages.glob("*.html")):
        truth = page.with_suffix(".txt").read_text(encoding="utf-8")
        title = page.with_suffix(".title").read_text(encoding="utf-8").strip()
        found.append((page.stem, page.read_bytes(), truth, title))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, default=ROOT / "bench" / "pages")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    pages = load(args.pages)
    if not pages:
        print(f"no pages in {args.pages}", file=sys.stderr)
        return 2
    print(f"## extraction ({len(pages)} pages, mean token precision / recall / F1)")
    print("| extractor | precision | recall | F1 |")
    print("|---|---:|---:|---:|")
    for name, extract in EXTRACTORS.items():
        scores = [prf(extract(html), truth) for _, html, truth, _ in pages]
        means = [sum(s[i] for s in scores) / len(scores) for i in range(3)]
        print(f"| {name} | {means[0]:.3f} | {means[1]:.3f} | {means[2]:.3f} |")
    titles_ok, misses = 0, []
    counts: dict[tuple[str, int], list[int]] = {(a, n): [0, 0] for n in (3, 5) for a in ("news", "lexrank")}
    for stem, html, truth, want_title in pages:
        title, text = extract_page(html, "https://news.example/article")
        titles_ok += title == want_title
        if title != want_title:
            misses.append(f"{stem}: title {title!r}")
        truth_tokens = " " + " ".join(tokens(truth)) + " "
        language = LANGUAGES[stem.split("-")[1]]  # NN-LANG-slug
        for (algorithm, count), tally in counts.items():
            for sentence in summarize(text, title=title, sentences=count, algorithm=algorithm, language=language):
                tally[0] += 1
                if not is_article_text(sentence, truth_tokens):
                    tally[1] += 1
                    misses.append(f"{stem} [{algorithm}, {count}]: {sentence!r}")
    print(f"\ntitles exactly the headline: {titles_ok}/{len(pages)}")
    for (algorithm, count), (total, bad) in counts.items():
        print(f"summary sentences that are not article text ({algorithm}, {count} per page): "
              f"{bad}/{total} ({100 * bad / total:.1f} %)")
    if args.verbose:
        print("\n" + "\n".join(misses or ["(no misses)"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
