"""The one-way rule: the core imports no adapter and no platform library."""

from __future__ import annotations

import ast
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import REPO

FORBIDDEN = ("adapters", "discord", "slack_bolt", "slack_sdk")


def test_import_linter_contract_holds() -> None:
    tool = shutil.which("lint-imports")
    assert tool, "import-linter is a test dependency"
    result = subprocess.run([tool], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout


def parse_all(paths: list[Path]) -> list[ast.Module]:
    """Parse in a fresh thread: CPython 3.11's AST builder can raise SystemError in a thread
    that earlier caught a RecursionError (the hostile-input tests provoke some)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return list(pool.map(lambda p: ast.parse(p.read_text()), paths))


def test_no_core_module_imports_a_platform_even_lazily() -> None:
    offenders = []
    paths = sorted((REPO / "bot").rglob("*.py"))
    for path, tree in zip(paths, parse_all(paths), strict=True):
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_no_runtime_downloads() -> None:
    for path in list((REPO / "bot").rglob("*.py")) + list((REPO / "adapters").rglob("*.py")):
        text = path.read_text()
        assert "nltk.download" not in text and "from_pretrained" not in text, path
        assert Path(path).stat().st_size < 24_000, f"{path} is too big to be one job"
