"""Boilerplate removal before summarizing.

Feeds and extracted pages carry text that is not the story: newsletter prompts, ad
markers, share and cookie banners, bylines, photo credits, agency datelines, the
headline repeated as the first line, and (see `boilerplate`) date lines, bare URLs,
legal and reprint notices, pitches and teasers in the languages we summarize. Any of
these can outscore real sentences (they are short and sit at the top), so they go before
sentence splitting. Whole lines are dropped
by pattern; a few inline fragments are cut out of the text.
"""

from __future__ import annotations

import re

from bot.pipeline.boilerplate import is_noise, strip_notices
from bot.pipeline.sentences import split_paragraph

_I = re.IGNORECASE

# whole lines (after stripping) that are never part of the story
_LINE_PATTERNS = [
    # newsletters and sign-up prompts
    r"(subscribe|sign ?up|signup|register|join)\b.{0,80}\b(newsletter|inbox|updates|alerts|email|e-mail"
    r"|here|free|today|now)\b.*",
    r".{0,60}\b(newsletter|delivered (directly )?to your inbox)\b.{0,80}",
    r"get (the|our) .{0,40}(newsletter|app|alerts)\b.*",
    # advertising
    r"[-–—\s]*(advertisement|advertising|sponsored( content)?|ad)[-–—\s]*",
    r"(story|article) continues (below|after)( this)? (advertisement|ad)\.?",
    r"scroll (down )?(to continue|for (more|videos?))\.?",
    # share, follow and cookie banners
    r"(share|tweet|email|print|copy link|share this( article| story)?|share on \w+|follow us on \w+)"
    r"([\s|·•,/]+(share|tweet|email|print|facebook|twitter|whatsapp|linkedin|pinterest|reddit|copy link))*:?",
    r".{0,80}\bcookies?\b.{0,120}\b(accept|consent|privacy|policy|agree|continu\w*|settings)\b.*",
    r"(read more|related( stories| articles| content)?|recommended|more on this story|see also)"
    r"\s*[:|»>].{0,120}",
    r"click here\b.{0,120}",
    # credits
    r"(reporting|additional reporting|editing|writing|compiled|produced) by\b.{0,150}",
    r"(photo|photograph|picture|image|video|illustration|graphic)s?( credit| copyright| caption)?"
    r"\s*[:|/].{0,150}",
    r"(image|media) (caption|copyright|source)\b.{0,150}",
    r"\(?(getty images|afp|ap photo|reuters|shutterstock|pa( media| wire)?|epa)\)?(\s*/\s*[\w ]+)?",
    r"media playback is (unsupported|not supported) on your device",
    r"(published|updated|last updated|posted)\s*(:|at|on)\s.{0,60}\d{4}.{0,40}",
]
_LINE_RE = re.compile(r"^(?:" + "|".join(_LINE_PATTERNS) + r")$", _I)
# bylines are names, so case matters: "By Jane Doe, Staff Reporter" but not "By Monday, it had gone."
_NAME = r"[A-Z][\w.'’\-]*"
_BYLINE_RE = re.compile(
    r"^(?:By|BY|Written by|Words by|Story by|Von|Par|Por|Di|di|Door|Av|Af|Autor:?|Autorin:?|Auteur\s*:)"
    rf"\s+{_NAME}(?:\s+(?:{_NAME}|de|van|von|der|and|&))*"
    rf"(?:\s*[,|\-–—]\s*{_NAME}(?:\s+(?:{_NAME}|and|&|for|of|the))*)*\.?$"
)

# fragments removed wherever they appear
_INLINE_RE = re.compile(
    r"(?:\bscroll down for (?:videos?|more)\b\.?"
    r"|\(\s*(?:photo|image|picture|video)\s*:[^)]{0,100}\)"
    r"|\((?:getty images|ap photo|afp|reuters|shutterstock|epa)[^)]{0,40}\)"
    r"|\bimage caption\b:?"
    r"|\bread more\s*:[^.!?\n]{0,150}(?:[.!?]|$)"
    r"|\bclick here\b[^.!?\n]{0,150}(?:[.!?]|$)"
    r"|-\s*advertisement\s*-)",
    _I,
)
# "(CNN) --", "WASHINGTON (CNN) —", "LONDON, England (Reuters) -", "Rome (CNN)"
_DATELINE_RE = re.compile(
    r"^(?:[A-Z][\w.'’\- ]{0,40}(?:,\s*[A-Z][\w.'’\- ]{0,30})?\s*)?"
    r"\((?i:CNN|AP|AFP|Reuters|UPI|BBC|Bloomberg|CNN Money|EW\.com|Mashable|The Conversation)\)"
    r"\s*(?:--|—|–|-|:)?\s*"
)
TRAILING_LABEL_WORDS = 8
SHORT_LINE_WORDS = 30
_ENDS_SENTENCE = re.compile(r"[.!?…:;\"'”’)\]]$")
_SPACES = re.compile(r"[ \t\u00a0]+")


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _keep(line: str) -> bool:
    return not (_LINE_RE.match(line) or _BYLINE_RE.match(line) or is_noise(line))


def clean_text(text: str, title: str | None = None) -> str:
    """Remove boilerplate lines and fragments; paragraphs stay separated by blank lines."""
    if not text:
        return ""
    paragraphs: list[str] = []
    current: list[str] = []
    title_key = _normal(title) if title else ""
    seen_content = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if not seen_content and title_key and _normal(line) == title_key:
            continue
        if not _keep(line):
            continue
        if not current:
            line = _DATELINE_RE.sub("", line, count=1)
        line = _without_noise_sentences(_SPACES.sub(" ", _INLINE_RE.sub(" ", strip_notices(line))).strip())
        if not line or not _keep(line):
            continue
        seen_content = True
        current.append(line)
        if not _ENDS_SENTENCE.search(line):
            # an unpunctuated line (caption, heading, list item) must not run into the next one
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(_without_trailing_labels(paragraphs))


_SENTENCE_MARKS = re.compile(r"[.!?]\s")


def _without_noise_sentences(line: str) -> str:
    """A short line of two or more sentences ("Liked this story? Share it!") loses the ones that
    are noise; long paragraphs are left to `strip_notices` (splitting every line costs time)."""
    if len(line.split()) > SHORT_LINE_WORDS or not _SENTENCE_MARKS.search(line):
        return line
    sentences = split_paragraph(line)
    kept = [s for s in sentences if not is_noise(s)]
    return line if len(kept) == len(sentences) else " ".join(kept)


def _without_trailing_labels(paragraphs: list[str]) -> list[str]:
    """Short unpunctuated lines after the story's last sentence are block headings and labels
    ("More from the region", "Filed under: Food", "Source: City council"), not story text."""
    end = len(paragraphs)
    while end > 1 and _is_label(paragraphs[end - 1]) and any(_ENDS_SENTENCE.search(p) for p in paragraphs[:end - 1]):
        end -= 1
    return paragraphs[:end]


def _is_label(paragraph: str) -> bool:
    return len(paragraph.split()) <= TRAILING_LABEL_WORDS and not _ENDS_SENTENCE.search(paragraph)
