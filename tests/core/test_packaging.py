"""pyproject lists its packages by hand (to map ./seeds to `bot.seeds`); keep the list whole."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_package_in_the_tree_is_listed() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for top in ("bot", "adapters")
             for p in (REPO / top).rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"] == {"bot.seeds": "seeds"}
    assert (REPO / "seeds" / "feed.xml").is_file()
