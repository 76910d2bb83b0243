"""Shared fixtures: a real local feed server, config files and the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.feedserver import ThreadedFeedServer

REPO = Path(__file__).resolve().parent.parent
# subprocesses (the CLI, `newsdigest run`) must run this checkout's code, whatever else is installed
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


@pytest.fixture
def feed_server():
    server = ThreadedFeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def write_config(path: Path, text: str = "") -> Path:
    base = "[fetch]\nallow_private_addresses = true\n[summary]\nalgorithm = \"lexrank\"\n"
    path.write_text(base + text if "[fetch]" not in text else text)
    return path


class Cli:
    def __init__(self, cwd: Path, config: Path | None = None) -> None:
        self.cwd = cwd
        self.config = config
        self.db = cwd / "test.db"

    def __call__(self, *args: str, input: bytes | None = None, env: dict | None = None,
                 timeout: float = 90) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "bot"]
        if self.config is not None:
            cmd += ["--config", str(self.config)]
        cmd += ["--db", str(self.db), *args]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
        full_env.update(env or {})
        return subprocess.run(cmd, cwd=self.cwd, input=input, capture_output=True, timeout=timeout, env=full_env)

    def json(self, *args: str, **kwargs) -> object:
        result = self(*args, **kwargs)
        assert result.returncode == 0, result.stderr.decode()
        return json.loads(result.stdout)


@pytest.fixture
def cli(workdir: Path) -> Cli:
    return Cli(workdir, write_config(workdir / "config.toml"))
