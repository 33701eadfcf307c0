"""The benchmark of issue 6 runs end to end on a tiny dataset; its numbers are not judged here."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Every measurement the benchmark reports, as its table labels them at an RTT of 5 ms.
ROWS = [
    "S cold fetch, plugin, RTT 5 ms",
    "S cold fetch, naive httpx, RTT 5 ms",
    "S cold fetch, skopeo, RTT 5 ms",
    "S lower bound, RTT 5 ms",
    "S cold fetch, plugin, no proxy (TLS)",
    "S cold fetch, plugin HTTP/2, RTT 5 ms",
    "S cold fetch, plugin plain HTTP, RTT 5 ms",
    "L cold build plain HTTP, RTT 5 ms",
    "L cold build, RTT 5 ms",
    "L warm build, plugin",
    "L plain build, Markdown tables",
    "L offline build",
    "L peak RSS, cold build",
    "L peak RSS, warm build",
    "L peak RSS, offline build",
    "L peak RSS, plain build",
]
# Rows that carry a target: each must say whether it was met, whichever it was.
TARGET_ROWS = [
    "S cold fetch, skopeo, RTT 5 ms",
    "S lower bound, RTT 5 ms",
    "L warm build, plugin",
    "L offline build",
]


def _bench(module: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run benchmark ``module`` with ``arguments``; it must succeed."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def test_benchmark_runs_on_a_tiny_dataset_and_prints_every_row(tmp_path: Path) -> None:
    # scripts/test installs skopeo; without it this fails rather than skips, as the registry
    # tests do, so a CI run cannot pass without having run it.
    assert shutil.which("skopeo"), "skopeo is needed: apt-get install -y skopeo"
    completed = _bench(
        *("bench.run", "--rtt-ms", "5", "--repeat", "1", "--pages", "3"),
        *("--l-digests", "2", "--s-digests", "4", "--skopeo-tags", "2"),
    )
    rows = {
        line.split("|")[1].strip(): line
        for line in completed.stdout.splitlines()
        if line.startswith("| ")
    }
    missing = [label for label in ROWS if label not in rows]
    assert not missing, completed.stdout
    for label in TARGET_ROWS:
        assert " met " in rows[label] or " missed " in rows[label], rows[label]
    assert "EXTRAPOLATED from 2 of 20 tags" in rows["S cold fetch, skopeo, RTT 5 ms"]
    assert "## Where the time goes" in completed.stdout


def test_the_warm_page_benchmark_measures_both_ways_on_a_small_table() -> None:
    # scripts/test installs valgrind, which counts the instructions; without it the row would
    # say "n/a", and this fails rather than passing on the wall time alone.
    assert shutil.which("valgrind"), "valgrind is needed: apt-get install -y valgrind"
    completed = _bench("bench.warm_page", "--runs", "1", "--tags", "10")
    row = next(line for line in completed.stdout.splitlines() if line.startswith("| 10 tags"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    wall, instructions, verdicts = cells[3], cells[5], cells[6]
    number = r"\d+\.\d{3}"
    assert re.fullmatch(rf"{number}x \({number}-{number}; {number}-{number}\)", wall), row
    assert re.fullmatch(rf"{number}x", instructions), row
    assert re.fullmatch(r"(met|missed|not told apart), (met|missed)", verdicts), row
    assert "the plugin's import:" in completed.stdout
