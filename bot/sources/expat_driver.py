"""The SAX driver feedparser parses with: the standard library's expat driver, with
expat's character-data buffering switched on.

Without it expat reports the text of an element in pieces, one per line and one per
entity reference, and an RSS description (escaped HTML: `&lt;p&gt;` throughout) costs
dozens of Python callbacks into feedparser each. Buffered, expat hands over each run of
text once; feedparser joins the pieces either way, so what it returns is unchanged.
`xml.sax.make_parser` loads a driver module by name and calls its `create_parser`: that
is the documented way to choose a SAX driver, and feedparser passes our name through.
"""

from __future__ import annotations

from typing import Any
from xml.sax.expatreader import ExpatParser

TEXT_BUFFER_BYTES = 1 << 16


class BufferedExpatParser(ExpatParser):
    def reset(self) -> None:
        super().reset()
        self._parser.buffer_size = TEXT_BUFFER_BYTES
        self._parser.buffer_text = True


def create_parser(*args: Any, **kwargs: Any) -> BufferedExpatParser:
    return BufferedExpatParser(*args, **kwargs)
