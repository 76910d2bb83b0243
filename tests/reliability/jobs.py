"""Jobs for the worker-pool tests; module-level so a worker process can import them."""

from __future__ import annotations

import os
import signal


def die() -> None:
    """What the OOM killer or a crash in C code does to a worker."""
    os.kill(os.getpid(), signal.SIGKILL)


def answer() -> int:
    return 42
