"""Benchmark (issues 6 and 9): the plugin's fetches and builds against baselines run beside them.

Everything runs on loopback: Debian's ``docker-registry`` (temporary storage, a free port) and,
in front of it, :mod:`bench.latency_proxy` as a process of its own, which adds a fixed
round-trip time (RTT) to every exchange and to every new connection, and counts connections.
As public registries do, the registry speaks TLS (a CA made for the run, trusted through the
plugin's ``tls`` option), and Go offers HTTP/2 by ALPN; a second registry process serves the
same storage over plain HTTP behind a proxy of its own, for the second row of each fetch.

Datasets, seeded through the OCI push API (:mod:`tests.support.seeding`):

S
    one image, ``acme/widget``: 300 tags over 60 multi-arch digests (5 tags a digest; every
    third index carries its creation time as an annotation, the others leave it to the
    config of their first platform image).
L
    a site of 200 pages, ``docs/pNNN.md``, each with one directive for its own image
    ``bench/imageNNN``: 50 tags over 10 digests. Seeded from a thread pool.

Measured ``--repeat`` times each (median and min-max spread):

1. Cold fetch of S through the proxy at each ``--rtt-ms``: the plugin's ``RegistryClient``
   (``fetch_many``, concurrency 16, no cache) over TLS with HTTP/1.1 (the default), beside the
   same over TLS with HTTP/2 (the ``http2`` option) and over plain HTTP; against (a) a naive
   sequential httpx script
   (``GET tags/list``, then one ``HEAD`` per tag on one keep-alive connection: what one would
   write in a mkdocs-macros hook), over TLS too, and (b) skopeo (``skopeo list-tags`` plus one
   ``skopeo inspect --raw`` per tag: the nightly-generator way; ``--skopeo-tags`` of them are
   timed and the rest extrapolated linearly, which the table says; ``--no-creds`` keeps it
   from reading the machine's credentials, ``--cert-dir`` trusts the run's CA). The lower
   bound is the measured RTT (median of ``GET /v2/`` on an open connection) times the round
   trips on the critical path at concurrency C: 1 (tag list) + ceil(tags / C) (HEADs) +
   ceil(digests / C) x 3 (index, platform manifest, config) + 1 (opening connections) + 1
   (the TLS 1.3 handshake). Requests, retries and connections of the plugin are its client's
   own counts (a proxy cannot see requests inside TLS). The same fetch straight against the
   registry, without the proxy, shows the CPU floor on its own.
2. Warm build of L (cache fresh): ``mkdocs build`` with the plugin against the same site with
   the tables already written into the pages as Markdown and no plugin.
3. Cold build of L through the proxy (cache folder deleted first), over TLS, then over plain
   HTTP, with the requests per image the plugin counted.
4. Offline build of L (``TAGHISTORY_OFFLINE=1``, cache filled): connections at the proxy.
5. Peak memory (``ru_maxrss`` of each ``mkdocs build``, from ``os.wait4``; the builds are
   started by :mod:`bench.launch`, since Linux would carry this process's own peak over into a
   child it forks).

The plugin's L builds name their images by the proxy's address, so cold, warm and offline
builds share one cache; the proxy stays up throughout and its counters are reset before each
measurement. They run at ``--l-rtt-ms`` (default: 50 ms when ``--rtt-ms`` lists it, else the
first RTT listed).

The targets are printed as "met" or "missed", never asserted: cold S within 1.2x the lower
bound and at least 20x faster than skopeo; warm L at most 1.10x the plain build; offline L
zero connections.

Run from the repository root::

    .venv/bin/python -m bench.run                     # RTT 50 ms, 3 repeats: several minutes
    .venv/bin/python -m bench.run --rtt-ms 20 50 100  # dataset S at each RTT
    .venv/bin/python -m bench.run --write             # also write bench/RESULTS.md

Progress goes to stderr; the results (a Markdown table, then where the time went) to stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import itertools
import json
import math
import os
import platform
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench.async_vs_threads import ACCEPT, registry_cpu_seconds
from bench.latency_proxy import ProxyProcess, ProxyStats
from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.history import TagSnapshot, group_by_digest
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient
from mkdocs_taghistory.registry.tls import HostTls, TlsSettings
from mkdocs_taghistory.render import markdown_table
from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import PushedImage, seed_image
from tests.support.site import write_site
from tests.support.tls import CertificateAuthority

S_REPOSITORY = "acme/widget"
L_NAMESPACE = "bench"
TAGS_PER_DIGEST = 5
DEFAULT_RTT_MS = 50.0
ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = ROOT / "bench" / "RESULTS.md"
SEED_THREADS = 8
# --no-creds: the benchmark reads no credentials of the machine, and the registry needs none.
SKOPEO_FLAGS = ("--no-creds",)
SUMMARY = re.compile(
    r"Tag history of (?P<images>\d+) images, (?P<tags>\d+) tags, (?P<requests>\d+) requests, "
    r"(?P<cached>\d+) from the cache, (?P<failed>\d+) failed, in (?P<seconds>[0-9.]+) s"
)

# The targets of issues 6 and 9.
BOUND_TARGET = 1.2
SKOPEO_TARGET = 20.0
WARM_TARGET = 1.10

Digests = dict[str, str]


# --- samples and the table -------------------------------------------------------------------


@dataclass
class Series:
    """Repeated measurements of one quantity."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        """Record one measurement."""
        self.values.append(value)

    @property
    def median(self) -> float:
        """The median, or NaN before the first measurement."""
        return statistics.median(self.values) if self.values else math.nan

    def spread(self, unit: Callable[[float], str]) -> str:
        """``min-max`` written with ``unit``."""
        return f"{unit(min(self.values))}-{unit(max(self.values))}" if self.values else ""


def seconds(value: float) -> str:
    """Seconds with a precision that suits their size."""
    return f"{value:.3f} s" if value < 1 else f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def mebibytes(value: float) -> str:
    """A size in MiB."""
    return f"{value:.0f} MiB"


def verdict(met: bool) -> str:
    """How a target is reported."""
    return "met" if met else "missed"


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    label: str
    median: str
    spread: str = ""
    ratio: str = ""
    target: str = ""
    notes: str = ""


def series_row(
    label: str,
    series: Series,
    unit: Callable[[float], str] = seconds,
    *,
    ratio: str = "",
    target: str = "",
    notes: str = "",
) -> Row:
    """A row for a measured quantity: its median and spread."""
    return Row(label, unit(series.median), series.spread(unit), ratio, target, notes)


def markdown_rows(rows: Sequence[Row]) -> str:
    """The rows as a padded Markdown table, readable as text too."""
    header = ("measurement", "median", "min-max", "ratio", "target", "notes")
    cells = [header] + [
        (row.label, row.median, row.spread, row.ratio, row.target, row.notes) for row in rows
    ]
    widths = [max(len(line[index]) for line in cells) for index in range(len(header))]
    lines = [
        "| "
        + " | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True))
        + " |"
        for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def progress(message: str) -> None:
    """A progress line on stderr, so stdout holds only the results."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the environment -------------------------------------------------------------------------


def loopback_only_environment(docker_config: Path) -> dict[str, str]:
    """This process's environment without proxy settings, so no request can leave loopback.

    ``DOCKER_CONFIG`` points at an empty folder, so no build reads the machine's credentials.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy") and name != "TAGHISTORY_OFFLINE"
    }
    environment["DOCKER_CONFIG"] = str(docker_config)
    return environment


@dataclass(frozen=True)
class Endpoint:
    """One registry process and the latency proxy in front of it."""

    registry: RegistryServer
    proxy: ProxyProcess
    ca_file: Path | None = None
    """The CA of the registry's certificate; None for plain HTTP."""

    def client_settings(self, concurrency: int, *, http2: bool = False) -> ClientSettings:
        """The plugin's settings for this endpoint: TLS through the ``tls`` option."""
        return ClientSettings(
            concurrency=concurrency, http2=http2, tls=TlsSettings(self.tls_entries(), ())
        )

    def tls_entries(self) -> dict[str, HostTls]:
        """The ``tls`` option's entries that make the proxy's address speak HTTPS."""
        return {self.proxy.host: HostTls(ca_file=self.ca_file)} if self.ca_file else {}

    def verify(self) -> ssl.SSLContext | bool:
        """``verify`` for a plain httpx client of the proxy."""
        return ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else True

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"{'https' if self.ca_file else 'http'}://{self.proxy.host}"


@dataclass(frozen=True)
class Servers:
    """The TLS registry and the plain-HTTP one (same storage), each behind its proxy."""

    tls: Endpoint
    plain: Endpoint

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by the registries and by the proxies."""
        registries = proxies = 0.0
        for endpoint in (self.tls, self.plain):
            if endpoint.registry.process is None:
                raise RuntimeError("a registry is not running")
            registries += registry_cpu_seconds(endpoint.registry.process.pid)
            proxies += registry_cpu_seconds(endpoint.proxy.process.pid)
        return registries, proxies

    def set_rtt(self, rtt_ms: float) -> None:
        """The same RTT at both proxies."""
        self.tls.proxy.set_rtt(rtt_ms)
        self.plain.proxy.set_rtt(rtt_ms)


@contextmanager
def cpu_of(servers: Servers, into: dict[str, Series]) -> Iterator[None]:
    """Add the registry's and the proxy's CPU seconds during the block to ``into``."""
    registry_before, proxy_before = servers.cpu()
    yield
    registry_after, proxy_after = servers.cpu()
    into.setdefault("registry CPU", Series()).add(registry_after - registry_before)
    into.setdefault("proxy CPU", Series()).add(proxy_after - proxy_before)


def round_trips(tags: int, digests: int, concurrency: int) -> int:
    """Round trips on the critical path of a cold fetch over TLS at ``concurrency``.

    The tag list, the HEADs in waves of ``concurrency``, each wave of new digests needing up to
    three sequential requests (index, platform manifest, config), one to open connections and
    one for the TLS 1.3 handshake.
    """
    return 1 + math.ceil(tags / concurrency) + math.ceil(digests / concurrency) * 3 + 1 + 1


def fewest_requests(digests: int) -> int:
    """The requests a cold generic fetch of one seeded image needs at the least.

    Its tag list, a HEAD per tag, one GET for each annotated index (every third, as seeded) and
    three for the others (index, platform manifest, config).
    """
    annotated = len(range(0, digests, 3))
    return 1 + digests * TAGS_PER_DIGEST + annotated + 3 * (digests - annotated)


# --- dataset S: one fetch, three ways --------------------------------------------------------


@dataclass
class FetchSeries:
    """The plugin's fetch of S, repeated."""

    wall: Series = field(default_factory=Series)
    stages: dict[str, Series] = field(default_factory=dict)
    cpu: dict[str, Series] = field(default_factory=dict)
    requests: Series = field(default_factory=Series)
    retries: Series = field(default_factory=Series)
    connections: Series = field(default_factory=Series)
    failures: list[str] = field(default_factory=list)
    """Fetches that failed (only where failure is measured rather than fatal: HTTP/2)."""

    def notes(self, concurrency: int) -> str:
        """Requests, retries and connections, as the client counted them."""
        failed = (
            f"; {len(self.failures)} of {len(self.failures) + len(self.wall.values)} fetches "
            f"FAILED ({self.failures[0]})"
            if self.failures
            else ""
        )
        return (
            f"{self.requests.median:.0f} requests, {self.retries.median:.0f} retries "
            f"(max {max(self.retries.values):.0f}), {self.connections.median:.0f} connections, "
            f"concurrency {concurrency}{failed}"
        )


def plugin_fetch(
    host: str,
    settings: ClientSettings,
    expected: Digests,
    into: FetchSeries,
    *,
    may_fail: bool = False,
) -> None:
    """One cold fetch of S with the plugin's client; its digests are checked.

    With ``may_fail``, a failed fetch is counted (and its time left out) instead of ending
    the run.
    """
    reference = parse_reference(f"{host}/{S_REPOSITORY}")
    # The client reports each finished job from one thread, in submission order: the last
    # report of a stage is when its last job finished.
    stage_ends: dict[str, float] = {}

    def record(stage: str, done: int, total: int) -> None:
        stage_ends[stage] = time.perf_counter()

    cpu_before = time.process_time()
    started = time.perf_counter()
    with RegistryClient(settings, progress=record) as client:
        # Apart from the stages: making the client (its pools) costs CPU that no round trip
        # explains. (The TLS context is made on the first request, in the first stage.)
        stage_ends["client setup"] = time.perf_counter()
        result = client.fetch_many([reference])[reference]
        requests = client.requests_sent
        into.retries.add(client.http.retries)
        into.connections.add(client.http.connections_opened)
    ended = time.perf_counter()
    if may_fail and not isinstance(result, TagSnapshot):
        into.failures.append(result.reason)
        return
    into.wall.add(ended - started)
    into.cpu.setdefault("client CPU", Series()).add(time.process_time() - cpu_before)
    into.requests.add(requests)
    # Each stage from the end of the one before; "closing" is the snapshot and the pools' end.
    # ("client setup" is the first key: it is set before any stage reports.)
    boundaries = [started, *stage_ends.values(), ended]
    for stage, (begin, end) in zip(
        [*stage_ends, "closing"], itertools.pairwise(boundaries), strict=True
    ):
        into.stages.setdefault(stage, Series()).add(end - begin)
    if not isinstance(result, TagSnapshot):
        raise SystemExit(f"the plugin's fetch of S failed: {result}")
    found = {tag: state.digest for tag, state in result.tags.items()}
    untimed = [tag for tag, state in result.tags.items() if state.changed is None]
    if found != expected or untimed:
        raise SystemExit(f"the plugin's fetch of S is wrong: {len(untimed)} tags without time")


def naive_fetch(endpoint: Endpoint, expected: Digests) -> float:
    """One fetch of S as a hand-written sequential script would do it; returns seconds.

    It gets the benefit of the doubt: one keep-alive connection, no creation times.
    """
    started = time.perf_counter()
    with httpx.Client(
        base_url=endpoint.url, timeout=30, trust_env=False, verify=endpoint.verify()
    ) as client:
        listing = client.get(f"/v2/{S_REPOSITORY}/tags/list")
        listing.raise_for_status()
        found = {}
        for tag in listing.json()["tags"]:
            head = client.head(f"/v2/{S_REPOSITORY}/manifests/{tag}", headers={"Accept": ACCEPT})
            head.raise_for_status()
            found[tag] = head.headers["Docker-Content-Digest"]
    elapsed = time.perf_counter() - started
    if found != expected:
        raise SystemExit("the naive fetch of S found other digests than were pushed")
    return elapsed


@dataclass
class SkopeoSeries:
    """The skopeo loop over S, repeated (its per-tag part sampled)."""

    total: Series = field(default_factory=Series)
    listing: Series = field(default_factory=Series)
    per_tag: Series = field(default_factory=Series)
    timed_tags: int = 0
    all_tags: int = 0
    list_traffic: ProxyStats | None = None
    inspect_traffic: ProxyStats | None = None


def skopeo(environment: dict[str, str], *arguments: str) -> bytes:
    """Run skopeo; its stdout, or an error with its stderr."""
    completed = subprocess.run(
        ["skopeo", *arguments], capture_output=True, env=environment, timeout=120, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"skopeo {' '.join(arguments)} failed: {completed.stderr.decode()}")
    return completed.stdout


def skopeo_fetch(
    endpoint: Endpoint,
    expected: Digests,
    sample: int,
    environment: dict[str, str],
    into: SkopeoSeries,
) -> None:
    """The skopeo loop: list the tags, then inspect a sample of them, timing each call."""
    proxy = endpoint.proxy
    image = f"docker://{proxy.host}/{S_REPOSITORY}"
    if endpoint.ca_file is None:
        flags: tuple[str, ...] = (*SKOPEO_FLAGS, "--tls-verify=false")
    else:
        # skopeo trusts the *.crt of --cert-dir, as Docker's certs.d.
        flags = (*SKOPEO_FLAGS, "--cert-dir", str(endpoint.ca_file.parent / "skopeo-certs"))
    proxy.reset()
    started = time.perf_counter()
    listing = json.loads(skopeo(environment, "list-tags", *flags, image))
    list_seconds = time.perf_counter() - started
    into.list_traffic = proxy.reset()
    tags = sorted(listing["Tags"])
    if set(tags) != set(expected):
        raise SystemExit("skopeo list-tags found other tags than were pushed")
    # Evenly spread over the sorted list, so old and new digests are both in the sample.
    chosen = [tags[index * len(tags) // sample] for index in range(min(sample, len(tags)))]
    timings = []
    for tag in chosen:
        started = time.perf_counter()
        raw = skopeo(environment, "inspect", "--raw", *flags, f"{image}:{tag}")
        timings.append(time.perf_counter() - started)
        if "sha256:" + hashlib.sha256(raw).hexdigest() != expected[tag]:
            raise SystemExit(f"skopeo inspect --raw of {tag} gave other bytes than were pushed")
    traffic = proxy.reset()
    into.inspect_traffic = ProxyStats(
        connections=traffic.connections // len(chosen),
        requests=traffic.requests // len(chosen),
        methods={},
        bytes_up=traffic.bytes_up // len(chosen),
        bytes_down=traffic.bytes_down // len(chosen),
        rtt_ms=traffic.rtt_ms,
    )
    into.listing.add(list_seconds)
    into.per_tag.add(statistics.fmean(timings))
    into.total.add(list_seconds + statistics.fmean(timings) * len(tags))
    into.timed_tags, into.all_tags = len(chosen), len(tags)


def measure_rtt(endpoint: Endpoint, samples: int) -> list[float]:
    """Seconds of ``samples`` single small requests on an open connection."""
    timings = []
    with httpx.Client(
        base_url=endpoint.url, timeout=30, trust_env=False, verify=endpoint.verify()
    ) as client:
        client.get("/v2/").raise_for_status()  # opens the connection, whose handshake is apart
        for _ in range(samples):
            started = time.perf_counter()
            client.get("/v2/").raise_for_status()
            timings.append(time.perf_counter() - started)
    return timings


@dataclass
class AtRtt:
    """Everything measured on S at one RTT."""

    rtt_ms: float
    measured_rtt: Series = field(default_factory=Series)
    plugin: FetchSeries = field(default_factory=FetchSeries)
    plugin_http2: FetchSeries = field(default_factory=FetchSeries)
    plugin_plain: FetchSeries = field(default_factory=FetchSeries)
    naive: Series = field(default_factory=Series)
    skopeo: SkopeoSeries = field(default_factory=SkopeoSeries)


def measure_s(
    servers: Servers,
    at: AtRtt,
    expected: Digests,
    arguments: argparse.Namespace,
    environment: dict[str, str],
) -> None:
    """One repeat of every S measurement at one RTT."""
    servers.set_rtt(at.rtt_ms)
    tls, plain, concurrency = servers.tls, servers.plain, arguments.concurrency
    for timing in measure_rtt(tls, arguments.rtt_samples):
        at.measured_rtt.add(timing)
    fetches = [
        (tls, tls.client_settings(concurrency), at.plugin),
        (tls, tls.client_settings(concurrency, http2=True), at.plugin_http2),
        (plain, plain.client_settings(concurrency), at.plugin_plain),
    ]
    http2_before = len(at.plugin_http2.wall.values)
    for endpoint, settings, series in fetches:
        with cpu_of(servers, series.cpu):
            plugin_fetch(endpoint.proxy.host, settings, expected, series, may_fail=settings.http2)
    http2_done = len(at.plugin_http2.wall.values) > http2_before
    at.naive.add(naive_fetch(tls, expected))
    skopeo_fetch(tls, expected, arguments.skopeo_tags, environment, at.skopeo)
    progress(
        f"S at RTT {at.rtt_ms:g} ms: plugin {seconds(at.plugin.wall.values[-1])} "
        f"(HTTP/2 {seconds(at.plugin_http2.wall.values[-1]) if http2_done else 'failed'}, "
        f"{at.plugin_http2.retries.values[-1]:.0f} retries; plain HTTP "
        f"{seconds(at.plugin_plain.wall.values[-1])}), "
        f"naive {seconds(at.naive.values[-1])}, skopeo {seconds(at.skopeo.total.values[-1])}"
        + (
            f" (extrapolated from {at.skopeo.timed_tags} tags)"
            if at.skopeo.timed_tags < at.skopeo.all_tags
            else ""
        )
    )


# --- dataset L: site builds ------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    """One finished ``mkdocs build``."""

    wall: float
    cpu: float
    max_rss_mib: float
    fetch_seconds: float | None
    plugin_requests: int | None


@dataclass
class BuildSeries:
    """One kind of build, repeated."""

    wall: Series = field(default_factory=Series)
    cpu: Series = field(default_factory=Series)
    rss: Series = field(default_factory=Series)
    fetch_seconds: Series = field(default_factory=Series)
    plugin_requests: Series = field(default_factory=Series)
    proxy_requests: Series = field(default_factory=Series)
    proxy_connections: Series = field(default_factory=Series)
    servers_cpu: dict[str, Series] = field(default_factory=dict)

    def add(self, build: Build, traffic: ProxyStats) -> None:
        """Record a build and what the proxy saw during it."""
        self.wall.add(build.wall)
        self.cpu.add(build.cpu)
        self.rss.add(build.max_rss_mib)
        if build.fetch_seconds is not None:
            self.fetch_seconds.add(build.fetch_seconds)
        if build.plugin_requests is not None:
            self.plugin_requests.add(build.plugin_requests)
        self.proxy_requests.add(traffic.requests)
        self.proxy_connections.add(traffic.connections)


def mkdocs_build(
    config: Path, log: Path, environment: dict[str, str], *, offline: bool = False
) -> Build:
    """A real ``mkdocs build`` in a child process: its time, CPU and peak RSS, from ``wait4``.

    The build is started by :mod:`bench.launch`, a small process that waits for it with
    ``os.wait4``: forked from this process, the build's ``ru_maxrss`` would start from this
    process's own peak (Linux carries it over ``exec``) and say nothing about the build.
    """
    if offline:
        environment = {**environment, "TAGHISTORY_OFFLINE": "1"}
    report = log.with_suffix(".json")
    command = [sys.executable, "-m", "bench.launch", str(report), "--"]
    command += [sys.executable, "-m", "mkdocs", "build", "-f", str(config)]
    command += ["-d", str(config.parent / "site")]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment, cwd=ROOT
        )
        _, status, _ = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    text = log.read_text(encoding="utf-8", errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"mkdocs build -f {config} failed:\n{text[-4000:]}")
    summary = SUMMARY.search(text)
    if summary is not None and summary["failed"] != "0":
        raise SystemExit(f"mkdocs build -f {config}: images failed:\n{text[-4000:]}")
    measured = json.loads(report.read_text(encoding="utf-8"))
    return Build(
        wall=measured["wall"],
        cpu=measured["cpu"],
        max_rss_mib=measured["max_rss_kib"] / 1024,
        fetch_seconds=float(summary["seconds"]) if summary else None,
        plugin_requests=int(summary["requests"]) if summary else None,
    )


def page_name(number: int) -> str:
    """The file of page ``number``."""
    return f"p{number:03d}.md"


def image_of(host: str, number: int) -> str:
    """The image of page ``number`` on ``host``."""
    return f"{host}/{L_NAMESPACE}/image{number:03d}"


def seed_site_images(registry_url: str, pages: int, digests: int) -> None:
    """Push one image per page, several at once: the registry has cores to spare."""

    def seed(number: int) -> list[PushedImage]:
        repository = image_of("", number).lstrip("/")
        return seed_image(registry_url, repository, digests=digests, tags_per_digest=5)

    with ThreadPoolExecutor(max_workers=SEED_THREADS) as pool:
        for pushed in pool.map(seed, range(pages)):
            if len(pushed) != digests:
                raise SystemExit("seeding L pushed fewer digests than asked")


def write_plain_pages(docs: Path, cache: Path, host: str, pages: int) -> None:
    """Each page with its table written in as Markdown, from the snapshot in ``cache``."""
    snapshots = SnapshotCache(cache)
    for number in range(pages):
        image = image_of(host, number)
        snapshot = snapshots.load(image)
        if snapshot is None:
            raise SystemExit(f"no cached snapshot of {image} to write the plain site from")
        table = markdown_table(image, group_by_digest(snapshot))
        (docs / page_name(number)).write_text(f"# Image {number:03d}\n\n{table}\n", "utf-8")


@dataclass
class SiteResults:
    """Every L measurement."""

    rtt_ms: float
    cold: BuildSeries = field(default_factory=BuildSeries)
    cold_plain: BuildSeries = field(default_factory=BuildSeries)
    warm: BuildSeries = field(default_factory=BuildSeries)
    plain: BuildSeries = field(default_factory=BuildSeries)
    offline: BuildSeries = field(default_factory=BuildSeries)


def measure_l(
    servers: Servers,
    root: Path,
    arguments: argparse.Namespace,
    environment: dict[str, str],
) -> SiteResults:
    """Every L build, ``--repeat`` times: cold (TLS, then plain HTTP), warm and plain
    (alternating), offline."""
    results = SiteResults(arguments.l_rtt_ms)
    servers.set_rtt(results.rtt_ms)

    def plugin_site(name: str, endpoint: Endpoint) -> Path:
        host = endpoint.proxy.host
        pages = {
            page_name(number): (
                f'# Image {number:03d}\n\n<< tag_history "{image_of(host, number)}" >>\n'
            )
            for number in range(arguments.pages)
        }
        tls = {
            entry_host: {"ca_file": str(entry.ca_file)}
            for entry_host, entry in endpoint.tls_entries().items()
        }
        options = {"cache_dir": "cache", "retries": 0, "tls": tls, "certs_dirs": []}
        return write_site(root / name, pages, options)

    tls = servers.tls
    plugin_config = plugin_site("plugin", tls)
    plugin_plain_config = plugin_site("plugin-plain", servers.plain)
    plain_config = write_site(root / "plain", {}, {}, plugins=[])
    cache = plugin_config.parent / "cache"
    logs = root / "logs"
    logs.mkdir()

    def build(kind: str, config: Path, into: BuildSeries | None, repeat: int) -> None:
        proxy = servers.plain.proxy if config == plugin_plain_config else tls.proxy
        proxy.reset()
        with cpu_of(servers, into.servers_cpu if into is not None else {}):
            done = mkdocs_build(
                config, logs / f"{kind}-{repeat}.log", environment, offline=kind == "offline"
            )
        traffic = proxy.reset()
        if into is not None:
            into.add(done, traffic)
        progress(
            f"L {kind} build{'' if into else ' (warm-up, untimed)'}: {seconds(done.wall)}, "
            f"{done.plugin_requests} requests by the plugin, {traffic.connections} connections "
            f"at the proxy, peak RSS {mebibytes(done.max_rss_mib)}"
        )

    for repeat in range(arguments.repeat):
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(plugin_plain_config.parent / "cache", ignore_errors=True)
        build("cold", plugin_config, results.cold, repeat)
        build("cold-plain-http", plugin_plain_config, results.cold_plain, repeat)
        if repeat == 0:
            write_plain_pages(plain_config.parent / "docs", cache, tls.proxy.host, arguments.pages)
            # One untimed build of each, so neither timed build is the first to read its files.
            build("warm", plugin_config, None, repeat)
            build("plain", plain_config, None, repeat)
        pair = [("warm", plugin_config, results.warm), ("plain", plain_config, results.plain)]
        for kind, config, series in pair if repeat % 2 == 0 else pair[::-1]:
            build(kind, config, series, repeat)
        build("offline", plugin_config, results.offline, repeat)
    return results


# --- the report ------------------------------------------------------------------------------


def s_rows(at: AtRtt, tags: int, digests: int, concurrency: int) -> list[Row]:
    """The table rows of S at one RTT."""
    label = f"RTT {at.rtt_ms:g} ms"
    plugin = at.plugin.wall.median
    trips = round_trips(tags, digests, concurrency)
    bound = at.measured_rtt.median * trips
    skopeo_ratio = at.skopeo.total.median / plugin
    extrapolated = at.skopeo.timed_tags < at.skopeo.all_tags
    return [
        series_row(
            f"S cold fetch, plugin, {label}",
            at.plugin.wall,
            ratio="1.00",
            notes=f"TLS, HTTP/1.1 (default); {at.plugin.notes(concurrency)}",
        ),
        series_row(
            f"S cold fetch, plugin HTTP/2, {label}",
            at.plugin_http2.wall,
            ratio=f"{at.plugin_http2.wall.median / plugin:.2f}x plugin",
            notes=f"TLS, http2: true; {at.plugin_http2.notes(concurrency)}",
        ),
        series_row(
            f"S cold fetch, plugin plain HTTP, {label}",
            at.plugin_plain.wall,
            ratio=f"{at.plugin_plain.wall.median / plugin:.2f}x plugin",
            notes=f"no TLS; {at.plugin_plain.notes(concurrency)}",
        ),
        series_row(
            f"S cold fetch, naive httpx, {label}",
            at.naive,
            ratio=f"{at.naive.median / plugin:.1f}x plugin",
            notes=f"{tags + 1} requests in sequence on one connection",
        ),
        series_row(
            f"S cold fetch, skopeo, {label}",
            at.skopeo.total,
            ratio=f"{skopeo_ratio:.1f}x plugin",
            target=f">= {SKOPEO_TARGET:g}x: {verdict(skopeo_ratio >= SKOPEO_TARGET)}",
            notes=(
                f"EXTRAPOLATED from {at.skopeo.timed_tags} of {at.skopeo.all_tags} tags"
                if extrapolated
                else f"all {at.skopeo.all_tags} tags timed"
            ),
        ),
        Row(
            f"S lower bound, {label}",
            seconds(bound),
            ratio=f"plugin {plugin / bound:.2f}x",
            target=f"<= {BOUND_TARGET:g}x: {verdict(plugin <= BOUND_TARGET * bound)}",
            notes=f"measured RTT {at.measured_rtt.median * 1000:.1f} ms x {trips} round trips",
        ),
    ]


def l_rows(site: SiteResults, pages: int) -> list[Row]:
    """The table rows of L."""
    warm_ratio = site.warm.wall.median / site.plain.wall.median
    offline_connections = max(site.offline.proxy_connections.values)
    rows = []
    for label, series in (("", site.cold), (" plain HTTP", site.cold_plain)):
        requests = series.plugin_requests.median
        rows.append(
            series_row(
                f"L cold build{label}, RTT {site.rtt_ms:g} ms",
                series.wall,
                ratio="" if not label else f"{series.wall.median / site.cold.wall.median:.2f}x TLS",
                notes=f"{'no TLS' if label else 'TLS'}; {requests / pages:.1f} requests per image "
                f"({requests:.0f} in all, {series.proxy_connections.median:.0f} connections)",
            )
        )
    rows += [
        series_row(
            "L warm build, plugin",
            site.warm.wall,
            ratio=f"{warm_ratio:.2f}x plain",
            target=f"<= {WARM_TARGET:.2f}x: {verdict(warm_ratio <= WARM_TARGET)}",
            notes=f"{max(site.warm.proxy_connections.values):.0f} connections at the proxy",
        ),
        series_row("L plain build, Markdown tables", site.plain.wall, notes="no plugin"),
        series_row(
            "L offline build",
            site.offline.wall,
            target=f"0 connections: {verdict(offline_connections == 0)}",
            notes=f"{offline_connections:.0f} connections at the proxy",
        ),
    ]
    for kind in ("cold", "warm", "offline", "plain"):
        peak: BuildSeries = getattr(site, kind)
        rows.append(series_row(f"L peak RSS, {kind} build", peak.rss, mebibytes))
    return rows


def milliseconds(series: Series) -> str:
    """A median in milliseconds."""
    return f"{series.median * 1000:.0f} ms"


def reuse_note(requests: float, connections: float, concurrency: int) -> str:
    """A remark when a client opened more connections than its pool holds."""
    if connections <= concurrency + 1:  # one more: the tag list's may be closed and reopened
        return ""
    return (
        f" {connections:.0f} connections for {requests:.0f} requests, more than the pool's "
        f"{concurrency}: connections were closed and reopened, each reopening costing one RTT."
    )


def s_details(at: AtRtt, tags: int, digests: int, concurrency: int) -> list[str]:
    """Where the time of the S fetches went, at one RTT."""
    rtt = at.measured_rtt.median
    stages = ", ".join(
        f"{stage} {milliseconds(series)} (= {series.median / rtt:.1f} RTT)"
        for stage, series in at.plugin.stages.items()
    )
    cpu = ", ".join(f"{name} {milliseconds(series)}" for name, series in at.plugin.cpu.items())
    listing, inspect = at.skopeo.list_traffic, at.skopeo.inspect_traffic
    skopeo_traffic = (
        f"per `inspect`: {inspect.connections} connections, {inspect.requests} requests "
        f"at the proxy; `list-tags`: {listing.connections} connections, {listing.requests} "
        "requests"
        if listing is not None and inspect is not None
        else ""
    )
    return [
        f"- **S at RTT {at.rtt_ms:g} ms** (measured {rtt * 1000:.1f} ms, spread "
        f"{at.measured_rtt.spread(lambda value: f'{value * 1000:.1f}')} ms):",
        f"  - plugin, medians per stage: {stages}. Critical path at concurrency {concurrency}: "
        f"1 + {math.ceil(tags / concurrency)} + {math.ceil(digests / concurrency)} x 3 + 1 "
        "+ 1 (TLS) round trips.",
        f"  - plugin: {at.plugin.requests.median:.0f} requests sent (fewest possible for this "
        f"data: {fewest_requests(digests)}); CPU during the fetch: {cpu}."
        + reuse_note(at.plugin.requests.median, at.plugin.connections.median, concurrency),
        f"  - HTTP/2: {at.plugin_http2.retries.median:.0f} retries a fetch (max "
        f"{max(at.plugin_http2.retries.values):.0f}) over {at.plugin_http2.connections.median:.0f}"
        " connections; CPU "
        + ", ".join(f"{name} {milliseconds(v)}" for name, v in at.plugin_http2.cpu.items())
        + ". Plain HTTP: CPU "
        + ", ".join(f"{name} {milliseconds(v)}" for name, v in at.plugin_plain.cpu.items())
        + ".",
        f"  - naive: {at.naive.median / (tags + 1) * 1000:.1f} ms per request.",
        f"  - skopeo: `list-tags` {seconds(at.skopeo.listing.median)}, `inspect --raw` "
        f"{seconds(at.skopeo.per_tag.median)} per tag (= {at.skopeo.per_tag.median / rtt:.1f} "
        f"RTT); {skopeo_traffic}.",
    ]


def l_details(site: SiteResults, pages: int, digests: int, concurrency: int) -> list[str]:
    """Where the time of the L builds went."""
    rtt = site.rtt_ms / 1000
    cold = site.cold
    requests = cold.plugin_requests.median
    lines = [
        f"- **L cold build** ({pages} images at RTT {site.rtt_ms:g} ms, TLS): the plugin's fetch "
        f"{seconds(cold.fetch_seconds.median)} of the {seconds(cold.wall.median)} build; "
        f"{requests:.0f} requests counted by the plugin (fewest possible "
        f"{fewest_requests(digests) * pages}), so at {concurrency} in "
        f"flight at least {seconds(requests * rtt / concurrency)} of round trips; CPU: build "
        f"process {seconds(cold.cpu.median)}, "
        + ", ".join(f"{name} {seconds(series.median)}" for name, series in cold.servers_cpu.items())
        + "."
        + reuse_note(requests, cold.proxy_connections.median, concurrency),
    ]
    for kind in ("cold_plain", "warm", "plain", "offline"):
        series: BuildSeries = getattr(site, kind)
        pass_name = "fetch" if kind == "cold_plain" else "cache pass"
        fetch = (
            f"; the plugin's {pass_name} {seconds(series.fetch_seconds.median)}"
            if series.fetch_seconds.values
            else ""
        )
        lines.append(
            f"- **L {kind.replace('_', ' ')} build**: wall {seconds(series.wall.median)}, "
            f"CPU (user + system) {seconds(series.cpu.median)}{fetch}."
        )
    return lines


def s_direct_rows(direct: FetchSeries, concurrency: int) -> tuple[Row, str]:
    """The row and the detail line of S fetched without the proxy."""
    stages = ", ".join(f"{stage} {milliseconds(series)}" for stage, series in direct.stages.items())
    row = series_row(
        "S cold fetch, plugin, no proxy (TLS)",
        direct.wall,
        notes=f"CPU: client {milliseconds(direct.cpu['client CPU'])}, "
        f"registry {milliseconds(direct.cpu['registry CPU'])}",
    )
    detail = (
        f"- **S without the proxy** (registry CPU ~ the floor at low RTTs): stages {stages}; "
        f"{direct.requests.median:.0f} requests at concurrency {concurrency}."
    )
    return row, detail


def cpu_model() -> str:
    """The processor's name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass  # not Linux: fall back to the architecture
    return platform.machine()


def commit() -> str:
    """The commit the plugin was measured at, marked ``-dirty`` when tracked files differ."""
    described = tool_version("git", "-C", str(ROOT), "describe", "--always", "--dirty")
    return described if re.fullmatch(r"[0-9a-f]{7,40}(-dirty)?", described) else "unknown"


def tool_version(*command: str) -> str:
    """The first line a tool prints about its version."""
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "not found"
    return (completed.stdout or completed.stderr).strip().splitlines()[0]


def report(
    arguments: argparse.Namespace,
    at_rtts: Sequence[AtRtt],
    direct: FetchSeries,
    site: SiteResults,
    seeding: dict[str, float],
) -> str:
    """The whole report, as Markdown."""
    tags, digests = arguments.s_digests * TAGS_PER_DIGEST, arguments.s_digests
    concurrency = arguments.concurrency
    rows: list[Row] = []
    details: list[str] = []
    for at in at_rtts:
        rows += s_rows(at, tags, digests, concurrency)
        details += s_details(at, tags, digests, concurrency)
    direct_row, direct_detail = s_direct_rows(direct, concurrency)
    rows.append(direct_row)
    details.append(direct_detail)
    rows += l_rows(site, arguments.pages)
    details += l_details(site, arguments.pages, arguments.l_digests, concurrency)
    versions = ", ".join(
        [
            f"Python {platform.python_version()}",
            *(f"{name} {importlib.metadata.version(name)}" for name in ("httpx", "mkdocs")),
            tool_version("skopeo", "--version"),
            tool_version("docker-registry", "--version"),
        ]
    )
    command = " ".join(["python -m bench.run", *sys.argv[1:]])
    rtts = ", ".join(f"{at.rtt_ms:g}" for at in at_rtts)
    return "\n".join(
        [
            "# Benchmark results (issues 6 and 9)",
            "",
            f"Made by `{command}` at commit {commit()} on "
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; see the docstring of "
            "`bench/run.py` for what each row measures.",
            "",
            f"- Machine: {os.cpu_count()} cores ({cpu_model()}), "
            f"{platform.system()} {platform.release()}",
            f"- RTT added by `bench/latency_proxy.py`: {rtts} ms for S, {site.rtt_ms:g} ms for "
            f"L; {arguments.repeat} repeats (median, min-max)",
            "- The registry speaks TLS 1.3 with a certificate of a CA made for the run and offers "
            "HTTP/2 by ALPN; rows marked plain HTTP ask a second registry process on the same "
            "storage.",
            f"- Versions: {versions}",
            f"- S: 1 image, {tags} tags over {digests} digests. L: {arguments.pages} pages, one "
            f"image each, {arguments.l_digests * TAGS_PER_DIGEST} tags over "
            f"{arguments.l_digests} digests (seeded in {seconds(seeding['L'])}).",
            "",
            markdown_rows(rows),
            "",
            "## Where the time goes",
            "",
            *details,
            "",
        ]
    )


# --- the run ---------------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; ``--l-rtt-ms`` defaults as the docstring says."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--rtt-ms", type=float, nargs="+", default=[DEFAULT_RTT_MS], help="RTTs for dataset S")
    add("--l-rtt-ms", type=float, default=None, help="RTT of the L builds")
    add("--repeat", type=int, default=3, help="timed runs of every measurement")
    add("--pages", type=int, default=200, help="pages (images) of dataset L")
    add("--l-digests", type=int, default=10, help="digests per image of L (5 tags each)")
    add("--s-digests", type=int, default=60, help="digests of S (5 tags each)")
    add("--skopeo-tags", type=int, default=40, help="tags skopeo inspects (the rest estimated)")
    add("--concurrency", type=int, default=16, help="the plugin client's concurrency")
    add("--rtt-samples", type=int, default=20, help="requests that measure the RTT")
    add("--write", action="store_true", help=f"also write the report to {RESULTS_PATH}")
    arguments = parser.parse_args(argv)
    for name in ("repeat", "pages", "l_digests", "s_digests", "skopeo_tags", "concurrency"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if arguments.l_rtt_ms is None:
        listed = arguments.rtt_ms
        arguments.l_rtt_ms = DEFAULT_RTT_MS if DEFAULT_RTT_MS in listed else listed[0]
    return arguments


def start_servers(root: Path, rtt_ms: float) -> Servers:
    """The TLS registry and, on the same storage, the plain one, each behind a proxy."""
    authority = CertificateAuthority(root / "ca")
    skopeo_certs = root / "ca" / "skopeo-certs"
    skopeo_certs.mkdir()
    shutil.copy(authority.certificate, skopeo_certs / "ca.crt")
    tls_registry = RegistryServer(
        root / "registry",
        free_port(),
        tls=authority.issue("registry"),
        ca_file=authority.certificate,
    ).start()
    (root / "plain-registry").mkdir()
    # A second process on the same files: what one seeding pushed, both serve.
    (root / "plain-registry" / "storage").symlink_to(root / "registry" / "storage")
    plain_registry = RegistryServer(root / "plain-registry", free_port()).start()
    tls_proxy = ProxyProcess(tls_registry.host, rtt_ms, root / "proxy.log")
    plain_proxy = ProxyProcess(plain_registry.host, rtt_ms, root / "plain-proxy.log")
    return Servers(
        Endpoint(tls_registry, tls_proxy, authority.certificate),
        Endpoint(plain_registry, plain_proxy),
    )


def stop_servers(servers: Servers) -> None:
    """Stop the proxies and the registries."""
    for endpoint in (servers.tls, servers.plain):
        endpoint.proxy.stop()
        endpoint.registry.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Start the servers, seed, measure, print (and with ``--write`` save) the report."""
    arguments = parse_arguments(argv)
    with tempfile.TemporaryDirectory(prefix="bench-run-") as temporary:
        root = Path(temporary)
        (root / "docker-config").mkdir()
        environment = loopback_only_environment(root / "docker-config")
        # The in-process clients read the environment too: keep them on loopback as well.
        for name in [name for name in os.environ if name.lower().endswith("_proxy")]:
            del os.environ[name]
        servers = start_servers(root, arguments.rtt_ms[0])
        try:
            registry = servers.plain.registry
            seeding: dict[str, float] = {}
            started = time.perf_counter()
            pushed = seed_image(
                registry.url, S_REPOSITORY, digests=arguments.s_digests, tags_per_digest=5
            )
            seeding["S"] = time.perf_counter() - started
            expected = {tag: image.digest for image in pushed for tag in image.tags}
            started = time.perf_counter()
            seed_site_images(registry.url, arguments.pages, arguments.l_digests)
            seeding["L"] = time.perf_counter() - started
            progress(f"seeded S in {seconds(seeding['S'])}, L in {seconds(seeding['L'])}")

            at_rtts = [AtRtt(rtt) for rtt in arguments.rtt_ms]
            direct = FetchSeries()
            # Straight at the TLS registry, with the same trust as through its proxy.
            tls_registry = servers.tls.registry
            direct_settings = ClientSettings(
                concurrency=arguments.concurrency,
                tls=TlsSettings({tls_registry.host: HostTls(ca_file=servers.tls.ca_file)}, ()),
            )
            # An untimed fetch first: imports, and the registry's first reads of its storage.
            plugin_fetch(tls_registry.host, direct_settings, expected, FetchSeries())
            for repeat in range(arguments.repeat):
                progress(f"dataset S, repeat {repeat + 1} of {arguments.repeat}")
                with cpu_of(servers, direct.cpu):
                    plugin_fetch(tls_registry.host, direct_settings, expected, direct)
                for at in at_rtts:
                    measure_s(servers, at, expected, arguments, environment)
            progress("dataset L")
            site = measure_l(servers, root / "site", arguments, environment)
        finally:
            stop_servers(servers)
    text = report(arguments, at_rtts, direct, site, seeding)
    print(text)
    if arguments.write:
        RESULTS_PATH.write_text(text, encoding="utf-8")
        progress(f"wrote {RESULTS_PATH}")


if __name__ == "__main__":
    main()
