"""Benchmark (issue 14): a 1,000-image site, one page beside its plain twin, and what each
vendor API costs per image.

Dataset XL: ``--images`` images (default 1,000) of 20 tags over 5 multi-arch digests each,
seeded into Debian's ``docker-registry`` over the OCI push API, and a site of one page per
image, each with one directive. The registry speaks TLS (a CA made for the run) behind
:mod:`bench.latency_proxy` at ``--rtt-ms`` (default 50 ms). Measured, each a real ``mkdocs
build`` started by :mod:`bench.launch` (wall, CPU and peak RSS from ``wait4``):

1. cold build (no cache): wall, requests per image, peak RSS;
2. stale refresh (the cache older than ``ttl``: every image asked again, digests already
   known are not looked up again);
3. warm build (cache fresh: no request), against the same site with the tables written in and
   no plugin;
4. client CPU per request: the cold (and stale) build's CPU less the warm build's (which
   renders the same pages without fetching), over the requests it made;
5. a warm one-page build against the same page with its table written in, alternated
   ``--one-page-runs`` times (the package byte-compiled first, as ``pip install`` leaves it;
   this machine sets ``PYTHONDONTWRITEBYTECODE``);
6. requests per image of one image (20 tags over 5 digests) through each vendor's loopback
   stand-in (``tests/support/vendor_apis.py``, the documented shapes) beside the generic path,
   cold and refreshed from the cache.

Ratios are printed against their targets ("met"/"missed"), never asserted.

Run from the repository root::

    .venv/bin/python -m bench.scale                  # about ten minutes
    .venv/bin/python -m bench.scale --images 100     # a quick look
    .venv/bin/python -m bench.scale --write          # also record it in bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.datasets import ROOT, Endpoint, loopback_only_environment, start_servers, stop_servers
from bench.measurements import Build, mebibytes, mkdocs_build, progress, seconds
from bench.results_file import RESULTS_PATH, current_commit, record_section
from mkdocs_taghistory.cache import SnapshotCache, snapshot_from_json
from mkdocs_taghistory.history import TagSnapshot, group_by_digest
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient, VendorSetting
from mkdocs_taghistory.render import render_markdown
from mkdocs_taghistory.settings import Credentials
from mkdocs_taghistory.view import table_view
from tests.support.front import RegistryFront
from tests.support.seeding import PushedImage, seed_image
from tests.support.site import write_site
from tests.support.vendor_apis import (
    AcrApi,
    DockerHubApi,
    GitHubPackagesApi,
    GitLabApi,
    GoogleRegistryApi,
    HarborApi,
    JsonApi,
    QuayApi,
    VendorTag,
)

NAMESPACE = "xl"
TAGS_PER_DIGEST = 4
DIGESTS = 5
SEED_THREADS = 8
# The targets of issue 14.
ONE_PAGE_TARGET = 1.05
CPU_PER_REQUEST_TARGET_MS = 0.5


def image_name(host: str, number: int) -> str:
    """The image of page ``number``."""
    return f"{host}/{NAMESPACE}/image{number:04d}"


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--images", type=int, default=1000, help="images (and pages) of dataset XL")
    add("--rtt-ms", type=float, default=50.0, help="round-trip time the proxy adds")
    add("--concurrency", type=int, default=16, help="the plugin's concurrency")
    add("--one-page-runs", type=int, default=15, help="alternated one-page builds of each kind")
    add("--write", action="store_true", help=f"also record the results in {RESULTS_PATH}")
    return parser.parse_args(argv)


@dataclass
class Results:
    """Everything one run measured."""

    arguments: argparse.Namespace
    seeding: float = 0.0
    cold: Build | None = None
    stale: Build | None = None
    warm: Build | None = None
    plain: Build | None = None
    one_page: list[float] = field(default_factory=list)
    one_page_plain: list[float] = field(default_factory=list)
    vendors: list[tuple[str, int, int, str]] = field(default_factory=list)
    """Per vendor: name, requests cold, requests refreshed, how the API reads an image."""


def seed(registry_url: str, images: int) -> None:
    """Push every image of XL, several at once (the registry has cores to spare)."""

    def one(number: int) -> list[PushedImage]:
        repository = image_name("", number).lstrip("/")
        return seed_image(registry_url, repository, digests=DIGESTS, tags_per_digest=4)

    with ThreadPoolExecutor(max_workers=SEED_THREADS) as pool:
        for done, _ in enumerate(pool.map(one, range(images)), start=1):
            if done % 100 == 0:
                progress(f"seeded {done} of {images} images")


def site_options(endpoint: Endpoint, **more: object) -> dict[str, object]:
    """The plugin's options for a site of the proxy's images, over TLS with the run's CA."""
    tls = {host: {"ca_file": str(entry.ca_file)} for host, entry in endpoint.tls_entries().items()}
    return {"cache_dir": "cache", "retries": 0, "tls": tls, "certs_dirs": [], **more}


def pages_of(host: str, numbers: range) -> dict[str, str]:
    """One page per image, each with its directive."""
    return {
        f"p{number:04d}.md": f'# Image {number:04d}\n\n<< tag_history "{image}" >>\n'
        for number in numbers
        for image in [image_name(host, number)]
    }


def plain_pages(cache: Path, host: str, numbers: range) -> dict[str, str]:
    """The same pages with their tables written in, from the snapshots in ``cache``."""
    snapshots = SnapshotCache(cache)
    pages = {}
    for number in numbers:
        image = image_name(host, number)
        snapshot = snapshots.load(image)
        if snapshot is None:
            raise SystemExit(f"no cached snapshot of {image}")
        table = render_markdown(table_view(image, group_by_digest(snapshot)))
        pages[f"p{number:04d}.md"] = f"# Image {number:04d}\n\n{table}\n"
    return pages


def age_cache(cache: Path, by: timedelta) -> None:
    """Make every cached fetch ``by`` older, as if it had been made that long ago."""
    snapshots = SnapshotCache(cache)
    for path in cache.glob("*.json"):
        snapshot = snapshot_from_json(path.read_text(encoding="utf-8"))
        snapshots.store(snapshot._replace(fetched_at=snapshot.fetched_at - by))


def measure_site(root: Path, endpoint: Endpoint, results: Results, env: dict[str, str]) -> None:
    """Cold, stale, warm and plain builds of the XL site."""
    images = results.arguments.images
    host = endpoint.proxy.host
    options = site_options(endpoint, concurrency=results.arguments.concurrency)
    config = write_site(root / "xl", pages_of(host, range(images)), options)
    cache = config.parent / "cache"
    logs = root / "logs"
    logs.mkdir()

    def build(kind: str, site: Path) -> Build:
        endpoint.proxy.reset()
        done = mkdocs_build(site, logs / f"{kind}.log", env)
        traffic = endpoint.proxy.reset()
        progress(
            f"XL {kind} build: {seconds(done.wall)}, {done.plugin_requests} requests, "
            f"{traffic.connections} connections, peak RSS {mebibytes(done.max_rss_mib)}"
        )
        return done

    results.cold = build("cold", config)
    age_cache(cache, timedelta(hours=2))  # older than the default ttl of 1 h
    results.stale = build("stale", config)
    build("warm (untimed)", config)
    plain = write_site(root / "plain", plain_pages(cache, host, range(images)), {}, plugins=[])
    build("plain (untimed)", plain)
    results.warm = build("warm", config)
    results.plain = build("plain", plain)


def measure_one_page(root: Path, endpoint: Endpoint, results: Results, env: dict[str, str]) -> None:
    """A warm one-page build against the same page with its table written in, alternated."""
    host = endpoint.proxy.host
    # As a site is usually written: the cache is fresh, so no request (and no TLS) is due.
    one = write_site(root / "one", pages_of(host, range(1)), {"cache_dir": "cache"})
    shutil.copytree(root / "xl" / "cache", one.parent / "cache")
    plain = write_site(
        root / "one-plain", plain_pages(one.parent / "cache", host, range(1)), {}, plugins=[]
    )
    # As pip leaves an installed package: byte-compiled (this machine writes no .pyc itself).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "mkdocs_taghistory")], check=True
    )
    logs = root / "one-logs"
    logs.mkdir()
    for run in range(results.arguments.one_page_runs + 1):
        pair: list[tuple[Path, list[float]]] = [
            (one, results.one_page),
            (plain, results.one_page_plain),
        ]
        for site, into in pair if run % 2 == 0 else pair[::-1]:
            done = mkdocs_build(site, logs / f"{site.parent.name}-{run}.log", env)
            if run > 0:  # the first of each is a warm-up
                into.append(done.wall)
    progress(
        f"one page: plugin {seconds(statistics.median(results.one_page))}, "
        f"plain {seconds(statistics.median(results.one_page_plain))}"
    )


def vendor_tags(digests: Sequence[str]) -> list[VendorTag]:
    """20 tags over 5 digests, a day apart."""
    base = datetime(2024, 3, 18, 12, tzinfo=UTC)
    return [
        VendorTag(f"1.{number}.{variant}", digest, base + timedelta(days=number))
        for number, digest in enumerate(digests)
        for variant in range(TAGS_PER_DIGEST)
    ]


def requests_for(image: str, settings: ClientSettings) -> tuple[int, int]:
    """Requests of a cold fetch of ``image``, and of a refresh from what it gave."""
    reference = parse_reference(image)
    client = RegistryClient(settings)
    cold = client.fetch_many([reference])[reference]
    cold_requests = client.requests_sent
    if not isinstance(cold, TagSnapshot) or len(cold.tags) != DIGESTS * TAGS_PER_DIGEST:
        raise SystemExit(f"the fetch of {image} failed: {cold}")
    client = RegistryClient(settings)
    client.fetch_many([reference], previous={reference: cold})
    return cold_requests, client.requests_sent


def measure_vendors(registry_url: str, registry_host: str, results: Results) -> None:
    """Requests per image through each vendor's stand-in, and on the generic path."""
    pushed = seed_image(registry_url, "vendors/app", digests=DIGESTS, tags_per_digest=4)
    tags = vendor_tags([image.digest for image in pushed])
    settings = ClientSettings(retries=0)
    cold, warm = requests_for(f"{registry_host}/vendors/app", settings)
    results.vendors.append(("generic OCI path", cold, warm, "list, a HEAD a tag, index/config"))

    def through(
        name: str,
        api: JsonApi,
        image: Callable[[str], str],
        how: str,
        *,
        credentials: dict[str, Credentials] | None = None,
        api_url: bool = True,
    ) -> None:
        with api:
            host = api.url.removeprefix("http://")
            setting = VendorSetting(name, api.url if api_url else None)
            vendor_settings = ClientSettings(
                retries=0,
                vendors={image(host).split("/")[0]: setting},
                credentials=credentials or {},
            )
            cold, warm = requests_for(image(host), vendor_settings)
        results.vendors.append((name, cold, warm, how))

    through(
        "google",
        GoogleRegistryApi(tags=tags),
        lambda host: f"{host}/proj/app",
        "one tag list with its manifest map (+ the token exchange)",
        api_url=False,
    )
    through(
        "acr",
        AcrApi(tags=tags),
        lambda host: f"{host}/org/app",
        "100 tags a page (+ the token exchange)",
        api_url=False,
    )
    through(
        "gitlab",
        GitLabApi(tags=tags),
        lambda host: f"{host}/group/project/app",
        "1,000 tags a page (+ the token exchange)",
        api_url=False,
    )
    through(
        "harbor",
        HarborApi(tags=tags),
        lambda host: f"{host}/library/team/app",
        "100 artifacts a page",
        api_url=False,
    )
    through(
        "dockerhub",
        DockerHubApi(tags=tags),
        lambda host: "docker.io/library/python",
        "100 tags a page",
    )
    through("quay", QuayApi(tags=tags), lambda host: "quay.io/org/app", "100 tags a page")
    through(
        "ghcr",
        GitHubPackagesApi(tags=tags),
        lambda host: "ghcr.io/octo/app",
        "100 versions a page (orgs/ first, then users/)",
        credentials={"ghcr.io": Credentials("octo", "ghp_secret_github_token")},
    )
    # One record a tag of the seeded image, as Chainguard's API gives an unmoved tag.
    history = {
        tag: [
            {
                "updateTimestamp": image.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "digest": image.digest,
            }
        ]
        for image in pushed
        for tag in image.tags
    }
    with RegistryFront(registry_url, chainguard_history=history) as front:
        vendor_settings = ClientSettings(
            retries=0, vendors={front.host: VendorSetting("chainguard")}
        )
        # The front serves the registry's tags, which the history names by their seeded names.
        cold, warm = requests_for(f"{front.host}/vendors/app", vendor_settings)
    results.vendors.append(
        ("chainguard", cold, warm, "list, a history call a tag (refresh: from the cached record)")
    )


def report(results: Results) -> str:
    """The section of RESULTS.md."""
    arguments = results.arguments
    assert results.cold and results.stale and results.warm and results.plain
    images = arguments.images
    commit = current_commit()
    lines = [
        "## Scale: a 1,000-image site (issue 14)",
        "",
        f"Made by `python -m bench.scale{' --images ' + str(images) if images != 1000 else ''}"
        f" --write` at commit {commit} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; see "
        "the docstring of `bench/scale.py`. Machine: "
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}.",
        f"Dataset XL: {images} images, {DIGESTS * TAGS_PER_DIGEST} tags over {DIGESTS} multi-arch "
        f"digests each, one page each; the registry over TLS behind the proxy at "
        f"{arguments.rtt_ms:g} ms, concurrency {arguments.concurrency} (seeded in "
        f"{seconds(results.seeding)}).",
        "",
        "| measurement | value | per image | target | notes |",
        "|---|---|---|---|---|",
    ]

    warm = results.warm

    def fetch_row(label: str, build: Build) -> str:
        requests = build.plugin_requests or 0
        fetch_cpu = max(build.cpu - warm.cpu, 0.0)
        per_request = fetch_cpu / requests * 1000 if requests else float("nan")
        verdict = "met" if per_request <= CPU_PER_REQUEST_TARGET_MS else "missed"
        return (
            f"| XL {label} | {seconds(build.wall)} | {requests / images:.1f} requests | client "
            f"CPU <= {CPU_PER_REQUEST_TARGET_MS} ms a request: {verdict} ({per_request:.2f} ms) | "
            f"{requests} requests; CPU {seconds(build.cpu)} ({seconds(fetch_cpu)} beyond the warm "
            f"build); peak RSS {mebibytes(build.max_rss_mib)} |"
        )

    lines.append(fetch_row("cold build", results.cold))
    lines.append(fetch_row("stale refresh (cache older than ttl)", results.stale))
    warm_ratio = results.warm.wall / results.plain.wall
    lines.append(
        f"| XL warm build | {seconds(results.warm.wall)} | | | {warm_ratio:.2f}x the plain "
        f"build ({seconds(results.plain.wall)}, tables written in); peak RSS "
        f"{mebibytes(results.warm.max_rss_mib)} (plain {mebibytes(results.plain.max_rss_mib)}) |"
    )
    one, plain = statistics.median(results.one_page), statistics.median(results.one_page_plain)
    ratio = one / plain
    lines.append(
        f"| one-page warm build | {seconds(one)} | | <= {ONE_PAGE_TARGET}x plain: "
        f"{'met' if ratio <= ONE_PAGE_TARGET else 'missed'} ({ratio:.3f}x) | plain "
        f"{seconds(plain)}; median of {len(results.one_page)} alternated runs each |"
    )
    lines += [
        "",
        "Requests per image of one image (20 tags over 5 digests), through each vendor's",
        "loopback stand-in and on the generic path, cold and refreshed from the cache:",
        "",
        "| source | cold | refresh | how |",
        "|---|---|---|---|",
        *(f"| {name} | {cold} | {warm} | {how} |" for name, cold, warm, how in results.vendors),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Seed, measure, print (and with ``--write`` record) the results."""
    arguments = parse_arguments(argv)
    results = Results(arguments)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as temporary:
        root = Path(temporary)
        (root / "docker-config").mkdir()
        environment = loopback_only_environment(root / "docker-config")
        for name in [name for name in os.environ if name.lower().endswith("_proxy")]:
            del os.environ[name]
        servers = start_servers(root, arguments.rtt_ms)
        try:
            started = time.perf_counter()
            seed(servers.plain.registry.url, arguments.images)
            results.seeding = time.perf_counter() - started
            measure_site(root, servers.tls, results, environment)
            measure_one_page(root, servers.tls, results, environment)
            measure_vendors(servers.plain.registry.url, servers.plain.registry.host, results)
        finally:
            stop_servers(servers)
    section = report(results)
    print(section)
    if arguments.write:
        record_section("bench.scale", section)
        progress(f"wrote {RESULTS_PATH}")


if __name__ == "__main__":
    main()
