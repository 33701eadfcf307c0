"""The benchmark's report: the results table, its targets and where the time went."""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.datasets import ROOT, TAGS_PER_DIGEST
from bench.measurements import (
    AtRtt,
    BuildSeries,
    FetchSeries,
    Series,
    SiteResults,
    fewest_requests,
    mebibytes,
    milliseconds,
    round_trips,
    seconds,
)

# The targets of issues 6 and 9.
BOUND_TARGET = 1.2
SKOPEO_TARGET = 20.0
WARM_TARGET = 1.10


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


def reuse_note(requests: float, connections: float, concurrency: int) -> str:
    """A remark when a client opened more connections than its pool holds."""
    if connections <= concurrency + 1:  # one more: the tag list's may be closed and reopened
        return ""
    return (
        f" {connections:.0f} connections for {requests:.0f} requests, more than the pool's "
        f"{concurrency}: connections were closed and reopened, each reopening costing one RTT."
    )


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
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; see the docstring of "
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
