"""Whether a source reference names a local path, and which: no parser imports, so the CLI can
check a configured folder without loading feedparser or lxml."""

from __future__ import annotations

from pathlib import Path


def is_local_source(ref: str) -> bool:
    return "://" not in ref or ref.startswith("file://")


def path_of(ref: str) -> Path:
    if ref.startswith("file://"):
        ref = ref[len("file://"):]
    return Path(ref).expanduser()


def within(base: Path, target: Path) -> bool:
    """True when target lies inside base (after resolving links)."""
    try:
        target.resolve().relative_to(base.resolve())
    except ValueError:
        return False
    return True
