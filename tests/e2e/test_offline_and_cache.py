"""Offline and CI builds: every row of README's behaviour table as a real build, and a cache
that survives damage, two builds at once, and a process killed while writing."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from mkdocs_taghistory.cache import SnapshotCache, snapshot_from_json, snapshot_to_json
from mkdocs_taghistory.history import DigestFacts, TagSnapshot, TagState
from mkdocs_taghistory.timestamps import utc_now
from tests.support.fixtures import GADGET, SeededRegistry
from tests.support.front import RegistryFront
from tests.support.registry_server import RegistryServer, free_port, port_of
from tests.support.seeding import seed_image
from tests.support.site import Build, mkdocs_build, modules_loaded_by_build, table_rows, write_site

ROW = '<< tag_history "{image}" >>\n'


def site(tmp_path: Path, image: str, **options: object) -> Path:
    return write_site(
        tmp_path, {"g.md": ROW.format(image=image)}, {"cache_dir": "cache", "retries": 0, **options}
    )


def age_cache(tmp_path: Path, by: timedelta) -> None:
    """Make every cached fetch older by ``by``, as if it had been made that long ago."""
    for path in (tmp_path / "cache").glob("*.json"):
        snapshot = snapshot_from_json(path.read_text())
        path.write_text(snapshot_to_json(snapshot._replace(fetched_at=snapshot.fetched_at - by)))


def fill_cache(
    seeded_registry: SeededRegistry, tmp_path: Path, **options: object
) -> tuple[Path, str]:
    """Build once through a front, so the cache holds the image; return config and front host."""
    with RegistryFront(seeded_registry.server.url) as front:
        image = f"{front.host}/{GADGET}"
        config = site(tmp_path, image, **options)
        build = mkdocs_build(config)
        assert build.returncode == 0, build.output
        return config, image


def as_of_note(build: Build) -> str | None:
    note = build.page("g").select_one(".taghistory-as-of")
    return note.get_text() if note is not None else None


# --- the behaviour table, row by row ---------------------------------------------------


def test_fresh_cache_is_used_without_any_request(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    config, image = fill_cache(seeded_registry, tmp_path)
    port = port_of(image)
    with RegistryFront(seeded_registry.server.url, port=port) as front:
        build = mkdocs_build(config, "--strict")
        assert sum(front.requests.values()) == 0
    assert build.returncode == 0, build.output
    assert len(table_rows(build.page("g"))) == 3 and as_of_note(build) is None


def test_stale_cache_is_fetched_again_and_rewritten(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    config, image = fill_cache(seeded_registry, tmp_path)
    age_cache(tmp_path, timedelta(hours=2))
    before = {path: path.read_text() for path in (tmp_path / "cache").glob("*.json")}
    port = port_of(image)
    with RegistryFront(seeded_registry.server.url, port=port) as front:
        build = mkdocs_build(config, "--strict")
        assert front.requests[f"GET /v2/{GADGET}/tags/list"] == 1
    assert build.returncode == 0, build.output
    for path, text in before.items():
        assert snapshot_from_json(path.read_text()).fetched_at > snapshot_from_json(text).fetched_at
    assert as_of_note(build) is None


def test_stale_cache_and_failing_registry_give_the_cached_table_with_a_note(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    config, _ = fill_cache(seeded_registry, tmp_path)
    age_cache(tmp_path, timedelta(hours=2))
    # The front is gone: nothing listens at its address any more.
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    assert len(table_rows(build.page("g"))) == 3
    assert (as_of_note(build) or "").startswith("The registry could not be reached; tags as of")


def test_missing_cache_and_failing_registry_fail_the_build(tmp_path: Path) -> None:
    build = mkdocs_build(site(tmp_path, f"127.0.0.1:{free_port()}/acme/gadget"))
    assert build.returncode != 0
    assert "docs/g.md:1: cannot show the tag history of 127.0.0.1:" in build.output


@pytest.mark.parametrize("aged", [False, True])
def test_offline_uses_the_cache_of_any_age_with_a_note_only_when_stale(
    seeded_registry: SeededRegistry, tmp_path: Path, aged: bool
) -> None:
    config, image = fill_cache(seeded_registry, tmp_path)
    if aged:
        age_cache(tmp_path, timedelta(days=400))
    port = port_of(image)
    with RegistryFront(seeded_registry.server.url, port=port) as front:
        build = mkdocs_build(config, "--strict", env={"TAGHISTORY_OFFLINE": "1"})
        assert sum(front.requests.values()) == 0
    assert build.returncode == 0, build.output
    assert len(table_rows(build.page("g"))) == 3
    assert (as_of_note(build) is not None) is aged


def test_offline_without_cache_fails_and_says_how_to_fill_it(tmp_path: Path) -> None:
    build = mkdocs_build(site(tmp_path, "cgr.dev/chainguard/rust", offline=True))
    assert build.returncode != 0
    assert "docs/g.md:1: cannot show the tag history of cgr.dev/chainguard/rust" in build.output
    assert "no cached copy in" in build.output and "to fill the cache" in build.output


# --- damage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    ["truncated", "not-json", "old-schema", "directory"],
)
def test_damaged_cache_file_is_one_warning_then_replaced(
    seeded_registry: SeededRegistry, tmp_path: Path, damage: str
) -> None:
    config, image = fill_cache(seeded_registry, tmp_path, ttl=0)
    (path,) = (tmp_path / "cache").glob("*.json")
    good = path.read_text()
    if damage == "truncated":
        path.write_text(good[: len(good) // 2])
    elif damage == "not-json":
        path.write_text("<html>proxy error</html>")
    elif damage == "old-schema":
        path.write_text(json.dumps({**json.loads(good), "schema": 0}))
    else:
        path.unlink()
        path.mkdir()
    port = port_of(image)
    with RegistryFront(seeded_registry.server.url, port=port):
        build = mkdocs_build(config)
    assert build.returncode == 0, build.output
    warnings = [line for line in build.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == (2 if damage == "directory" else 1), build.output
    assert path.name in warnings[0]
    if damage != "directory":
        assert snapshot_from_json(path.read_text()).image == image


def test_unwritable_cache_dir_is_one_warning_and_the_build_goes_on(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    # A file where the folder should be: even root cannot write below it.
    (tmp_path / "blocked").write_text("not a folder")
    with RegistryFront(seeded_registry.server.url) as front:
        config = write_site(
            tmp_path,
            {
                "a.md": ROW.format(image=f"{front.host}/{GADGET}"),
                "b.md": ROW.format(image=f"{front.host}/acme/widget"),
            },
            {"cache_dir": "blocked/cache"},
        )
        build = mkdocs_build(config)
    assert build.returncode == 0, build.output
    warnings = [line for line in build.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "Cannot write the tag history cache" in warnings[0]


# --- concurrency and crashes ----------------------------------------------------------


def _snapshot(tags: int, stamp: int) -> TagSnapshot:
    digest = "sha256:" + f"{stamp:064x}"
    return TagSnapshot(
        "r.example/acme/big",
        utc_now() - timedelta(seconds=stamp),
        {f"tag-{n}": TagState(digest, None) for n in range(tags)},
        {digest: DigestFacts()},
    )


def _write_forever(directory: str, writer: int) -> None:
    cache = SnapshotCache(Path(directory))
    stamp = writer * 1_000_000
    while True:
        stamp += 1
        cache.store(_snapshot(2000, stamp))


def test_a_writer_killed_mid_write_never_leaves_a_broken_file(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path)
    cache.store(_snapshot(2000, 0))
    context = multiprocessing.get_context("spawn")
    for round_number in range(12):
        child = context.Process(target=_write_forever, args=(str(tmp_path), round_number + 1))
        child.start()
        time.sleep(0.15 + 0.02 * round_number)  # somewhere in the middle of some write
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join()
        loaded = cache.load("r.example/acme/big")
        assert loaded is not None and len(loaded.tags) == 2000
    # Killed writers may leave their temporary files; never the cache file itself.
    assert [path.name for path in tmp_path.glob("*.json")] == [
        cache.path_for("r.example/acme/big").name
    ]


def test_two_builds_at_once_on_one_cache_never_corrupt_it(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    with RegistryFront(seeded_registry.server.url) as front:
        pages = {
            f"p{n}.md": ROW.format(image=f"{front.host}/{name}")
            for n, name in enumerate([GADGET, "acme/widget"])
        }
        configs = []
        for number in range(2):
            root = tmp_path / f"site{number}"
            configs.append(
                write_site(root, pages, {"cache_dir": str(tmp_path / "shared"), "ttl": 0})
            )
        for _ in range(2):
            processes = [
                subprocess.Popen(
                    [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(c)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for c in configs
            ]
            outputs = [process.communicate(timeout=300)[0] for process in processes]
            assert [process.returncode for process in processes] == [0, 0], outputs
            for path in (tmp_path / "shared").glob("*.json"):
                snapshot_from_json(path.read_text())  # every file parses, every time
    assert len(list((tmp_path / "shared").glob("*.json"))) == 2


BUILDS = 5
"""Builds at once on one cache, each seeing latest on a digest of its own."""


def test_builds_sharing_a_cache_while_latest_moves_keep_every_sighting(
    own_registry: RegistryServer, tmp_path: Path
) -> None:
    pushed = seed_image(own_registry.url, "acme/moving", digests=BUILDS, tags_per_digest=1)
    digests = [image.digest for image in pushed]
    shared_cache = tmp_path / "shared-cache"
    # Each tag list waits, so every build has read the cache before the first one writes; each
    # build's HEAD of latest then finds it on a digest of its own.
    with RegistryFront(own_registry.url, moving_tag=("latest", digests), list_delay=3) as front:
        image = f"{front.host}/acme/moving"
        builds = []
        for number in range(BUILDS):
            config = write_site(
                tmp_path / f"site{number}",
                {"m.md": ROW.format(image=image)},
                {"cache_dir": str(shared_cache), "ttl": 0, "retries": 0},
            )
            builds.append(
                subprocess.Popen(
                    [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                )
            )
            time.sleep(1.1)  # fetch times a second apart: the cache keeps whole seconds
        outcomes = [build.wait(timeout=120) for build in builds]
    assert outcomes == [0] * BUILDS
    snapshot = SnapshotCache(shared_cache).load(image)
    assert snapshot is not None
    sightings = snapshot.ledger["latest"]
    assert sorted(sighting.digest for sighting in sightings) == sorted(digests)
    times = [sighting.first_seen for sighting in sightings]
    assert times == sorted(times)


def test_a_warm_build_loads_only_what_its_table_uses(tmp_path: Path) -> None:
    # Every build pays for what it imports (issue 18): a page whose table comes from a fresh
    # cache loads no HTTP code, no pattern engine without a pattern, and no code of the other
    # front ends. (Babel and click are MkDocs' own.)
    now = utc_now()
    digest = "sha256:" + "c" * 64
    SnapshotCache(tmp_path / "cache").store(
        TagSnapshot(
            "registry.example/acme/widget",
            now,
            {"1.0": TagState(digest, now - timedelta(days=2))},
            {digest: DigestFacts(created=now - timedelta(days=2))},
        )
    )
    page = '# Widget\n\n<< tag_history "registry.example/acme/widget" >>\n'
    config = write_site(tmp_path, {"index.md": page}, {"cache_dir": "cache", "ttl": "1d"})
    loaded = modules_loaded_by_build(
        config,
        [
            *("httpx", "h2", "ssl", "regex", "sphinx", "docutils"),
            # Nothing of the registry package: the client settings are plain values.
            *("mkdocs_taghistory.patterns", "mkdocs_taghistory.registry"),
            *("mkdocs_taghistory.sphinx", "mkdocs_taghistory.cli"),
        ],
    )
    assert loaded == []
    built = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert digest in built
