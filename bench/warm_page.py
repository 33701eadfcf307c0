"""Benchmark (issue 18): what a warm one-page build costs over the same page without the plugin.

Two sites of one page each, for a table of ``--tags`` tags (default: 40 and 300, 5 tags a
digest): the plugin's, whose table comes from a fresh cache (no request, as a site's builds
mostly are), and its plain twin, the same page with the table written in: the HTML the
plugin's build put on the page, pasted into the Markdown, so both pages are the same to every
other part of the build (the search index among them) and the difference is the plugin's. Both
have MkDocs' default ``search`` plugin, as a plain site has it; the first adds ``taghistory``.
Each is a real ``mkdocs build`` started by :mod:`bench.launch`, alternated ``--runs`` times
after a warm-up each; the package is byte-compiled first, as ``pip install`` leaves it (this
machine sets ``PYTHONDONTWRITEBYTECODE``). Printed: the medians, their ratio against the target
(1.05x), and the plugin package's import time (``-X importtime``).

No registry is needed: the cache is written from a snapshot made here.

Run from the repository root::

    .venv/bin/python -m bench.warm_page [--runs 21] [--tags 40 300] [--feeds on|off|both]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bs4 import BeautifulSoup

from bench.datasets import ROOT
from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.history import DigestFacts, Sighting, TagSnapshot, TagState
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
    built = (plugin.parent / "site" / "index.html").read_text(encoding="utf-8")
    table = str(BeautifulSoup(built, "html.parser").select_one("div.taghistory"))
    plain = write_site(
        root / "plain", {"index.md": f"# Widget\n\n{table}\n"}, {}, plugins=["search"]
    )
    return plugin, plain


def build_times(config: Path, report: Path) -> tuple[float, float]:
    """The wall and CPU time of one ``mkdocs build`` of ``config``, as its parent sees them."""
    command = [sys.executable, "-m", "bench.launch", str(report), "--"]
    command += [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)]
    environment = {
        name: value for name, value in os.environ.items() if name != "TAGHISTORY_OFFLINE"
    }
    completed = subprocess.run(command, cwd=ROOT, env=environment, check=False)
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


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=21, help="alternated builds of each site")
    parser.add_argument("--tags", type=int, nargs="+", default=[40, 300], help="table sizes")
    parser.add_argument(
        "--feeds",
        choices=("on", "off", "both"),
        default="on",
        help="publish the JSON and Atom documents (the default), not, or a row each",
    )
    arguments = parser.parse_args(argv)
    # As pip leaves an installed package: byte-compiled.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "mkdocs_taghistory")], check=True
    )
    print("| table | plugin, warm | plain | ratio | target | CPU ratio |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as temporary:
        cases = [
            (tags, feeds)
            for tags in arguments.tags
            for feeds in {"on": [True], "off": [False], "both": [True, False]}[arguments.feeds]
        ]
        for tags, feeds in cases:
            root = Path(temporary) / f"{tags}-{feeds}"
            plugin, plain = sites(root, tags, feeds=feeds)
            walls: dict[Path, list[float]] = {plugin: [], plain: []}
            cpus: dict[Path, list[float]] = {plugin: [], plain: []}
            for run in range(arguments.runs + 1):
                order = [plugin, plain] if run % 2 == 0 else [plain, plugin]
                for config in order:
                    wall, cpu = build_times(config, root / "report.json")
                    if run > 0:  # the first of each is a warm-up
                        walls[config].append(wall)
                        cpus[config].append(cpu)
            with_plugin, without = (statistics.median(walls[site]) for site in (plugin, plain))
            ratio = with_plugin / without
            cpu_ratio = statistics.median(cpus[plugin]) / statistics.median(cpus[plain])
            verdict = "met" if ratio <= TARGET else "missed"
            print(
                f"| {tags} tags{'' if feeds else ', no feeds'} "
                f"| {with_plugin * 1000:.0f} ms | {without * 1000:.0f} ms "
                f"| {ratio:.3f}x | <= {TARGET}x: {verdict} | {cpu_ratio:.3f}x |"
            )
    print(f"\n{import_cost()}")


if __name__ == "__main__":
    main()
