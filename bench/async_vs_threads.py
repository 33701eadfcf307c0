"""Benchmark: httpx.AsyncClient vs httpx.Client on threads, for reading manifest digests.

Question: to read one digest per tag from a registry, does ``httpx.AsyncClient`` (one
``asyncio.gather`` bounded by ``asyncio.Semaphore(16)``) or the sync ``httpx.Client`` on a
``ThreadPoolExecutor(max_workers=16)`` use less CPU and less wall time?

Setup: Debian's ``docker-registry`` on loopback, in a temporary directory, seeded with
``acme/widget``: 72 multi-arch digests x 5 tags = 360 tags.

One round of a variant: create one client (``max_connections=16``, keep-alive 16), send one
``GET /v2/acme/widget/tags/list``, then one ``HEAD /v2/acme/widget/manifests/<tag>`` per tag,
collect the ``Docker-Content-Digest`` headers, close the client. Each round is checked: every
tag's digest must equal the one that was pushed, or the script stops with an error. A round is
timed as a whole, including creating and closing the client and the event loop (async) or the
thread pool (threads), so both variants pay for their own machinery.

Measured per round: wall time (``time.perf_counter``), this process's CPU time, all threads
(``time.process_time``), and the registry process's CPU time (utime + stime from
``/proc/<pid>/stat``, in clock ticks, so 10 ms resolution). Each variant first runs one untimed
warm-up round; the timed rounds then alternate between the variants, so drift in the machine's
load affects both alike. The table shows medians, min-max spreads and async/threads ratios.

Run from the repository root::

    .venv/bin/python -m bench.async_vs_threads [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.util
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import seed_image

REPOSITORY = "acme/widget"
DIGESTS = 72
TAGS_PER_DIGEST = 5
CONCURRENCY = 16
ACCEPT = (
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json"
)
LIMITS = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)

Digests = dict[str, str]


def tag_list(body: object) -> list[str]:
    """The tags of a ``tags/list`` answer; an error when it is not one."""
    tags = body.get("tags") if isinstance(body, dict) else None
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise RuntimeError(f"unexpected tag list: {body!r:.200}")
    return tags


def digest_of(response: httpx.Response) -> tuple[str, str]:
    """``(tag, digest)`` from a manifest HEAD answer; an error for anything but a 200."""
    response.raise_for_status()
    return response.url.path.rsplit("/", 1)[1], response.headers["Docker-Content-Digest"]


def run_threads(base_url: str) -> Digests:
    """One round with the sync client, HEADs spread over a thread pool."""
    with httpx.Client(base_url=base_url, limits=LIMITS, timeout=30) as client:
        listing = client.get(f"/v2/{REPOSITORY}/tags/list")
        listing.raise_for_status()

        def head(tag: str) -> tuple[str, str]:
            return digest_of(
                client.head(f"/v2/{REPOSITORY}/manifests/{tag}", headers={"Accept": ACCEPT})
            )

        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            return dict(pool.map(head, tag_list(listing.json())))


async def _async_round(base_url: str) -> Digests:
    async with httpx.AsyncClient(base_url=base_url, limits=LIMITS, timeout=30) as client:
        listing = await client.get(f"/v2/{REPOSITORY}/tags/list")
        listing.raise_for_status()
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def head(tag: str) -> tuple[str, str]:
            async with semaphore:
                return digest_of(
                    await client.head(
                        f"/v2/{REPOSITORY}/manifests/{tag}", headers={"Accept": ACCEPT}
                    )
                )

        return dict(await asyncio.gather(*(head(tag) for tag in tag_list(listing.json()))))


def run_async(base_url: str) -> Digests:
    """One round with the async client, in a fresh event loop."""
    return asyncio.run(_async_round(base_url))


def registry_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Samples:
    """Per-round measurements of one variant, in milliseconds."""

    wall: list[float]
    cpu: list[float]
    registry_cpu: list[float]


def measure(
    run: Callable[[str], Digests],
    server: RegistryServer,
    expected: Digests,
    samples: Samples | None,
) -> None:
    """Run one round, check its digests, and add its timings to ``samples`` unless None."""
    if server.process is None:
        raise RuntimeError("the registry is not running")
    pid = server.process.pid
    registry_before = registry_cpu_seconds(pid)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    digests = run(server.url)
    wall, cpu = time.perf_counter() - wall_before, time.process_time() - cpu_before
    registry = registry_cpu_seconds(pid) - registry_before
    if digests != expected:
        wrong = sorted(
            tag for tag in expected.keys() | digests.keys() if digests.get(tag) != expected.get(tag)
        )
        raise SystemExit(
            f"{run.__name__}: {len(wrong)} of {len(expected)} tags have the wrong "
            f"or no digest, e.g. {wrong[:5]}"
        )
    if samples is not None:
        samples.wall.append(wall * 1000)
        samples.cpu.append(cpu * 1000)
        samples.registry_cpu.append(registry * 1000)


def spread(values: list[float]) -> str:
    """``min-max`` of a sample, in whole milliseconds."""
    return f"{min(values):.0f}-{max(values):.0f}"


def versions() -> str:
    """The HTTP stack's versions; a missing sniffio makes httpcore retry its import per request."""
    found = [
        f"{name} {importlib.metadata.version(name)}" for name in ("httpx", "httpcore", "anyio")
    ]
    sniffio = "installed" if importlib.util.find_spec("sniffio") else "not installed"
    return ", ".join([*found, f"sniffio {sniffio}"])


def main() -> None:
    """Start and seed a registry, run both variants, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per variant")
    rounds = parser.parse_args().rounds
    variants: dict[str, Callable[[str], Digests]] = {"async": run_async, "threads": run_threads}
    results = {name: Samples([], [], []) for name in variants}

    with tempfile.TemporaryDirectory(prefix="bench-registry-") as root:
        server = RegistryServer(Path(root), free_port()).start()
        try:
            pushed = seed_image(
                server.url, REPOSITORY, digests=DIGESTS, tags_per_digest=TAGS_PER_DIGEST
            )
            expected = {tag: image.digest for image in pushed for tag in image.tags}
            for run in variants.values():
                measure(run, server, expected, None)  # warm-up: imports, first connections
            for _ in range(rounds):
                for name, run in variants.items():
                    measure(run, server, expected, results[name])
        finally:
            server.stop()

    print(
        f"{len(expected)} tags, {rounds} rounds per variant, concurrency {CONCURRENCY}, "
        f"{os.cpu_count()} CPUs; times in ms (median, min-max)"
    )
    print(versions())
    header = ("variant", "wall", "wall range", "CPU", "CPU range", "registry CPU", "reg. range")
    print("{:<8} {:>7} {:>11} {:>7} {:>11} {:>12} {:>11}".format(*header))
    for name, samples in results.items():
        print(
            f"{name:<8} {statistics.median(samples.wall):>7.0f} {spread(samples.wall):>11} "
            f"{statistics.median(samples.cpu):>7.0f} {spread(samples.cpu):>11} "
            f"{statistics.median(samples.registry_cpu):>12.0f} "
            f"{spread(samples.registry_cpu):>11}"
        )
    async_, threads = results["async"], results["threads"]
    wall_ratio = statistics.median(async_.wall) / statistics.median(threads.wall)
    cpu_ratio = statistics.median(async_.cpu) / statistics.median(threads.cpu)
    print(f"async/threads (medians): wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f}")


if __name__ == "__main__":
    main()
