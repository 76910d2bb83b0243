"""Logging with secrets redacted from every record, whatever path produced it."""

from __future__ import annotations

import logging
import re
import sys

PATTERNS = [
    re.compile(r"xox[abposrce]-[A-Za-z0-9-]{6,}"),  # Slack bot/user/app-level tokens
    re.compile(r"xapp-[A-Za-z0-9-]{6,}"),
    re.compile(r"[MNO][A-Za-z\d_-]{22,27}\.[A-Za-z\d_-]{5,7}\.[A-Za-z\d_-]{25,}"),  # Discord bot tokens
    re.compile(r"https?://(?:\w+\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/[A-Za-z0-9_-]+"),
    re.compile(r"https://hooks\.slack\.com/(?:services|commands|workflows|triggers)/[A-Za-z0-9/_-]+"),
    re.compile(r"(?i)(authorization:\s*(?:bot|bearer)\s+)\S+"),
]
MASK = "[redacted]"


class Redactor(logging.Filter):
    """Replaces known secret values and secret-shaped strings in the final message."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets or [] if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern in PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(message), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(level: str = "INFO", secrets: list[str] | None = None, stream=None) -> Redactor:
    """Log to stderr (stdout belongs to the console adapter and JSON output)."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_newsdigest", False):
            root.removeHandler(old)
    handler._newsdigest = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("trafilatura", "htmldate", "charset_normalizer", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return redactor
