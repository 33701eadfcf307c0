"""Run in a process of its own: fetch hostile listings through one vendor's path, then print
what each fetch gave and the process's peak memory, as one line of JSON.

A process of its own, so that its peak (``VmHWM``) is this fetch's alone, whatever the test
process held before; and tests stay independent of one another.

    python -m tests.support.memory_probe VENDOR HOST URL MODE [MODE ...]

``URL`` is where the vendor's API answers ("" for an API on the registry itself); each
``MODE`` is read from ``HOST/probe/MODE`` (see :mod:`tests.support.hostile_pages`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient, VendorSetting
from mkdocs_taghistory.settings import Credentials


def peak_mib() -> float:
    """The peak resident memory of this process so far (``VmHWM``), in MiB."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(argv: list[str]) -> int:
    vendor, host, url, *modes = argv
    settings = ClientSettings(
        vendors={host: VendorSetting(vendor, url or None)},
        retries=0,
        timeout=60,
        # The GitHub API is asked only with a token; the others anonymously.
        credentials={host: Credentials("probe", "probe-token")} if vendor == "ghcr" else None,
    )
    results = {}
    for mode in modes:
        reference = parse_reference(f"{host}/probe/{mode}")
        result = RegistryClient(settings).fetch_many([reference])[reference]
        results[mode] = (
            result.reason if isinstance(result, RegistryError) else f"{len(result.tags)} tags"
        )
    print(json.dumps({"results": results, "peak_mib": round(peak_mib(), 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
