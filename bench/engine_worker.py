"""A process that fetches images with whichever ``mkdocs_taghistory`` its ``PYTHONPATH`` holds.

:mod:`bench.engine` runs one of these per engine (this checkout's, and an earlier commit's
checked out into a scratch folder), so both are measured by the same code in the same run,
each in a process of its own, where CPU time is its own.

It reads one JSON command a line on stdin and answers one JSON line on stdout:

``{"images": [...], "concurrency": N, "http2": bool, "ca_file": PATH, "tls_host": HOST}``
    fetch the images cold (a new client, no earlier fetch); answer ``wall``, ``cpu`` (this
    process's user + system seconds, every thread), ``requests``, ``retries``,
    ``connections``, ``failed`` (images whose fetch failed), ``first_failure``, and
    ``digests`` (tag -> digest of the first image, to check against what was pushed).

The first line it prints, before any command, is ``{"package": PATH}``: where the package it
imported lives, so the caller can check it measures the engine it meant.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import mkdocs_taghistory
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient
from mkdocs_taghistory.settings import HostTls, TlsSettings


def fetch(command: dict[str, Any]) -> dict[str, Any]:
    """One cold fetch as ``command`` asks; what it cost and found."""
    tls = TlsSettings({command["tls_host"]: HostTls(ca_file=Path(command["ca_file"]))}, ())
    settings = ClientSettings(
        concurrency=command["concurrency"], http2=command["http2"], tls=tls, retries=3
    )
    references = [parse_reference(image) for image in command["images"]]
    cpu = time.process_time()
    started = time.perf_counter()
    client: Any = RegistryClient(settings)
    if hasattr(client, "__enter__"):  # the threads engine has pools to close
        with client:
            results = client.fetch_many(references)
    else:
        results = client.fetch_many(references)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    counters: Any = getattr(client, "counters", None)
    http: Any = getattr(client, "http", None)
    failed = [result for result in results.values() if not isinstance(result, TagSnapshot)]
    first = results[references[0]]
    return {
        "wall": wall,
        "cpu": cpu,
        "requests": client.requests_sent,
        "retries": counters.retries if counters is not None else http.retries,
        "connections": (counters.connections if counters is not None else http.connections_opened),
        "failed": len(failed),
        "first_failure": str(failed[0]) if failed else None,
        "digests": (
            {tag: state.digest for tag, state in first.tags.items()}
            if isinstance(first, TagSnapshot)
            else {}
        ),
    }


def main() -> None:
    """Answer commands until stdin ends."""
    print(json.dumps({"package": str(Path(mkdocs_taghistory.__file__).parent)}), flush=True)
    for line in sys.stdin:
        print(json.dumps(fetch(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
