"""Memory stays bounded on every vendor path, whatever its listing's pages hold.

Each vendor's listing is read from a hostile loopback server (:mod:`tests.support.hostile_pages`)
that pages without end (the same records again, or twenty thousand new tags a page), sends a
page whose body never ends, or a page just under the byte cap of the smallest records JSON can
hold. Every probe must end with a clear error for the image, and the whole run's peak memory,
measured in a process of its own (``VmHWM``), stay under 200 MiB. README's Reliability figures
come from this run (``-s`` prints them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hostile_pages import MODES, HostilePages

ROOT = Path(__file__).resolve().parents[2]
HOSTED = frozenset({"dockerhub", "quay", "ghcr", "harbor"})
VENDORS = ("oci", "chainguard", "dockerhub", "quay", "ghcr", "google", "acr", "harbor", "gitlab")
PEAK_MIB = 200

# What each probe must end with; a vendor not named keeps the first entry's words.
ENDS = {
    "repeat": {"": "pages in a row without anything new", "chainguard": "4 tags"},
    "growing": {
        "": "more than 50000 tags",
        "google": "holds more than 100000 records",
        "chainguard": "runs past 20 pages",  # the history of whichever tag ends first
    },
    "oversized": {
        "": "exceeds the 4096 KiB",
        "oci": "exceeds the 16384 KiB",
        "google": "exceeds the 16384 KiB",
        "chainguard": "exceeds the 1024 KiB",
    },
    "dense": {"": "holds more than 500000 JSON items; not read"},
}


@pytest.fixture(scope="module")
def pages() -> Iterator[HostilePages]:
    with HostilePages() as running:
        yield running


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_path_stays_small_under_endless_and_oversized_pages(
    pages: HostilePages, vendor: str
) -> None:
    pages.vendor = vendor
    url = pages.url if vendor in HOSTED else ""
    completed = subprocess.run(
        [sys.executable, "-m", "tests.support.memory_probe", vendor, pages.host, url, *MODES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.splitlines()[-1])
    for mode in MODES:
        expected = ENDS[mode].get(vendor, ENDS[mode][""])
        assert expected in report["results"][mode], (mode, report["results"][mode])
    print(f"{vendor}: peak RSS {report['peak_mib']:.0f} MiB")  # for README's figures
    assert report["peak_mib"] < PEAK_MIB, report
