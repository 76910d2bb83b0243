"""A digest as plain text: used by the console adapter and by `digest --dry-run`."""

from __future__ import annotations

import textwrap
from datetime import UTC

from bot.models import Digest
from bot.sources.text import clean_inline

WIDTH = 88


def render_digest_text(digest: Digest, width: int = WIDTH) -> str:
    rule = "=" * width
    lines = [rule, clean_inline(digest.title, width), rule]
    for number, item in enumerate(digest.items, start=1):
        lines.append("")
        lines.extend(textwrap.wrap(f"{number}. {clean_inline(item.title, 500)}", width,
                                   subsequent_indent="   "))
        when = item.published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if item.published else "undated"
        meta = " · ".join(x for x in (clean_inline(item.feed, 120), when) if x)
        lines.append(f"   {meta}")
        if item.url:
            lines.append(f"   {clean_inline(item.url, 500)}")
        for sentence in item.summary:
            lines.extend(textwrap.wrap(clean_inline(sentence), width, initial_indent="   - ",
                                       subsequent_indent="     "))
        for other in item.also:
            lines.append(f"   also: {clean_inline(other.feed, 120)}"
                         + (f" {clean_inline(other.url, 500)}" if other.url else ""))
    if digest.updates:
        lines.append("")
        for update in digest.updates:
            line = f"Update — {clean_inline(update.feed, 120)}: {clean_inline(update.title, 300)}"
            lines.extend(textwrap.wrap(line + (f" {clean_inline(update.url, 500)}" if update.url else ""), width,
                                       subsequent_indent="   "))
    if digest.more:
        lines += ["", f"…and {digest.more} more"]
    lines.append("")
    return "\n".join(lines)
