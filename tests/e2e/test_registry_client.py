"""The OCI client against the real registry, directly and through a paging, token-asking front."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import ImageReference, parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient
from mkdocs_taghistory.registry.session import RegistrySession
from tests.support.fixtures import GADGET, WIDGET, SeededRegistry
from tests.support.front import RegistryFront
from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import PushedImage, known_digests
from tests.support.site import mkdocs_build, write_site


def fetch(
    reference: ImageReference,
    known: Mapping[str, datetime | None] | None = None,
    concurrency: int = 16,
) -> tuple[TagSnapshot | RegistryError, int]:
    client = RegistryClient(ClientSettings(concurrency=concurrency, timeout=10))
    previous = known_digests(reference, known) if known else None
    result = client.fetch_many([reference], previous=previous)[reference]
    return result, client.requests_sent


def assert_matches_pushed(snapshot: TagSnapshot, pushed: list[PushedImage]) -> None:
    expected = {tag: image for image in pushed for tag in image.tags}
    assert set(snapshot.tags) == set(expected)
    for tag, state in snapshot.tags.items():
        assert state.digest == expected[tag].digest
        assert state.changed == expected[tag].created


def test_every_tag_gets_its_digest_and_creation_time(seeded_registry: SeededRegistry) -> None:
    snapshot, requests = fetch(parse_reference(seeded_registry.widget_reference))
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert_matches_pushed(snapshot, seeded_registry.widget)
    # One list, one HEAD per tag, and per digest the index plus (unless the index is
    # annotated) one platform manifest and its config: never once per tag.
    unannotated = sum(1 for number in range(len(seeded_registry.widget)) if number % 3)
    assert requests == 1 + 300 + 60 + 2 * unannotated


def test_known_digests_are_not_fetched_again(seeded_registry: SeededRegistry) -> None:
    reference = parse_reference(seeded_registry.widget_reference)
    known = {image.digest: image.created for image in seeded_registry.widget}
    snapshot, requests = fetch(reference, known)
    assert isinstance(snapshot, TagSnapshot)
    assert_matches_pushed(snapshot, seeded_registry.widget)
    assert requests == 1 + 300


def test_paginated_tag_list_is_followed_and_every_tag_arrives_once(
    seeded_registry: SeededRegistry,
) -> None:
    with RegistryFront(seeded_registry.server.url, page_size=7) as front:
        snapshot, _ = fetch(parse_reference(f"{front.host}/{WIDGET}"))
        assert isinstance(snapshot, TagSnapshot), snapshot
        assert front.listed_pages == -(-300 // 7)
    assert_matches_pushed(snapshot, seeded_registry.widget)


def test_tag_list_asks_for_large_pages_and_for_the_registry_s_own_when_refused(
    seeded_registry: SeededRegistry,
) -> None:
    # A registry that allows up to 100 a page (as GHCR and Quay do) gives 3 pages, not 43.
    with RegistryFront(seeded_registry.server.url, page_size=100) as front:
        snapshot, _ = fetch(parse_reference(f"{front.host}/{WIDGET}"))
        assert isinstance(snapshot, TagSnapshot), snapshot
        assert front.listed_pages == 3
        assert front.list_queries[0] == {"n": ["1000"]}
    assert_matches_pushed(snapshot, seeded_registry.widget)
    # One that refuses n (400 PAGINATION_NUMBER_INVALID) is asked again without it.
    with RegistryFront(seeded_registry.server.url, reject_page_size=True) as front:
        snapshot, _ = fetch(parse_reference(f"{front.host}/{WIDGET}"))
        assert isinstance(snapshot, TagSnapshot), snapshot
        assert [query.get("n") for query in front.list_queries] == [["1000"], None]
    assert_matches_pushed(snapshot, seeded_registry.widget)


def test_bearer_challenge_is_answered_with_one_shared_token(
    seeded_registry: SeededRegistry,
) -> None:
    with RegistryFront(seeded_registry.server.url, require_token=True) as front:
        snapshot, _ = fetch(parse_reference(f"{front.host}/{WIDGET}"), concurrency=16)
        assert isinstance(snapshot, TagSnapshot), snapshot
        assert len(front.token_requests) == 1
        (query,) = front.token_requests
        assert query == {"scope": [f"repository:{WIDGET}:pull"], "service": ["front"]}
        # Only the first request met the challenge; the rest carried the token.
        assert sum(count for key, count in front.requests.items() if key.startswith("HEAD")) == 300
    assert_matches_pushed(snapshot, seeded_registry.widget)


def test_missing_digest_header_falls_back_to_hashing_the_manifest(
    seeded_registry: SeededRegistry,
) -> None:
    with RegistryFront(seeded_registry.server.url, hide_head_digest=True) as front:
        snapshot, _ = fetch(parse_reference(f"{front.host}/{WIDGET}"))
        assert isinstance(snapshot, TagSnapshot), snapshot
    assert_matches_pushed(snapshot, seeded_registry.widget)


def test_unknown_repository_is_a_clear_permanent_error(seeded_registry: SeededRegistry) -> None:
    error, _ = fetch(parse_reference(f"{seeded_registry.server.host}/acme/nothing-here"))
    assert isinstance(error, RegistryError)
    assert not error.transient
    assert error.image == f"{seeded_registry.server.host}/acme/nothing-here"
    assert error.not_found and "no such repository" in error.reason


def test_unreachable_registry_is_a_transient_error() -> None:
    error, _ = fetch(parse_reference(f"127.0.0.1:{free_port()}/acme/widget"))
    assert isinstance(error, RegistryError)
    assert error.transient
    assert "cannot reach 127.0.0.1" in error.reason


def test_one_failing_image_does_not_stop_the_others(
    seeded_registry: SeededRegistry, own_registry: RegistryServer
) -> None:
    good = parse_reference(seeded_registry.widget_reference)
    missing = parse_reference(f"{own_registry.host}/acme/absent")
    client = RegistryClient()
    results = client.fetch_many([good, missing])
    assert isinstance(results[good], TagSnapshot)
    assert isinstance(results[missing], RegistryError)


def test_plain_http_only_for_loopback_and_listed_insecure_hosts() -> None:
    settings = ClientSettings(insecure_registries=frozenset({"registry.internal:5000"}))
    client = RegistrySession(settings)
    assert client.base_url(parse_reference("registry.internal:5000/a/b")) == (
        "http://registry.internal:5000/v2/a/b"
    )
    assert client.base_url(parse_reference("registry.internal/a/b")) == (
        "https://registry.internal/v2/a/b"
    )
    assert client.base_url(parse_reference("localhost:5000/a")) == "http://localhost:5000/v2/a"
    assert client.base_url(parse_reference("docker.io/python")) == (
        "https://registry-1.docker.io/v2/library/python"
    )


def test_concurrent_requests_meeting_a_dead_token_make_one_token_request(
    seeded_registry: SeededRegistry,
) -> None:
    # Each token is good for 40 requests, as if it expired: the 16 requests in flight when it
    # dies all meet a 401 together, and must share one new token.
    with RegistryFront(seeded_registry.server.url, require_token=True, token_uses=40) as front:
        reference = parse_reference(f"{front.host}/{WIDGET}")
        known = {image.digest: image.created for image in seeded_registry.widget}
        snapshot, _ = fetch(reference, known, concurrency=16)
        assert isinstance(snapshot, TagSnapshot), snapshot
        served = sum(count for key, count in front.requests.items() if not key.endswith("/token"))
        accepted = 1 + 300  # the list and the HEADs that got through
        assert len(front.token_requests) == -(-accepted // 40)
        assert served > accepted  # some requests did meet a dead token and were sent again
    assert_matches_pushed(snapshot, seeded_registry.widget)


def test_access_token_field_and_missing_lifetime_are_understood(
    seeded_registry: SeededRegistry,
) -> None:
    with RegistryFront(
        seeded_registry.server.url,
        require_token=True,
        token_field="access_token",
        expires_in=None,
    ) as front:
        snapshot, _ = fetch(parse_reference(f"{front.host}/{GADGET}"))
        assert isinstance(snapshot, TagSnapshot), snapshot
        assert len(snapshot.tags) == 6 and len(front.token_requests) == 1


def test_the_platforms_of_each_index_are_read_once_and_kept(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    image = f"{seeded_registry.server.host}/{GADGET}"
    page = f'<< tag_history "{image}" columns="tags,architectures" >>\n'
    config = write_site(tmp_path, {"a.md": page}, {"cache_dir": "cache", "ttl": 0})
    first = mkdocs_build(config)
    assert first.returncode == 0, first.output
    rows = first.page("a").select(".taghistory tbody tr")
    cells = [[code.get_text() for code in row.select("td")[1].select("code")] for row in rows]
    assert cells == [["linux/amd64", "linux/arm64"]] * len(seeded_registry.gadget)
    snapshot = SnapshotCache(tmp_path / "cache").load(image)
    assert snapshot is not None
    assert {facts.platforms for facts in snapshot.digests.values()} == {
        ("linux/amd64", "linux/arm64")
    }
    # Content-addressed: the next fetch asks for no manifest again.
    reference = parse_reference(image)
    client = RegistryClient(ClientSettings())
    again = client.fetch_many([reference], previous={reference: snapshot})[reference]
    assert client.requests_sent == 1 + len(snapshot.tags)  # the list and a HEAD per tag
    assert isinstance(again, TagSnapshot)
    assert again.digests == snapshot.digests
