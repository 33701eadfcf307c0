"""Run one command; report its wall time, CPU time and peak RSS as its parent sees them.

Why a launcher: on Linux a child's ``ru_maxrss`` starts from the peak RSS of the process it
was forked from (``exec`` records the old address space's high-water mark), so a build started
by the benchmark itself, which holds a registry client and its data, would report the
benchmark's memory rather than its own. Forked from this small process instead, whose own
peak (about 11 MiB) is the floor, the figure is the build's.

Run::

    python -m bench.launch REPORT.json -- COMMAND [ARGUMENT ...]

The command inherits stdin, stdout, stderr and the environment. ``REPORT.json`` gets
``{"returncode": ..., "wall": s, "cpu": s, "max_rss_kib": ...}`` (``cpu`` is user + system,
both from ``os.wait4``), and the launcher exits with the command's exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run ``argv[2:]`` (after ``REPORT.json --``), write the report, return its exit code."""
    if len(argv) < 3 or argv[1] != "--":
        print(
            "usage: python -m bench.launch REPORT.json -- COMMAND [ARGUMENT ...]", file=sys.stderr
        )
        return 2
    report, command = Path(argv[0]), argv[2:]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    report.write_text(
        json.dumps(
            {
                "returncode": process.returncode,
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "max_rss_kib": usage.ru_maxrss,  # KiB on Linux
            }
        ),
        encoding="utf-8",
    )
    return process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
