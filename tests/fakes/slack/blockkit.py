"""Block Kit limits as Slack enforces them, plus what a message would render and notify.

`validate_message` returns the problems Slack would answer with `invalid_blocks`,
`msg_blocks_too_long` or `msg_too_long`. `mentions` and `links` read mrkdwn the way Slack does,
so tests can assert that untrusted text notifies no one and links nowhere unexpected.
"""

from __future__ import annotations

import re
from typing import Any

MAX_BLOCKS = 50
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
BLOCKS_TEXT_TOTAL = 12_000  # the undocumented cumulative cap (msg_blocks_too_long)
TEXT_LIMIT = 4000  # this fake is stricter than Slack (which truncates at 40,000)
BLOCK_ID = 255
KNOWN_BLOCKS = {"section", "header", "context", "divider", "actions", "image", "rich_text", "markdown"}

_MENTION = re.compile(r"<(!channel|!here|!everyone|!subteam\^[^>|]+|@[UW][A-Z0-9]+|#C[A-Z0-9]+)[^>]*>")
_BARE_MENTION = re.compile(r"(?<![\w@])@(channel|here|everyone)\b")
_LINK = re.compile(r"<((?:https?|mailto):[^<>|]*)(?:\|([^<>]*))?>")


def text_objects(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every text object inside the blocks (section text and fields, header, context)."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            found.append(block["text"])
        for item in block.get("fields") or []:
            if isinstance(item, dict):
                found.append(item)
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                found.append(element)
    return found


def _check_text(where: str, obj: Any, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: not a text object"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: text must be a non-empty string"]
    if len(text) > limit:
        return [f"{where}: text is {len(text)} characters (must be less than {limit + 1})"]
    return []


def _check_block(index: int, block: Any) -> list[str]:
    where = f"blocks[{index}]"
    if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCKS:
        return [f"{where}: unknown block type"]
    problems = []
    if len(str(block.get("block_id", ""))) > BLOCK_ID:
        problems.append(f"{where}: block_id too long")
    kind = block["type"]
    if kind == "header":
        problems += _check_text(f"{where}.text", block.get("text"), HEADER_TEXT, plain_only=True)
    elif kind == "section":
        if "text" not in block and not block.get("fields"):
            problems.append(f"{where}: section needs text or fields")
        if "text" in block:
            problems += _check_text(f"{where}.text", block["text"], SECTION_TEXT)
        fields = block.get("fields") or []
        if len(fields) > SECTION_FIELDS:
            problems.append(f"{where}.fields: more than {SECTION_FIELDS}")
        for i, item in enumerate(fields):
            problems += _check_text(f"{where}.fields[{i}]", item, FIELD_TEXT)
    elif kind == "context":
        elements = block.get("elements") or []
        if not 1 <= len(elements) <= CONTEXT_ELEMENTS:
            problems.append(f"{where}.elements: need 1 to {CONTEXT_ELEMENTS}")
        for i, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") == "image":
                continue
            problems += _check_text(f"{where}.elements[{i}]", element, CONTEXT_TEXT)
    return problems


def validate_message(text: Any, blocks: Any) -> tuple[str | None, list[str]]:
    """(Slack error code or None, details) for a message's `text` and `blocks`."""
    if blocks is not None:
        if not isinstance(blocks, list):
            return "invalid_blocks_format", ["blocks must be a JSON array"]
        if len(blocks) > MAX_BLOCKS:
            return "invalid_blocks", [f"{len(blocks)} blocks (at most {MAX_BLOCKS})"]
        problems = [p for i, b in enumerate(blocks) for p in _check_block(i, b)]
        if problems:
            return "invalid_blocks", problems
        total = sum(len(obj.get("text", "")) for obj in text_objects(blocks))
        if total > BLOCKS_TEXT_TOTAL:
            return "msg_blocks_too_long", [f"{total} characters of block text"]
    if text is not None and not isinstance(text, str):
        return "invalid_arguments", ["text must be a string"]
    if not text and not blocks:
        return "no_text", ["neither text nor blocks"]
    if text and len(text) > TEXT_LIMIT:
        return "msg_too_long", [f"text is {len(text)} characters (this fake allows {TEXT_LIMIT})"]
    return None, []


def mentions(text: str, parse_bare: bool) -> list[str]:
    """Mentions Slack would notify for this mrkdwn; bare @here counts unless verbatim."""
    found = [m.group(0) for m in _MENTION.finditer(text)]
    if parse_bare:
        found += ["@" + m.group(1) for m in _BARE_MENTION.finditer(text)]
    return found


def links(text: str) -> list[tuple[str, str]]:
    """(url, label) for every link Slack would render (label = url when none)."""
    return [(m.group(1), m.group(2) if m.group(2) is not None else m.group(1)) for m in _LINK.finditer(text)]


def display(text: str) -> str:
    """What a reader sees: links shown by their labels, entities decoded once."""
    shown = _LINK.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(1), text)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
