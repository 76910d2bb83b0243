"""Importing a heavy module in a thread while the event loop waits on the store.

SQLite runs its queries in aiosqlite's thread without the GIL, so an import started just before
them overlaps with them instead of following them. A later import of the same module in the
main thread simply waits for this one (the import lock), so nothing is imported twice.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading

log = logging.getLogger(__name__)


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the real import, later, raises it where it matters
            log.debug("could not preload %s: %s", name, exc)


def preload_in_background(names: tuple[str, ...]) -> None:
    """Start importing the modules not loaded yet, in a daemon thread."""
    missing = tuple(n for n in names if n not in sys.modules)
    if missing:
        threading.Thread(target=_import_all, args=(missing,), name="newsdigest-preload", daemon=True).start()
