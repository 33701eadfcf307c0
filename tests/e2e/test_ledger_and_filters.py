"""What the plugin observes itself (the ledger) and which tags a table shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import markdown
from bs4 import BeautifulSoup

from mkdocs_taghistory import TagHistoryExtension
from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.history import (
    DigestFacts,
    TagSnapshot,
    TagState,
    group_by_digest,
    record_sightings,
)
from mkdocs_taghistory.patterns import compile_pattern
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.site import plan_site
from mkdocs_taghistory.site_options import settings_from_options
from tests.support.fixtures import WIDGET
from tests.support.registry_server import RegistryServer
from tests.support.seeding import OCI_INDEX, Pusher, seed_image
from tests.support.site import mkdocs_build, table_rows, write_site

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def snapshot(at: datetime, tags: dict[str, str], source: str = "oci") -> TagSnapshot:
    created = {A: T0 - timedelta(days=10), B: T0 - timedelta(days=20)}
    return TagSnapshot(
        "h.io/x",
        at,
        {tag: TagState(d, created[d]) for tag, d in tags.items()},
        {digest: DigestFacts(created=time) for digest, time in created.items()},
        source,
    )


def test_a_move_seen_between_fetches_becomes_the_tags_last_change() -> None:
    first = record_sightings(snapshot(T0, {"latest": A, "1": A}), None)
    assert first.tags["latest"].changed == T0 - timedelta(days=10)  # the image's creation
    later = T0 + timedelta(days=1)
    second = record_sightings(snapshot(later, {"latest": B, "1": A}), first)
    # latest moved to an older image: the registry's times cannot say when, the ledger can.
    assert second.tags["latest"].changed == later
    assert second.tags["1"].changed == T0 - timedelta(days=10)
    assert [(s.digest, s.first_seen) for s in second.ledger["latest"]] == [(A, T0), (B, later)]
    assert [(s.digest, s.first_seen) for s in second.ledger["1"]] == [(A, T0)]


def test_vendor_times_are_kept_and_the_ledger_still_grows() -> None:
    first = record_sightings(snapshot(T0, {"latest": A}, "chainguard"), None)
    second = record_sightings(snapshot(T0 + timedelta(days=1), {"latest": B}, "chainguard"), first)
    assert second.tags["latest"].changed == T0 - timedelta(days=20)
    assert len(second.ledger["latest"]) == 2


def test_retagging_on_a_real_registry_is_recorded_across_builds(
    own_registry: RegistryServer, tmp_path: Path
) -> None:
    pushed = seed_image(own_registry.url, WIDGET, digests=2, tags_per_digest=2)
    service_settings = settings_from_options({"retries": 0, "ttl": 0, "cache_dir": ""}, tmp_path)
    service_settings = service_settings._replace(cache_dir=tmp_path)
    reference = parse_reference(f"{own_registry.host}/{WIDGET}")
    first = TagHistoryService(service_settings).results_for([reference])[reference].snapshot
    assert first is not None
    # Move "1.0" from the first image to the second, as a release pipeline would.
    with httpx.Client(base_url=own_registry.url) as client:
        body = client.get(
            f"/v2/{WIDGET}/manifests/{pushed[1].digest}", headers={"Accept": OCI_INDEX}
        ).content
        Pusher(client, WIDGET).manifest("1.0", body, OCI_INDEX)
    second = TagHistoryService(service_settings).results_for([reference])[reference].snapshot
    assert second is not None
    assert second.tags["1.0"].digest == pushed[1].digest
    assert second.tags["1.0"].changed == second.fetched_at
    assert [s.digest for s in second.ledger["1.0"]] == [pushed[0].digest, pushed[1].digest]
    assert second.tags["latest"].changed == pushed[1].created

    # A page can show the tag's history over time from what was observed.
    html = markdown.markdown(
        f'<< tag_history "{reference.name}" tag=1.0 >>',
        extensions=[TagHistoryExtension(cache_dir=str(tmp_path), offline=True)],
    )
    soup = BeautifulSoup(html, "html.parser")
    assert [th.get_text() for th in soup.select("th")] == [
        "Digest of 1.0",
        "First Seen by This Site",
    ]
    digests = [row.select("td")[0].get_text() for row in soup.select("tbody tr")]
    assert digests == [pushed[1].digest, pushed[0].digest]


def test_signature_tags_are_hidden_by_default_and_filters_combine() -> None:
    tags = {
        "latest": A,
        "1.2.3": A,
        "1.2.3-r1": A,
        "latest-20240318": A,
        f"sha256-{'c' * 64}.sig": B,
        f"sha256-{'c' * 64}.att": B,
        f"sha256-{'c' * 64}": B,
        "1.2.3-dev": A,
    }
    shown = snapshot(T0, tags)

    def visible(tag_filter: TagFilter) -> list[str]:
        return [tag for group in group_by_digest(shown, tag_filter) for tag in group.tags]

    assert visible(TagFilter()) == ["1.2.3", "1.2.3-dev", "1.2.3-r1", "latest", "latest-20240318"]
    assert visible(TagFilter(hide_builds=True)) == ["1.2.3", "1.2.3-dev", "latest"]
    assert visible(TagFilter(hide_signatures=False))[-3:] == [
        f"sha256-{'c' * 64}",
        f"sha256-{'c' * 64}.att",
        f"sha256-{'c' * 64}.sig",
    ]
    include, exclude = compile_pattern(r"^1\.", "include"), compile_pattern("dev", "exclude")
    assert visible(TagFilter(include=(include,), exclude=(exclude,))) == [
        "1.2.3",
        "1.2.3-r1",
    ]


def test_filter_options_apply_to_a_built_site(own_registry: RegistryServer, tmp_path: Path) -> None:
    pushed = seed_image(own_registry.url, WIDGET, digests=2, tags_per_digest=3)
    with httpx.Client(base_url=own_registry.url) as client:
        body = client.get(
            f"/v2/{WIDGET}/manifests/{pushed[0].digest}", headers={"Accept": OCI_INDEX}
        ).content
        pusher = Pusher(client, WIDGET)
        pusher.manifest(f"sha256-{pushed[0].digest[7:]}.sig", body, OCI_INDEX)
        pusher.manifest("1.0.0-r3", body, OCI_INDEX)
    config = write_site(
        tmp_path,
        {"w.md": f'<< tag_history "{own_registry.host}/{WIDGET}" >>\n'},
        {"cache_dir": "cache", "hide_build_tags": True, "exclude_tags": r"^1\.1\.1$"},
    )
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    shown = sorted(tag for tags, _, _ in table_rows(build.page("w")) for tag in tags)
    assert shown == ["1.0", "1.0.0", "1.0.1", "1.1.0", "latest"]


def tag_again(registry_url: str, repository: str, digest: str, tags: list[str]) -> None:
    """Point more tags at an index already pushed."""
    with httpx.Client(base_url=registry_url, timeout=30) as client:
        body = client.get(
            f"/v2/{repository}/manifests/{digest}", headers={"Accept": OCI_INDEX}
        ).content
        pusher = Pusher(client, repository)
        for tag in tags:
            pusher.manifest(tag, body, OCI_INDEX)


def test_tags_no_table_shows_are_never_read(own_registry: RegistryServer, tmp_path: Path) -> None:
    # 20 tags a table shows over 5 digests, and 40 per-build tags (-r<N>) beside them.
    pushed = seed_image(own_registry.url, WIDGET, digests=5, tags_per_digest=4)
    for index in pushed:
        builds = [f"{tag}-r{number}" for tag in index.tags for number in (1, 2)]
        tag_again(own_registry.url, WIDGET, index.digest, builds)
    image = f"{own_registry.host}/{WIDGET}"
    settings = settings_from_options({"cache_dir": "cache", "hide_build_tags": True}, tmp_path)

    def requests_for(page: str, service: TagHistoryService) -> tuple[int, TagSnapshot]:
        plan = plan_site([("page.md", page)], service.settings)
        result = service.results_for(plan.references, plan.demand(service.settings))[
            plan.references[0]
        ]
        assert result.snapshot is not None and service.last_summary is not None
        return service.last_summary.requests, result.snapshot

    directive = f'<< tag_history "{image}" >>\n'
    filtered, snapshot = requests_for(directive, TagHistoryService(settings))
    assert len(snapshot.tags) == 20 and len(snapshot.skipped) == 40
    assert all(tag.endswith(("-r1", "-r2")) for tag in snapshot.skipped)
    # Every tag read: the 40 HEADs more, and nothing else.
    everything = TagHistoryService(settings._replace(cache_dir=None, tag_filter=TagFilter()))
    unfiltered, whole = requests_for(directive, everything)
    assert len(whole.tags) == 60 and unfiltered - filtered == 40
    # The cache says what it skipped: a table that shows none of it is served from it, with
    # the site's filter off and a directive's own pattern in its place...
    shown = settings._replace(tag_filter=TagFilter())
    narrowed, snapshot = requests_for(
        f'<< tag_history "{image}" exclude="-r[0-9]+$" >>\n', TagHistoryService(shown)
    )
    assert len(snapshot.tags) == 20 and narrowed == 0
    # ... and a table that shows a skipped tag has the image read again, fresh as it is.
    refetched, snapshot = requests_for(directive, TagHistoryService(shown))
    assert refetched > 0 and len(snapshot.tags) == 60 and snapshot.skipped == ()
    again, _ = requests_for(directive, TagHistoryService(shown))
    assert again == 0  # now fresh and whole: no request
