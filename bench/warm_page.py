"""Benchmark (issue 18): what a warm one-page build costs over the same page without the plugin.

Two sites of one page each, for a table of ``--tags`` tags (default: 40 and 300, 5 tags a
digest): the plugin's, whose table comes from a fresh cache (no request, as a site's builds
mostly are), and its plain twin, the same site with the table written in: the HTML the
plugin's build put on the page, pasted into the Markdown, so both pages are the same to every
other part of the build (the search index among them), and the other files the plugin's build
writes (its stylesheet and script, linked by ``extra_css``/``extra_javascript``, and with
feeds the JSON and Atom documents) as static files, which is how a site whose tables are
written in ships them. Both sites' outputs hold the same files, and the difference is the
plugin's. Both have MkDocs' default ``search`` plugin, as a plain site has it; the first adds
``taghistory``.
Each is a real ``mkdocs build`` started by :mod:`bench.launch`; the package is byte-compiled
first, as ``pip install`` leaves it (this machine sets ``PYTHONDONTWRITEBYTECODE``).

Two measures, because wall time on a shared machine wanders by more than the 5 % it judges:

- *wall*: ``--runs`` rounds (after three of warm-up) of one build of each site, back to back
  in a random order; printed are the median of the rounds' ratios, its quartiles (how single
  rounds spread) and a 95 % interval of the median itself (by bootstrap: how far the median
  may be off), and the median ratio of CPU time. The wall target is met when that interval
  lies at or under it, missed when it lies above, and "not told apart" when it holds the
  target (more rounds would tell);
- *instructions*: one build of each under valgrind (when it is installed), which counts the
  instructions run: the same count at every run, so a change of a few per cent shows.

Printed: both ratios against the target (1.05x), and the plugin package's import time
(``-X importtime``).

No registry is needed: the cache is written from a snapshot made here.

Run from the repository root::

    .venv/bin/python -m bench.warm_page [--runs 21] [--tags 40 300] [--feeds on|off|both] [--write]
        [--seed 18]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bs4 import BeautifulSoup

from bench.datasets import ROOT
from bench.results_file import RESULTS_PATH, current_commit, record_section
from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.feeds import FEED_FOLDER
from mkdocs_taghistory.frontend import ASSETS
from mkdocs_taghistory.history import DigestFacts, Sighting, TagSnapshot, TagState
from mkdocs_taghistory.plugin import SITE_ASSETS
from tests.support.site import write_site

TARGET = 1.05
# What a build imports before it loads the plugin, so what is left is the plugin's own.
_IMPORTS = (
    "import mkdocs.commands.build, mkdocs.plugins, mkdocs.config.defaults, markdown, "
    "mkdocs.structure.pages; import mkdocs_taghistory.plugin"
)
IMAGE = "registry.example/acme/widget"


def snapshot(tags: int) -> TagSnapshot:
    """A fresh fetch of ``tags`` tags over a fifth as many digests, with their ledger."""
    now = datetime.now(UTC).replace(microsecond=0)
    digests = [f"sha256:{number:064x}" for number in range(max(1, tags // 5))]
    states = {}
    for number in range(tags):
        digest = digests[number % len(digests)]
        states[f"1.{number}.0"] = TagState(digest, now - timedelta(days=number % len(digests)))
    return TagSnapshot(
        IMAGE,
        now,
        states,
        {digest: DigestFacts(created=now, platforms=("linux/amd64",)) for digest in digests},
        ledger={tag: (Sighting(state.digest, now),) for tag, state in states.items()},
    )


def sites(root: Path, tags: int, *, feeds: bool = True) -> tuple[Path, Path]:
    """The plugin's site and its plain twin, for a table of ``tags`` tags; ``feeds`` False
    builds the plugin's without publishing the JSON and Atom documents."""
    made = snapshot(tags)
    page = f'# Widget\n\n<< tag_history "{IMAGE}" >>\n'
    options = {"cache_dir": "cache", "ttl": "1d", "feeds": feeds}
    plugin = write_site(
        root / "plugin", {"index.md": page}, {}, plugins=["search", {"taghistory": options}]
    )
    SnapshotCache(plugin.parent / "cache").store(made)
    build_times(plugin, root / "report.json")
    site = plugin.parent / "site"
    built = (site / "index.html").read_text(encoding="utf-8")
    table = str(BeautifulSoup(built, "html.parser").select_one("div.taghistory"))
    # The rest of what the plugin's build writes, as files the plain site copies: what a
    # site whose tables are written in (by hand or by a nightly job) ships beside them.
    written = [site / SITE_ASSETS / name for name in ASSETS]
    written += sorted(path for path in (site / FEED_FOLDER).rglob("*") if path.is_file())
    plain = write_site(
        root / "plain",
        {"index.md": f"# Widget\n\n{table}\n"},
        {},
        plugins=["search"],
        extra_css=[f"{SITE_ASSETS}/{ASSETS[0]}"],
        extra_javascript=[{"path": f"{SITE_ASSETS}/{ASSETS[1]}", "defer": True}],
    )
    for path in written:
        copy = plain.parent / "docs" / path.relative_to(site)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    build_times(plain, root / "report.json")
    outputs = [
        sorted(
            str(path.relative_to(config.parent / "site"))
            for path in config.parent.glob("site/**/*")
        )
        for config in (plugin, plain)
    ]
    if outputs[0] != outputs[1]:
        raise SystemExit(f"the plain twin's site is not the plugin's: {outputs}")
    return plugin, plain


def _build_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)]


def _build_environment() -> dict[str, str]:
    """This environment without TAGHISTORY_OFFLINE: the plugin's build reads a fresh cache, as
    a warm build does, whatever the shell says."""
    return {name: value for name, value in os.environ.items() if name != "TAGHISTORY_OFFLINE"}


def build_times(config: Path, report: Path) -> tuple[float, float]:
    """The wall and CPU time of one ``mkdocs build`` of ``config``, as its parent sees them."""
    command = [sys.executable, "-m", "bench.launch", str(report), "--"]
    command += _build_command(config)
    completed = subprocess.run(command, cwd=ROOT, env=_build_environment(), check=False)
    if completed.returncode != 0:
        raise SystemExit(f"mkdocs build -f {config} failed")
    measured = json.loads(report.read_text(encoding="utf-8"))
    return float(measured["wall"]), float(measured["cpu"])


def import_cost() -> str:
    """The heaviest imports of a warm build's package, by ``-X importtime``."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _IMPORTS],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    rows = []
    for line in completed.stderr.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if len(parts) == 3 and parts[1].isdigit() and "mkdocs_taghistory" in parts[2]:
            rows.append((int(parts[1]), parts[2]))
    total = max(
        (cumulative for cumulative, name in rows if name == "mkdocs_taghistory.plugin"), default=0
    )
    return f"the plugin's import: {total / 1000:.1f} ms (cumulative, byte-compiled)"


def instructions(config: Path) -> int | None:
    """The instructions one ``mkdocs build`` of ``config`` runs, counted by valgrind (None
    without it): the same count every time, where wall time on a shared machine wanders by
    more than the 5 % measured."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    command = [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    command += _build_command(config)
    # A fixed hash seed: string hashing is the one thing that varies the count between runs.
    environment = {**_build_environment(), "PYTHONHASHSEED": "0"}
    completed = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    counted = re.search(r"I\s+refs:\s+([\d,]+)", completed.stderr)
    return int(counted.group(1).replace(",", "")) if counted else None


def paired_rounds(
    plugin: Path, plain: Path, runs: int, report: Path, seed: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """``runs`` rounds of one build of each site, in an order drawn at random each round,
    after three rounds of warm-up: the (wall, CPU) times of each site, a pair a round.

    A round's two builds run back to back, so the machine's slow drift (other work, its
    clock) weighs on both alike; their ratio, round by round, is what is summarised."""
    draw = random.Random(seed)
    times: dict[Path, list[tuple[float, float]]] = {plugin: [], plain: []}
    for run in range(runs + 3):
        order = [plugin, plain]
        draw.shuffle(order)
        for config in order:
            measured = build_times(config, report)
            if run >= 3:
                times[config].append(measured)
    return times[plugin], times[plain]


def median_interval(
    values: Sequence[float], seed: int, resamples: int = 2000
) -> tuple[float, float]:
    """A 95 % interval of the median of ``values``, by bootstrap (the rounds drawn again with
    replacement, ``resamples`` times): how far the median itself may be from the machine's
    true ratio, which the quartiles (the spread of single rounds) do not say."""
    if len(values) < 2:
        return values[0], values[0]
    draw = random.Random(seed)
    medians = sorted(
        statistics.median(draw.choices(values, k=len(values))) for _ in range(resamples)
    )
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def wall_verdict(interval: tuple[float, float]) -> str:
    """Met when the whole interval of the median is at most the target, missed when all of it
    is above, and "not told apart" when it holds the target: more rounds would tell."""
    low, high = interval
    if high <= TARGET:
        return "met"
    return "missed" if low > TARGET else "not told apart"


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:  # one round: its ratio is all there is
        return values[0], values[0], values[0]
    low, middle, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, middle, high


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=21, help="rounds of a build of each site")
    parser.add_argument("--tags", type=int, nargs="+", default=[40, 300], help="table sizes")
    parser.add_argument(
        "--feeds",
        choices=("on", "off", "both"),
        default="on",
        help="publish the JSON and Atom documents (the default), not, or a row each",
    )
    parser.add_argument("--seed", type=int, default=18, help="of the rounds' random order")
    parser.add_argument("--write", action="store_true", help=f"also record it in {RESULTS_PATH}")
    arguments = parser.parse_args(argv)
    # As pip leaves an installed package: byte-compiled.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "mkdocs_taghistory")], check=True
    )
    lines = [
        "| table | plugin, warm | plain | wall ratio (quartiles; 95 % interval of the median) "
        "| CPU ratio "
        f"| instructions ratio | target {TARGET}x: wall, instructions |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines))
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as temporary:
        cases = [
            (tags, feeds)
            for tags in arguments.tags
            for feeds in {"on": [True], "off": [False], "both": [True, False]}[arguments.feeds]
        ]
        for tags, feeds in cases:
            root = Path(temporary) / f"{tags}-{feeds}"
            plugin, plain = sites(root, tags, feeds=feeds)
            with_plugin, without = paired_rounds(
                plugin, plain, arguments.runs, root / "report.json", arguments.seed
            )
            ratios = [
                mine[0] / theirs[0] for mine, theirs in zip(with_plugin, without, strict=True)
            ]
            low, ratio, high = _quartiles(ratios)
            interval = median_interval(ratios, arguments.seed)
            cpu_ratio = statistics.median(
                mine[1] / theirs[1] for mine, theirs in zip(with_plugin, without, strict=True)
            )
            counts = instructions(plugin), instructions(plain)
            counted = (
                counts[0] / counts[1] if counts[0] is not None and counts[1] is not None else None
            )
            verdicts = [
                wall_verdict(interval),
                "n/a" if counted is None else "met" if counted <= TARGET else "missed",
            ]
            lines.append(
                f"| {tags} tags{'' if feeds else ', no feeds'} "
                f"| {statistics.median(wall for wall, _ in with_plugin) * 1000:.0f} ms "
                f"| {statistics.median(wall for wall, _ in without) * 1000:.0f} ms "
                f"| {ratio:.3f}x ({low:.3f}-{high:.3f}; {interval[0]:.3f}-{interval[1]:.3f}) "
                f"| {cpu_ratio:.3f}x "
                f"| {'n/a (no valgrind)' if counted is None else f'{counted:.3f}x'} "
                f"| {verdicts[0]}, {verdicts[1]} |"
            )
            print(lines[-1])
    lines += ["", import_cost()]
    print(lines[-1])
    if arguments.write:
        made = (
            f"Made by `python -m bench.warm_page {' '.join(sys.argv[1:])}` at commit "
            f"{current_commit()} on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; {arguments.runs} rounds. See the docstring of "
            "`bench/warm_page.py`."
        )
        record_section(
            "bench.warm_page",
            "\n".join(["## A warm one-page build (issue 18)", "", made, "", *lines]),
        )


if __name__ == "__main__":
    main()
