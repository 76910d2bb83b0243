"""Logging with secrets redacted from every record, whatever path produced it."""

from __future__ import annotations

import logging
import re
import sys

_SEP = r"(?:/|%2[Ff])"  # a URL inside a query string is often percent-encoded
PATTERNS = [
    re.compile(r"xox[abposrce]-[A-Za-z0-9-]{6,}"),  # Slack bot/user/app-level tokens
    re.compile(r"xapp-[A-Za-z0-9-]{6,}"),
    re.compile(r"[MNO][A-Za-z\d_-]{22,27}\.[A-Za-z\d_-]{5,7}\.[A-Za-z\d_-]{25,}"),  # Discord bot tokens
    re.compile(rf"(?i)(?:https?(?::|%3A){_SEP}{_SEP})?(?:[\w-]+\.)?discord(?:app)?\.com{_SEP}api{_SEP}"
               rf"(?:v\d+{_SEP})?webhooks{_SEP}\d+{_SEP}[A-Za-z0-9_-]+"),
    re.compile(rf"(?i)(?:https?(?::|%3A){_SEP}{_SEP})?hooks\.slack\.com{_SEP}"
               rf"(?:services|commands|workflows|triggers)(?:{_SEP}[A-Za-z0-9_-]+)+"),
    re.compile(r"(?i)(authorization:\s*(?:bot|bearer|basic)\s+)\S+"),
    re.compile(r"(?i)(postgres(?:ql)?://[^:/@\s]*:)[^@\s]+(?=@)"),  # a database URL's password
    # credentials in query strings of feed URLs (private feeds): keep the name, hide the value
    re.compile(r"(?i)([?&;](?:[\w-]*(?:token|secret|passw(?:or)?d|api[_-]?key|apikey|auth|signature|sig|"
               r"session|key))=)[^&#\s\"'<>]+"),
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


_active = Redactor()


def redact(text: str) -> str:
    """For messages printed outside logging (CLI errors on stderr): the same redaction,
    with the secret values given to the last setup_logging call."""
    return _active.redact(text)


def setup_logging(level: str = "INFO", secrets: list[str] | None = None, stream=None) -> Redactor:
    """Log to stderr (stdout belongs to the console adapter and JSON output)."""
    global _active
    redactor = _active = Redactor(secrets)
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
    # aiosqlite logs every statement with its parameters (whole articles) at DEBUG
    for noisy in ("htmldate", "charset_normalizer", "asyncio", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # trafilatura logs its own ERROR lines for pages it cannot read; we report those ourselves
    logging.getLogger("trafilatura").setLevel(logging.DEBUG if level == "DEBUG" else logging.CRITICAL)
    return redactor
