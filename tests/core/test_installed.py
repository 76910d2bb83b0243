"""An installed (non-editable) package works anywhere: built as a wheel from a copy of the
checkout, installed into a fresh virtualenv, run from an empty folder with no checkout in reach."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tracked_copy(dest: Path) -> Path:
    """The files git would clone (plus new, not ignored ones), without build leftovers."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with its own copy of newsdigest; the dependencies are borrowed, not downloaded."""
    base = tmp_path_factory.mktemp("installed")
    source = _tracked_copy(base / "src")
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-w", str(wheels), str(source)], check=True, capture_output=True)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # the dependencies come from the running environment (offline); its .pth files, among them
    # an editable install of this checkout, are not processed from a path listed this way
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_dependencies.pth").write_text("\n".join(sorted(paths)) + "\n", encoding="utf-8")
    wheel = next(wheels.glob("newsdigest-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--ignore-installed",
                    "--no-index", "--disable-pip-version-check", str(wheel)], check=True, capture_output=True)
    shutil.rmtree(source)  # nothing of the checkout is left to lean on
    return venv


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "PYTHON"))}
    return env


def test_the_installed_package_is_the_one_that_runs(installed: Path, tmp_path: Path) -> None:
    out = subprocess.run([str(installed / "bin" / "python"), "-c", "import bot; print(bot.__file__)"], cwd=tmp_path,
                         env=_env(), capture_output=True, text=True, check=True).stdout
    assert out.startswith(str(installed)), out


def test_summarize_needs_no_feeds_and_no_database(installed: Path, tmp_path: Path) -> None:
    article = tmp_path / "story.txt"
    article.write_text("Harbour gets a solar roof\n\n" + " ".join(
        f"The harbour board said on day {i} that the new solar roof had produced more power than planned."
        for i in range(1, 8)), encoding="utf-8")
    done = subprocess.run([str(installed / "bin" / "newsdigest"), "summarize", str(article), "--json",
                           "--sentences", "2"], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["title"] == "Harbour gets a solar roof"
    assert len(result["sentences"]) == 2
    assert not (tmp_path / "newsdigest.db").exists()


def test_run_on_the_embedded_default_posts_the_sample_articles(installed: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen([str(installed / "bin" / "newsdigest"), "run"], cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if (tmp_path / "newsdigest.db").exists() and _sent(tmp_path / "newsdigest.db"):
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "no such file" not in err
    assert "Volunteers pull four tonnes of rubbish" in out  # a sample article, rendered on the console


def _sent(db: Path) -> bool:
    import sqlite3

    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return bool(conn.execute("SELECT COUNT(*) FROM digests WHERE state = 'sent'").fetchone()[0])
    except sqlite3.Error:
        return False
