"""Peak proportional set size of a process group, sampled every 20 ms from a process of its own.

    python bench/pss.py    (reads the group id on stdin once ready, prints the peak in bytes
                            when stdin closes)

bench/ingest.py runs one beside each measured command: reading /proc holds the GIL for
milliseconds, and inside the bench it would be the feed server's GIL, slowing the answers
to whichever contender is being measured.
"""

from __future__ import annotations

import os
import select
import sys
from pathlib import Path


def group_memory(pgid: int) -> int:
    """Summed proportional set size (bytes) of every process in the group: pages shared by
    the forkserver and its workers are counted once, not once per process as RSS would."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat[stat.rindex(")") + 2:].split()[2]) != pgid:  # field 5 of stat: the process group
                continue
            for line in Path(f"/proc/{entry}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError, IndexError):
            continue
    return total


def main() -> None:
    print("ready", flush=True)
    pgid, peak = int(sys.stdin.readline()), 0
    while True:
        peak = max(peak, group_memory(pgid))
        if select.select([sys.stdin], [], [], 0.02)[0]:  # stdin closed: the command has ended
            print(peak, flush=True)
            return


if __name__ == "__main__":
    main()
