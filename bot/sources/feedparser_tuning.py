"""Three settings that make feedparser cheaper per feed without changing what it returns.

- The SAX driver: feedparser asks for libxml2's driver first, which is not a dependency,
  so every parse paid a failed import before falling back to expat. We name expat,
  text-buffered (see `expat_driver`).
- URL joins: feedparser re-resolves the document's base URL against itself at every start
  tag (`make_safe_absolute_uri(base, base)`, a urljoin and a urlparse each), a quarter of
  its time on a plain RSS feed. Both functions are pure functions of their strings, so
  the names feedparser's modules call are pointed at memoized copies. Should a feedparser
  release move them, `apply` leaves that module alone: parsing stays right, only slower
  (tests/sources/test_feedparser_tuning.py says so).
- Copies: feedparser deep-copies a small dict of content parameters (type, language, base)
  for every title and description, through `copy`'s generic reduce protocol, 13 µs each.
  `FeedParserDict` gets a `__deepcopy__` that copies the same way but hands strings,
  numbers and None over as they are (immutable: `copy.deepcopy` returns them unchanged
  too), 2 µs.
"""

from __future__ import annotations

import copy
import functools
import importlib
from typing import Any

import feedparser.api
import feedparser.urls
from feedparser.util import FeedParserDict

URL_CACHE_ENTRIES = 4096
# module → the URL helpers it imported by name
CALLERS = {"feedparser.mixin": ("_urljoin", "make_safe_absolute_uri"),
           "feedparser.namespaces._base": ("make_safe_absolute_uri",)}

IMMUTABLE = (str, int, float, bool, bytes, type(None))


def _deepcopy(self: FeedParserDict, memo: dict[int, Any]) -> FeedParserDict:
    """What `copy.deepcopy` makes of a FeedParserDict (its items set through `__setitem__`,
    as `copy` does), without the reduce protocol's detours for immutable values."""
    result = self.__class__()
    memo[id(self)] = result
    for key, value in self.items():
        key = key if type(key) is str else copy.deepcopy(key, memo)
        result[key] = value if type(value) in IMMUTABLE else copy.deepcopy(value, memo)
    if self.__dict__:
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
    return result


def apply() -> list[str]:
    """Tune feedparser (again is harmless); returns what is tuned, as `module.name`."""
    feedparser.api.PREFERRED_XML_PARSERS = ["bot.sources.expat_driver"]
    done = []
    if "__deepcopy__" not in vars(FeedParserDict):
        FeedParserDict.__deepcopy__ = _deepcopy  # type: ignore[attr-defined]
    if vars(FeedParserDict).get("__deepcopy__") is _deepcopy:
        done.append("feedparser.util.FeedParserDict.__deepcopy__")
    for module_name, names in CALLERS.items():
        module = importlib.import_module(module_name)
        for name in names:
            original = getattr(feedparser.urls, name, None)
            current = getattr(module, name, None)
            if original is None or current is None:
                continue
            if current is original:
                setattr(module, name, functools.lru_cache(URL_CACHE_ENTRIES)(original))
            if getattr(getattr(module, name), "__wrapped__", None) is original:
                done.append(f"{module_name}.{name}")
    return done
