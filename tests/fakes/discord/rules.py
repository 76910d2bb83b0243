"""Documented limits the OpenAPI spec cannot express (platforms.md §1.4, §5)."""

from __future__ import annotations

from typing import Any

CONTENT_MAX = 2000
EMBED_TOTAL_MAX = 6000


def embed_chars(embed: dict[str, Any]) -> int:
    """What Discord counts toward 6000: title, description, fields, footer, author (trimmed)."""
    def s(value: Any) -> int:
        return len(value.strip()) if isinstance(value, str) else 0

    total = s(embed.get("title")) + s(embed.get("description"))
    for field in embed.get("fields") or []:
        total += s(field.get("name")) + s(field.get("value"))
    total += s((embed.get("footer") or {}).get("text")) + s((embed.get("author") or {}).get("name"))
    return total


def message_errors(body: dict[str, Any], *, require_content: bool = True) -> dict[str, str]:
    """Location → reason for each documented-limit violation of a message body."""
    errors: dict[str, str] = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        errors["content"] = f"Must be {CONTENT_MAX} or fewer in length (got {len(content)})."
    embeds = body.get("embeds") or []
    if isinstance(embeds, list):
        total = sum(embed_chars(e) for e in embeds if isinstance(e, dict))
        if total > EMBED_TOTAL_MAX:
            errors["embeds"] = f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX} (got {total})."
    if require_content and not (content or embeds):
        errors["(body)"] = "Cannot send an empty message (50006)."
    return errors
