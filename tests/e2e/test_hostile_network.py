"""Every fault of a hostile network, with and without a cached table, as a real build.

README's Reliability section is this matrix: for each fault, what a build does when a cached
table exists and when none does, and that the cache file is untouched unless a complete,
valid fetch happened (a 404 is one: "no such repository" is recorded). No traceback, ever.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mkdocs_taghistory.cache import cache_file_name, snapshot_from_json, snapshot_to_json
from tests.support.fixtures import GADGET, SeededRegistry
from tests.support.hostile import HostileFront, gzip_bomb
from tests.support.registry_server import free_port
from tests.support.site import Build, mkdocs_build, table_rows, write_site

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = {"cache_dir": "cache", "ttl": 0, "retries": 1, "timeout": 1, "certs_dirs": []}
GIB = 1024**3


@dataclass(frozen=True)
class Fault:
    """One fault: how the front misbehaves, and what a build must say and do."""

    fault: str
    says: str
    transient: bool
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


FAULTS = {
    "refused": Fault("none", "Connection refused", transient=True),
    "reset": Fault("reset", "cannot reach", transient=True),
    "timeout": Fault("stall", "timed out", transient=True),
    "trickle": Fault("trickle", "did not finish its answer in time", transient=True),
    "HTTP 503": Fault("status", "HTTP 503", transient=True, status=503),
    "HTTP 429 Retry-After": Fault("status", "HTTP 429", transient=True, status=429,
                                  headers={"Retry-After": "0"}),
    "HTTP 429 X-Retry-After": Fault("status", "HTTP 429", transient=True, status=429,
                                    headers={"X-Retry-After": "0"}),
    "HTTP 511": Fault("status", "captive portal", transient=True, status=511),
    "truncated JSON": Fault("truncated-json", "not valid JSON", transient=True),
    "portal page": Fault("portal-page", "captive portal", transient=True),
    "portal redirect": Fault("portal-redirect", "captive portal", transient=True),
    "redirect loop": Fault("redirect-loop", "redirected more than 10 times", transient=True),
    "gzip, gzip": Fault("gzip-nested", "which was not asked for", transient=True),
    "HTTP 401": Fault("status", "asks for credentials", transient=False, status=401),
    "HTTP 404": Fault("status", "no such repository", transient=False, status=404),
}  # fmt: skip


@pytest.fixture(scope="module")
def front(seeded_registry: SeededRegistry) -> Iterator[HostileFront]:
    with HostileFront(seeded_registry.server.url) as running:
        yield running


@pytest.fixture(scope="module")
def good_cache(front: HostileFront, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The cache file of a clean build through the front: what a fault must not change."""
    root = tmp_path_factory.mktemp("good")
    config = write_site(root, {"g.md": f'<< tag_history "{front.host}/{GADGET}" >>\n'}, OPTIONS)
    build = mkdocs_build(config)
    assert build.returncode == 0, build.output
    (cached,) = (root / "cache").glob("*.json")
    return cached.read_bytes()


def cache_files(cache: Path) -> list[bytes]:
    return sorted(path.read_bytes() for path in cache.glob("*.json")) if cache.exists() else []


def build_with(
    tmp_path: Path,
    image: str,
    cached: bytes | None,
    *,
    prefix: tuple[str, ...] = (),
    **options: object,
) -> tuple[Build, Path]:
    """A build of one page showing ``image``, with ``cached`` (renamed to it) in its cache."""
    config = write_site(
        tmp_path, {"g.md": f'<< tag_history "{image}" >>\n'}, {**OPTIONS, **options}
    )
    cache = tmp_path / "cache"
    if cached is not None:
        cache.mkdir()
        snapshot = snapshot_from_json(cached.decode())._replace(image=image)
        (cache / cache_file_name(image)).write_text(snapshot_to_json(snapshot))
    return mkdocs_build(config, prefix=prefix), cache


@pytest.mark.parametrize("cache_present", [True, False], ids=["cached", "no-cache"])
@pytest.mark.parametrize("name", list(FAULTS))
def test_every_fault_gives_the_promised_outcome_and_leaves_the_cache_alone(
    front: HostileFront, good_cache: bytes, tmp_path: Path, name: str, cache_present: bool
) -> None:
    case = FAULTS[name]
    front.fault, front.status, front.headers = case.fault, case.status, case.headers
    host = f"127.0.0.1:{free_port()}" if name == "refused" else front.host
    image = f"{host}/{GADGET}"
    cache = tmp_path / "cache"
    try:
        build, _ = build_with(tmp_path, image, good_cache if cache_present else None)
    finally:
        front.fault = "none"
    assert "Traceback" not in build.output, build.output
    if case.transient and cache_present:
        assert build.returncode == 0, build.output
        rows = table_rows(build.page("g"))
        assert len(rows) == 3  # the gadget's three digests, from the cache
        assert "could not be reached; tags as of" in build.page("g").get_text()
        assert case.says in build.output, build.output
    else:
        assert build.returncode != 0, build.output
        (line,) = [line for line in build.output.splitlines() if "g.md:1" in line]
        assert host in line and case.says in line, line
    if name != "HTTP 404":  # "no such repository" is an answer, and is recorded
        written = snapshot_to_json(snapshot_from_json(good_cache.decode())._replace(image=image))
        assert cache_files(cache) == ([written.encode()] if cache_present else [])


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """2 GiB of zeros gzipped twice (3.5 KB), and gzipped once (about 2 MB)."""
    once = gzip_bomb(2 * GIB, layers=1)
    return {"gzip-nested": gzip.compress(once, 9), "gzip-huge": once}


def test_a_decompression_bomb_with_a_cached_table_serves_it_with_its_note(
    front: HostileFront, good_cache: bytes, bombs: dict[str, bytes], tmp_path: Path
) -> None:
    front.fault, front.bomb = "gzip-nested", bombs["gzip-nested"]
    image = f"{front.host}/{GADGET}"
    try:
        build, cache = build_with(tmp_path, image, good_cache)
    finally:
        front.fault = "none"
    assert build.returncode == 0, build.output
    written = snapshot_to_json(snapshot_from_json(good_cache.decode())._replace(image=image))
    assert cache_files(cache) == [written.encode()]
    assert len(table_rows(build.page("g"))) == 3
    assert "could not be reached; tags as of" in build.page("g").get_text()
    assert "not asked for" in build.output
    assert "Traceback" not in build.output


@pytest.mark.parametrize("fault", ["gzip-nested", "gzip-huge"])
def test_a_decompression_bomb_keeps_the_build_small(
    front: HostileFront, bombs: dict[str, bytes], tmp_path: Path, fault: str
) -> None:
    front.fault, front.bomb = fault, bombs[fault]
    report = tmp_path / "rss.json"
    try:
        build, _ = build_with(
            tmp_path,
            f"{front.host}/{GADGET}",
            None,
            prefix=(sys.executable, "-m", "bench.launch", str(report), "--"),
        )
    finally:
        front.fault = "none"
    assert build.returncode != 0
    assert "Traceback" not in build.output
    expected = "not asked for" if fault == "gzip-nested" else "exceeds the 16384 KiB"
    assert expected in build.output, build.output
    peak_mib = json.loads(report.read_text())["max_rss_kib"] / 1024
    print(f"{fault}: peak RSS {peak_mib:.0f} MiB")  # for README's Reliability figures
    assert peak_mib < 200, f"peak RSS {peak_mib:.0f} MiB"


def test_a_stalled_fetch_ends_at_fetch_timeout_and_the_cache_stands_in(
    front: HostileFront, good_cache: bytes, tmp_path: Path
) -> None:
    front.fault = "stall"
    try:
        # Each request may take 20 s; the whole fetch only 2: the cache stands in, saying why.
        build, cache = build_with(
            tmp_path, f"{front.host}/{GADGET}", good_cache, timeout=20, fetch_timeout=2
        )
    finally:
        front.fault = "none"
    assert build.returncode == 0, build.output
    assert "fetch_timeout" in build.output, build.output
    assert len(table_rows(build.page("g"))) == 3
    assert cache_files(cache) == [good_cache]
