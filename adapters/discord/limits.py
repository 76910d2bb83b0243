"""Discord's documented message limits (platforms.md §5); the renderer enforces all of them.

Discord's own docs are the source; the OpenAPI spec is looser for `content` (4000).
"""

CONTENT = 2000  # message content, characters
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL = 6000  # title + description + field names/values + footer + author, across embeds
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
AUTHOR_NAME = 256

CHOICES = 25  # autocomplete choices per answer
CHOICE_NAME = 100
CHOICE_VALUE = 100

INTERACTION_DEADLINE = 3.0  # seconds to answer or defer
FOLLOWUP_WINDOW = 15 * 60.0  # an interaction token is valid this long

# our own budgets, well inside the hard limits, so a digest reads well
ITEM_DESCRIPTION = 1400  # one digest item's summary + links
ITEM_FOOTER = 200
