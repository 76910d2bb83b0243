"""Start-up cost of the quick commands: wall time and peak memory of whole processes.

    python bench/startup.py [--runs 7]

Runs `newsdigest feeds list` (a database with 500 remote feeds, and the embedded default)
and `newsdigest summarize FILE` (a seed article) as fresh processes, from compiled bytecode
as an installed package runs (see `bytecode_env`), and prints the median and best wall
time, the peak RSS and which heavy libraries each command imported. `python -X importtime
-m bot feeds list` shows the bill module by module. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("aiohttp", "trafilatura", "numpy", "sumy", "nltk", "scipy", "feedparser", "lxml", "discord", "slack_bolt")
TARGET_SECONDS = 0.3
# prints which HEAVY packages a command imported (stdout of the command itself is discarded)
PROBE = ("import contextlib, io, json, sys\nfrom bot.cli import main\n"
         "with contextlib.redirect_stdout(io.StringIO()):\n    main(sys.argv[2:])\n"
         "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(sys.argv[1])))))")


def bytecode_env(cache: Path, pythonpath: str = str(ROOT)) -> dict[str, str]:
    """The environment for measured subprocesses: this checkout first on the path, and a
    bytecode cache outside the tree. A pip-installed package runs from .pyc files compiled at
    install time; PYTHONDONTWRITEBYTECODE (set on this machine) would instead recompile every
    module of the checkout on every start, a cost no installed copy pays."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"
           and not k.startswith(("DISCORD_", "SLACK_"))}
    env["PYTHONPATH"] = pythonpath
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one whole process, start-up and exit included."""
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {done.stderr.decode()[-2000:]}")
    return seconds


def measure(work: Path, runs: int, db: Path | None = None, config: Path | None = None) -> dict[str, dict]:
    """{command name: {"median", "best", "runs", "loaded"}} for the quick commands."""
    env = bytecode_env(work / "pycache")
    seed = next((ROOT / "seeds").glob("*.txt"))
    base = [sys.executable, "-m", "bot"]
    commands = {"python -c pass (the floor)": [sys.executable, "-c", "pass"],
                "summarize FILE": [*base, "--db", str(work / "startup.db"), "summarize", str(seed)],
                "feeds list (default config)": [*base, "--db", str(work / "startup.db"), "feeds", "list"]}
    if db is not None:
        commands["feeds list (500 feeds)"] = [*base, *(["--config", str(config)] if config else []), "--db",
                                              str(db), "feeds", "list"]
    for cmd in commands.values():  # compile once, as an install would
        timed(cmd, work, env)
    result: dict[str, dict] = {}
    for name, cmd in commands.items():
        times = [timed(cmd, work, env) for _ in range(runs)]
        if cmd[1] == "-c":
            result[name] = {"median": statistics.median(times), "best": min(times), "runs": times, "loaded": []}
            continue
        probe = subprocess.run([sys.executable, "-c", PROBE, json.dumps(HEAVY), *cmd[3:]], cwd=work, env=env,
                               capture_output=True)
        loaded = json.loads(probe.stdout.decode().splitlines()[-1]) if probe.returncode == 0 else ["?"]
        result[name] = {"median": statistics.median(times), "best": min(times), "runs": times, "loaded": loaded}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nd-startup-") as tmp:
        result = measure(Path(tmp), args.runs)
    print(f"{'command':32}{'median s':>10}{'best s':>9}{'target':>9}  heavy libraries imported")
    for name, r in result.items():
        target = "" if name.startswith("python") else f"≤ {TARGET_SECONDS}"
        print(f"{name:32}{r['median']:>10.3f}{r['best']:>9.3f}{target:>9}  "
              f"{', '.join(r['loaded']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
