"""Benchmark measurements: fetches of dataset S three ways, builds of dataset L, and the
series they are kept in. See :mod:`bench.run` for what each measures."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.async_vs_threads import ACCEPT
from bench.datasets import (
    ROOT,
    S_REPOSITORY,
    TAGS_PER_DIGEST,
    Digests,
    Endpoint,
    Servers,
    image_of,
    page_name,
    write_plain_pages,
)
from bench.latency_proxy import ProxyStats
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient
from tests.support.site import write_site

# --no-creds: the benchmark reads no credentials of the machine, and the registry needs none.
SKOPEO_FLAGS = ("--no-creds",)
# The build's summary line: each outcome's count (failed always), then what the fetch cost.
SUMMARY = re.compile(
    r"Tag history of (?P<images>\d+) images?: [^(]*?(?P<failed>\d+) failed "
    r"\((?P<tags>\d+) tags?, (?P<requests>\d+) requests?, in (?P<seconds>[0-9.]+) s\)"
)


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


def milliseconds(series: Series) -> str:
    """A median in milliseconds."""
    return f"{series.median * 1000:.0f} ms"


def progress(message: str) -> None:
    """A progress line on stderr, so stdout holds only the results."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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
    # The client reports each finished job from its event loop: the last report of a stage is
    # when its last job finished.
    stage_ends: dict[str, float] = {}

    def record(stage: str, done: int, total: int) -> None:
        stage_ends[stage] = time.perf_counter()

    cpu_before = time.process_time()
    started = time.perf_counter()
    client = RegistryClient(settings, progress=record)
    # Apart from the stages: making the client costs CPU that no round trip explains. (Its
    # pools and TLS context are made on the first request, in the first stage.)
    stage_ends["client setup"] = time.perf_counter()
    result = client.fetch_many([reference])[reference]
    requests = client.requests_sent
    into.retries.add(client.counters.retries)
    into.connections.add(client.counters.connections)
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
