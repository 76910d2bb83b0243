"""Slack's documented message limits (platforms guide §5), kept next to the renderer that obeys them."""

MAX_BLOCKS = 50  # blocks per message
SECTION_TEXT = 3000  # section block text
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150  # header block plain_text
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
FALLBACK_TEXT = 4000  # top-level `text`: Slack's guidance (hard truncation is at 40,000)
HARD_TEXT = 40_000
# Slack rejects payloads whose blocks carry roughly 12-13k characters in total
# (`msg_blocks_too_long`, undocumented); stay well below it.
BLOCKS_TEXT_BUDGET = 11_000

ACK_DEADLINE = 3.0  # seconds Slack waits for a slash command ack
ACK_BUDGET = 1.2  # wait this long for a fast answer before acking "working on it" (margin for a busy loop)
RESPONSE_URL_USES = 5  # response_url: at most 5 uses ...
RESPONSE_URL_TTL = 30 * 60  # ... within 30 minutes

MAX_RATE_LIMIT_WAIT = 60.0  # wait out a 429 inside send() up to this; longer waits go back to the core
