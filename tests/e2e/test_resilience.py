"""A client that survives a bad network: retries with backoff and Retry-After, and which
failures let the cache stand in (the registry could not answer) and which fail the build."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient
from mkdocs_taghistory.registry.responses import backoff_seconds, retry_after_seconds
from tests.support.fixtures import GADGET, WIDGET, SeededRegistry
from tests.support.front import RegistryFront
from tests.support.registry_server import free_port
from tests.support.seeding import known_digests
from tests.support.site import Build, mkdocs_build, table_rows, write_site

ONE_IMAGE_REQUESTS = 1 + 300  # a list and a HEAD per tag, with creation times known


def fetch(image: str, retries: int, known: bool = True) -> tuple[object, int]:
    reference = parse_reference(image)
    client = RegistryClient(ClientSettings(retries=retries, backoff=0.01))
    result = client.fetch_many(
        [reference], previous=known_digests(reference, KNOWN) if known else None
    )
    return result[reference], client.requests_sent


KNOWN: dict[str, datetime | None] = {}


@pytest.fixture(autouse=True)
def _known_times(seeded_registry: SeededRegistry) -> None:
    KNOWN.clear()
    KNOWN.update({image.digest: image.created for image in seeded_registry.widget})


@pytest.mark.parametrize(("status", "retry_after"), [(503, "0"), (429, "0"), (502, None)])
def test_passing_failures_are_retried_and_every_request_counted(
    seeded_registry: SeededRegistry, status: int, retry_after: str | None
) -> None:
    with RegistryFront(
        seeded_registry.server.url, fail_first=2, fail_status=status, retry_after=retry_after
    ) as front:
        snapshot, requests = fetch(f"{front.host}/{WIDGET}", retries=3)
        assert front.failures_sent == 2
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert len(snapshot.tags) == 300
    assert requests == ONE_IMAGE_REQUESTS + 2


def test_retries_are_bounded_and_the_error_is_transient(seeded_registry: SeededRegistry) -> None:
    with RegistryFront(seeded_registry.server.url, fail_first=100, retry_after="0") as front:
        error, requests = fetch(f"{front.host}/{WIDGET}", retries=2)
        assert front.failures_sent == 3
    assert isinstance(error, RegistryError)
    assert error.transient and "HTTP 503 while reading tag list" in error.reason
    assert requests == 3


def test_connection_failures_are_retried_then_reported() -> None:
    error, requests = fetch(f"127.0.0.1:{free_port()}/acme/widget", retries=2)
    assert isinstance(error, RegistryError) and error.transient
    assert "cannot reach 127.0.0.1" in error.reason
    assert requests == 3


def test_permanent_failures_are_not_retried(seeded_registry: SeededRegistry) -> None:
    with RegistryFront(seeded_registry.server.url, fail_first=100, fail_status=404) as front:
        error, requests = fetch(f"{front.host}/{WIDGET}", retries=3)
    assert isinstance(error, RegistryError) and not error.transient
    assert requests == 1


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    now = datetime(2024, 3, 18, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Mon, 18 Mar 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Mon, 18 Mar 2024 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]:
        waits = [backoff_seconds(attempt, 1.0, None) for _ in range(50)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(set(waits)) > 1  # jittered
    assert backoff_seconds(20, 1.0, None) == 30.0
    assert backoff_seconds(1, 1.0, 600.0) == 30.0  # a Retry-After beyond reason is capped too


def test_tag_deleted_between_list_and_head_is_skipped(seeded_registry: SeededRegistry) -> None:
    with RegistryFront(seeded_registry.server.url, phantom_tags=("ghost",)) as front:
        snapshot, _ = fetch(f"{front.host}/{WIDGET}", retries=0)
        assert front.requests[f"HEAD /v2/{WIDGET}/manifests/ghost"] == 1
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert "ghost" not in snapshot.tags and len(snapshot.tags) == 300


# --- what the build does with each failure -----------------------------------------------


def build_twice(
    seeded_registry: SeededRegistry,
    tmp_path: Path,
    status: int,
    *options: str,
    strict_option: bool = False,
) -> Build:
    """Build once through a healthy front (filling the cache), then through a failing one."""
    with RegistryFront(seeded_registry.server.url) as front:
        config = write_site(
            tmp_path,
            {"w.md": f'<< tag_history "{front.host}/{GADGET}" >>\n'},
            {"cache_dir": "cache", "retries": 0, "ttl": 0, "strict": strict_option},
        )
        first = mkdocs_build(config)
        assert first.returncode == 0, first.output
        port = front.port
    # The same address, now failing every request.
    with RegistryFront(
        seeded_registry.server.url, fail_first=10_000, fail_status=status, port=port
    ):
        return mkdocs_build(config, *options)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_registry_failing_on_its_side_falls_back_to_the_cache(
    seeded_registry: SeededRegistry, tmp_path: Path, status: int
) -> None:
    build = build_twice(seeded_registry, tmp_path, status)
    assert build.returncode == 0, build.output
    # One line for the stand-ins, at INFO; the per-image detail is at DEBUG. (The summary
    # line counts them too, as "from the cache after a failed fetch".)
    (line,) = [line for line in build.output.splitlines() if "history from the cache" in line]
    assert line.startswith("INFO") and f"HTTP {status} while reading tag list" in line
    assert "using the cached tags" not in build.output
    assert len(table_rows(build.page("w"))) == len(seeded_registry.gadget)
    assert build.page("w").select_one(".taghistory-as-of") is not None


@pytest.mark.parametrize("status", [403, 404])
def test_registry_refusing_fails_the_build_even_with_a_cache(
    seeded_registry: SeededRegistry, tmp_path: Path, status: int
) -> None:
    build = build_twice(seeded_registry, tmp_path, status)
    assert build.returncode != 0
    assert "docs/w.md:1: cannot show the tag history of" in build.output
    assert ("no such repository" if status == 404 else f"HTTP {status} while reading tag list") in (
        build.output
    )


def test_strict_makes_a_cached_table_a_warning_that_fails_strict_builds(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    lenient = build_twice(seeded_registry, tmp_path / "lenient", 503, "--strict")
    assert lenient.returncode == 0, lenient.output
    strict = build_twice(seeded_registry, tmp_path / "strict", 503, "--strict", strict_option=True)
    assert strict.returncode != 0
    (line,) = [line for line in strict.output.splitlines() if "history from the cache" in line]
    assert line.startswith("WARNING")


def test_retry_after_with_non_ascii_digits_is_ignored_not_a_crash() -> None:
    assert retry_after_seconds("²") is None
