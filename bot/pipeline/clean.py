"""Boilerplate removal before summarizing.

Feeds and extracted pages carry text that is not the story: newsletter prompts, ad
markers, share and cookie banners, bylines, photo credits, agency datelines and the
headline repeated as the first line. Any of these can outscore real sentences (they are
short and sit at the top), so they go before sentence splitting. Whole lines are dropped
by pattern; a few inline fragments are cut out of the text.
"""

from __future__ import annotations

import re

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
    rf"^(?:By|BY|Written by|Words by|Story by)\s+{_NAME}(?:\s+(?:{_NAME}|de|van|von|der|and|&))*"
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
_ENDS_SENTENCE = re.compile(r"[.!?…:;\"'”’)\]]$")
_SPACES = re.compile(r"[ \t\u00a0]+")


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _keep(line: str) -> bool:
    return not (_LINE_RE.match(line) or _BYLINE_RE.match(line))


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
        line = _SPACES.sub(" ", _INLINE_RE.sub(" ", line)).strip()
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
    return "\n\n".join(paragraphs)
