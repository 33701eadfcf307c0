"""Vendor APIs for the true "Last Changed": Chainguard's tag history (through a front on the
real registry), Docker Hub, Quay and GitHub (loopback stand-ins with their documented shapes)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot, TagState
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import (
    ClientSettings,
    FetchRun,
    RegistryClient,
    VendorSetting,
    default_vendor,
)
from mkdocs_taghistory.registry.session import RegistrySession
from mkdocs_taghistory.settings import Credentials
from tests.support.fixtures import WIDGET, SeededRegistry
from tests.support.front import RegistryFront
from tests.support.seeding import sha256
from tests.support.vendor_apis import (
    AcrApi,
    DockerHubApi,
    GitHubPackagesApi,
    GitLabApi,
    GoogleRegistryApi,
    HarborApi,
    JsonApi,
    QuayApi,
    Recorded,
    VendorTag,
)

BASE = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch(
    image: str,
    vendors: dict[str, VendorSetting],
    credentials: dict[str, Credentials] | None = None,
) -> tuple[TagSnapshot | RegistryError, int]:
    reference = parse_reference(image)
    settings = ClientSettings(vendors=vendors, retries=0, credentials=credentials or {})
    client = RegistryClient(settings)
    return client.fetch_many([reference])[reference], client.requests_sent


def vendor_tags(count: int, per_digest: int = 3) -> list[VendorTag]:
    return [
        VendorTag(
            f"1.{number}",
            sha256(f"digest {number // per_digest}".encode()),
            BASE + timedelta(hours=number // per_digest),
        )
        for number in range(count)
    ]


def assert_snapshot_is(snapshot: object, tags: list[VendorTag]) -> None:
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert {tag: (state.digest, state.changed) for tag, state in snapshot.tags.items()} == {
        tag.name: (tag.digest, tag.changed) for tag in tags
    }


# --- Chainguard --------------------------------------------------------------------------


def test_chainguard_history_gives_digest_and_time_without_head_requests(
    seeded_registry: SeededRegistry,
) -> None:
    history: dict[str, list[dict[str, str]]] = {}
    expected: dict[str, tuple[str, datetime]] = {}
    old_digest = sha256(b"an earlier build")
    for number, image in enumerate(seeded_registry.widget):
        for tag in image.tags:
            changed = BASE + timedelta(days=number)
            history[tag] = [
                {"updateTimestamp": stamp(changed - timedelta(days=30)), "digest": old_digest},
                # Older answers capitalised the keys; both spellings are read.
                {"UpdateTimestamp": stamp(changed), "Digest": image.digest}
                if number % 2
                else {"updateTimestamp": stamp(changed), "digest": image.digest},
            ]
            expected[tag] = (image.digest, changed)
    # One tag with a long history: 2,500 records, paged 1,000 at a time.
    latest_image = seeded_registry.widget[-1]
    history["latest"] = [
        {"updateTimestamp": stamp(BASE - timedelta(hours=2500 - n)), "digest": old_digest}
        for n in range(2499)
    ] + [{"updateTimestamp": stamp(BASE + timedelta(days=400)), "digest": latest_image.digest}]
    expected["latest"] = (latest_image.digest, BASE + timedelta(days=400))
    # A tag the history API does not know is read the generic way.
    unknown = seeded_registry.widget[0].tags[0]
    del history[unknown]
    expected[unknown] = (seeded_registry.widget[0].digest, seeded_registry.widget[0].created)

    with RegistryFront(
        seeded_registry.server.url, require_token=True, chainguard_history=history
    ) as front:
        snapshot, _ = fetch(f"{front.host}/{WIDGET}", {front.host: VendorSetting("chainguard")})
        assert isinstance(snapshot, TagSnapshot), snapshot
        assert {t: (s.digest, s.changed) for t, s in snapshot.tags.items()} == expected
        assert snapshot.source == "chainguard"
        heads = [key for key in front.requests if key.startswith("HEAD")]
        assert heads == [f"HEAD /v2/{WIDGET}/manifests/{unknown}"]
        history_calls = front.requests[f"GET /v2/{WIDGET}/_chainguard/history/latest"]
        assert history_calls == 3
        # The history API shares the registry's token: one token request in all.
        assert len(front.token_requests) == 1


def test_chainguard_refresh_reads_only_the_records_since_the_cached_one(
    seeded_registry: SeededRegistry,
) -> None:
    first, second = seeded_registry.widget[:2]
    history = {
        tag: [
            {"updateTimestamp": stamp(BASE - timedelta(hours=2500 - n)), "digest": second.digest}
            for n in range(2499)
        ]
        + [{"updateTimestamp": stamp(BASE), "digest": first.digest}]
        for tag in first.tags
    }
    moved = first.tags[0]
    with RegistryFront(seeded_registry.server.url, chainguard_history=history) as front:
        reference = parse_reference(f"{front.host}/{WIDGET}")
        settings = ClientSettings(vendors={front.host: VendorSetting("chainguard")}, retries=0)
        client = RegistryClient(settings)
        cold = client.fetch_many([reference])[reference]
        assert isinstance(cold, TagSnapshot), cold
        assert all(cold.tags[tag] == TagState(first.digest, BASE) for tag in first.tags)
        assert len(front.history_starts) == 3 * len(first.tags)  # 2,500 records: 3 pages
        # Then one tag moves, and the cache is refreshed from what it holds.
        history[moved].append(
            {"updateTimestamp": stamp(BASE + timedelta(days=1)), "digest": second.digest}
        )
        front.history_starts.clear()
        client = RegistryClient(settings)
        warm = client.fetch_many([reference], previous={reference: cold})[reference]
        assert isinstance(warm, TagSnapshot), warm
        # One request a tag, each from its newest cached record's time on.
        assert sorted(front.history_starts) == sorted((tag, stamp(BASE)) for tag in first.tags)
        assert warm.tags[moved] == TagState(second.digest, BASE + timedelta(days=1))
        assert all(warm.tags[tag] == cold.tags[tag] for tag in first.tags[1:])


def test_chainguard_invalid_history_records_are_dropped(
    seeded_registry: SeededRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    image = seeded_registry.widget[0]
    history = {
        tag: [
            {"updateTimestamp": "yesterday", "digest": image.digest},
            {"updateTimestamp": stamp(BASE), "digest": "sha256:<script>"},
            {"updateTimestamp": stamp(BASE - timedelta(days=1)), "digest": image.digest},
        ]
        for other in seeded_registry.widget
        for tag in other.tags
    }
    with RegistryFront(seeded_registry.server.url, chainguard_history=history) as front:
        snapshot, _ = fetch(f"{front.host}/{WIDGET}", {front.host: VendorSetting("chainguard")})
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert {state.digest for state in snapshot.tags.values()} == {image.digest}
    assert {state.changed for state in snapshot.tags.values()} == {BASE - timedelta(days=1)}
    assert "dropping an invalid history record" in caplog.text


# --- Docker Hub --------------------------------------------------------------------------


def test_docker_hub_api_lists_every_tag_in_pages_without_registry_requests() -> None:
    tags = vendor_tags(250)
    with DockerHubApi(tags=tags) as hub:
        snapshot, requests = fetch(
            "docker.io/python", {"docker.io": VendorSetting("dockerhub", hub.url)}
        )
        assert [request.query.get("page", ["1"]) for request in hub.requests] == [
            ["1"],
            ["2"],
            ["3"],
        ]
    assert_snapshot_is(snapshot, tags)
    assert requests == 3
    assert isinstance(snapshot, TagSnapshot) and snapshot.source == "dockerhub"


def test_docker_hub_login_token_is_used_and_kept_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tags = vendor_tags(5)
    with DockerHubApi(tags=tags, login=("hubuser", "hub-password-secret")) as hub:
        snapshot, _ = fetch(
            "docker.io/python",
            {"docker.io": VendorSetting("dockerhub", hub.url)},
            {"docker.io": Credentials("hubuser", "hub-password-secret")},
        )
        assert [request.path for request in hub.requests] == [
            "/v2/auth/token",
            "/v2/namespaces/library/repositories/python/tags",
        ]
        assert json.loads(hub.requests[0].body) == {
            "identifier": "hubuser",
            "secret": "hub-password-secret",
        }
        assert hub.requests[1].headers["authorization"] == f"Bearer {hub.token}"
    assert_snapshot_is(snapshot, tags)
    assert "hub-password-secret" not in caplog.text and hub.token not in caplog.text


def test_docker_hub_public_repositories_need_no_login_and_tags_without_digest_get_a_head(
    seeded_registry: SeededRegistry,
) -> None:
    host = seeded_registry.server.host
    first, second = seeded_registry.widget[:2]
    listed = [VendorTag(tag, first.digest, BASE) for tag in first.tags]
    # As Hub lists older multi-platform tags: a manifest list, no digest, its push time given.
    pushed = BASE - timedelta(days=1400)
    undigested = [VendorTag(tag, sha256(b"amd64 image"), pushed) for tag in second.tags]
    with DockerHubApi(
        namespace="acme", repository="widget", tags=listed, without_digest=undigested
    ) as hub:
        snapshot, _ = fetch(f"{host}/{WIDGET}", {host: VendorSetting("dockerhub", hub.url)})
        assert "authorization" not in hub.requests[0].headers
    assert isinstance(snapshot, TagSnapshot), snapshot
    # Hub's tags with its push times; the tags it gave no digest read from the registry.
    assert {tag: state.digest for tag, state in snapshot.tags.items()} == {
        **{tag: first.digest for tag in first.tags},
        **{tag: second.digest for tag in second.tags},
    }
    assert {snapshot.tags[tag].changed for tag in first.tags} == {BASE}
    # Their "Last Changed" is still Hub's tag_last_pushed, not the image's build time.
    assert second.created != pushed
    assert {snapshot.tags[tag].changed for tag in second.tags} == {pushed}


def test_docker_hub_rate_limit_is_waited_out_as_x_retry_after_asks() -> None:
    tags = vendor_tags(5)
    with DockerHubApi(tags=tags, rate_limited=1, retry_in=1) as hub:
        settings = ClientSettings(vendors={"docker.io": VendorSetting("dockerhub", hub.url)})
        client = RegistryClient(settings)
        reference = parse_reference("docker.io/python")
        snapshot = client.fetch_many([reference])[reference]
        assert client.counters.retries == 1
        assert len(hub.requests) == 2
    assert_snapshot_is(snapshot, tags)


def test_docker_hub_unknown_repository_falls_back_to_the_registry(
    seeded_registry: SeededRegistry,
) -> None:
    # A vendor API that does not know the repository (private, say) is not the last word:
    # the registry itself is asked.
    host = seeded_registry.server.host
    with DockerHubApi(namespace="other", tags=vendor_tags(3)) as hub:
        snapshot, _ = fetch(f"{host}/{WIDGET}", {host: VendorSetting("dockerhub", hub.url)})
        assert len(hub.requests) == 1
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert len(snapshot.tags) == 300 and snapshot.source == "oci"


# --- Quay --------------------------------------------------------------------------------


def test_quay_api_pages_while_it_has_more_and_reads_rfc_2822_dates() -> None:
    tags = vendor_tags(230)
    with QuayApi(tags=tags) as quay:
        snapshot, requests = fetch("quay.io/org/app", {"quay.io": VendorSetting("quay", quay.url)})
        assert [request.query["page"] for request in quay.requests] == [["1"], ["2"], ["3"]]
        assert all(request.query["onlyActiveTags"] == ["true"] for request in quay.requests)
    assert_snapshot_is(snapshot, tags)
    assert requests == 3


# --- GitHub Container Registry -----------------------------------------------------------


def test_ghcr_with_a_token_reads_the_packages_api_of_a_user_account() -> None:
    tags = vendor_tags(240, per_digest=2)
    with GitHubPackagesApi(tags=tags, untagged=[sha256(b"untagged")]) as github:
        snapshot, _ = fetch(
            "ghcr.io/octo/app",
            {"ghcr.io": VendorSetting("ghcr", github.url)},
            {"ghcr.io": Credentials("octo", github.token)},
        )
        paths = [(request.path, request.query.get("page")) for request in github.requests]
        assert paths[0] == ("/orgs/octo/packages/container/app/versions", None)
        assert paths[1:] == [
            ("/users/octo/packages/container/app/versions", None),
            ("/users/octo/packages/container/app/versions", ["2"]),
        ]
        assert github.requests[1].headers["authorization"] == f"Bearer {github.token}"
    assert_snapshot_is(snapshot, tags)


def test_ghcr_without_a_token_uses_the_generic_path(
    seeded_registry: SeededRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    host = seeded_registry.server.host
    caplog.set_level(logging.DEBUG, logger="mkdocs_taghistory")
    with GitHubPackagesApi() as github:
        snapshot, _ = fetch(f"{host}/{WIDGET}", {host: VendorSetting("ghcr", github.url)})
        assert github.requests == []
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert snapshot.source == "oci" and len(snapshot.tags) == 300
    # --verbose says which path the image took, and why.
    assert (
        f"{host}/{WIDGET}: read by the generic path (not ghcr: the GitHub API needs a token); "
        "300 tags, 0 skipped"
    ) in caplog.text


def test_a_vendor_giving_up_half_way_leaves_nothing_behind(seeded_registry: SeededRegistry) -> None:
    # Page 1 of the GitHub API answers, page 2 is refused: the registry is read instead, and
    # the table holds its tags alone, not a mix of both sources.
    host = seeded_registry.server.host
    stand_in = vendor_tags(150, per_digest=1)  # 150 versions: two pages of 100
    with GitHubPackagesApi(
        owner="acme", package="widget", tags=stand_in, forbidden_from_page=2
    ) as github:
        snapshot, _ = fetch(
            f"{host}/{WIDGET}",
            {host: VendorSetting("ghcr", github.url)},
            {host: Credentials("acme", github.token)},
        )
        assert len(github.requests) >= 2
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert snapshot.source == "oci"
    assert set(snapshot.tags) == {tag for image in seeded_registry.widget for tag in image.tags}


def test_vendor_type_on_another_host_is_asked_there_and_shared_between_images() -> None:
    settings = ClientSettings(vendors={"quay.internal.example": VendorSetting("quay")})
    client = FetchRun(RegistrySession(settings), settings)
    internal = client.vendor_for(parse_reference("quay.internal.example/team/app"))
    assert internal.url == "https://quay.internal.example"
    assert client.vendor_for(parse_reference("quay.io/a/b")).url == "https://quay.io"
    hub = client.vendor_for(parse_reference("docker.io/python"))
    assert hub.url == "https://hub.docker.com"
    assert client.vendor_for(parse_reference("docker.io/golang")) is hub
    assert client.vendor_for(parse_reference("r.example/x")).name == "oci"


def test_a_chainguard_history_that_never_ends_is_an_error_after_a_bounded_read(
    seeded_registry: SeededRegistry,
) -> None:
    # Every page full, every record new: a history API that pages on without end. The read
    # stops at 20 pages (20,000 records) for the tag instead of growing without bound.
    image = seeded_registry.widget[0]
    endless = [
        {"updateTimestamp": stamp(BASE + timedelta(minutes=n)), "digest": image.digest}
        for n in range(25_000)
    ]
    history = {tag: endless for tag in image.tags[:1]}
    with RegistryFront(seeded_registry.server.url, chainguard_history=history) as front:
        error, _ = fetch(f"{front.host}/{WIDGET}", {front.host: VendorSetting("chainguard")})
    assert isinstance(error, RegistryError)
    assert f"the history of tag {image.tags[0]} runs past 20 pages" in error.reason
    assert front.requests[f"GET /v2/{WIDGET}/_chainguard/history/{image.tags[0]}"] == 20


# --- Bulk listings: Google, Azure, GitLab, Harbor ----------------------------------------


def authorised(api: JsonApi, path: str) -> list[Recorded]:
    return [
        request
        for request in api.requests
        if request.path == path and request.headers.get("authorization")
    ]


def test_google_tag_list_gives_every_digest_and_push_time_in_one_request() -> None:
    tags = vendor_tags(60)
    with GoogleRegistryApi(tags=tags) as google:
        host = google.url.removeprefix("http://")
        snapshot, requests = fetch(f"{host}/proj/app", {host: VendorSetting("google")})
        assert len(authorised(google, "/v2/proj/app/tags/list")) == 1
        # The token exchange of any registry, then the one list: no HEAD, no manifest.
        assert [request.path for request in google.requests] == [
            "/v2/proj/app/tags/list",
            "/token",
            "/v2/proj/app/tags/list",
        ]
    assert_snapshot_is(snapshot, tags)  # "Last Changed" is timeUploadedMs
    assert requests == 3
    assert isinstance(snapshot, TagSnapshot) and snapshot.source == "google"


def test_google_and_azure_hosts_are_known_by_their_names() -> None:
    assert default_vendor("europe-docker.pkg.dev").name == "google"
    assert default_vendor("us-central1-docker.pkg.dev").name == "google"
    assert default_vendor("gcr.io").name == default_vendor("eu.gcr.io").name == "google"
    assert default_vendor("contoso.azurecr.io").name == "acr"
    assert default_vendor("registry.gitlab.com").name == "gitlab"
    assert default_vendor("notgcr.io").name == default_vendor("pkg.dev.example").name == "oci"


def test_google_type_on_a_registry_without_the_manifest_map_reads_it_the_generic_way(
    seeded_registry: SeededRegistry,
) -> None:
    host = seeded_registry.server.host
    snapshot, _ = fetch(f"{host}/{WIDGET}", {host: VendorSetting("google")})
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert len(snapshot.tags) == 300
    assert {state.digest for state in snapshot.tags.values()} == {
        image.digest for image in seeded_registry.widget
    }


def test_acr_tag_api_pages_newest_first_with_the_metadata_scope() -> None:
    tags = vendor_tags(230)
    with AcrApi(tags=tags) as acr:
        host = acr.url.removeprefix("http://")
        snapshot, _ = fetch(f"{host}/org/app", {host: VendorSetting("acr")})
        pages = authorised(acr, "/acr/v1/org/app/_tags")
        assert [page.query.get("last") is None for page in pages] == [True, False, False]
        assert all(page.query["orderby"] == ["timedesc"] for page in pages)
        (token,) = [request for request in acr.requests if request.path == "/token"]
        assert token.query["scope"] == ["repository:org/app:metadata_read"]
    assert_snapshot_is(snapshot, tags)
    assert isinstance(snapshot, TagSnapshot) and snapshot.source == "acr"


def test_gitlab_tag_api_gives_publication_times_in_pages_of_a_thousand() -> None:
    tags = vendor_tags(1500)
    with GitLabApi(tags=tags) as gitlab:
        host = gitlab.url.removeprefix("http://")
        snapshot, _ = fetch(f"{host}/group/project/app", {host: VendorSetting("gitlab")})
        pages = authorised(gitlab, "/gitlab/v1/repositories/group/project/app/tags/list/")
        assert [page.query["n"] for page in pages] == [["1000"], ["1000"]]
    assert_snapshot_is(snapshot, tags)  # published_at, not created_at or updated_at


def test_gitlab_without_its_metadata_database_is_read_the_generic_way(
    seeded_registry: SeededRegistry,
) -> None:
    # Debian's registry has no /gitlab/v1: 404, as a self-managed GitLab without the database.
    host = seeded_registry.server.host
    snapshot, _ = fetch(f"{host}/{WIDGET}", {host: VendorSetting("gitlab")})
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert snapshot.source == "oci" and len(snapshot.tags) == 300


def test_harbor_artifacts_give_tags_and_push_times_with_the_name_encoded_twice() -> None:
    tags = vendor_tags(250, per_digest=2)  # 125 artifacts: two pages of 100
    with HarborApi(tags=tags, login=("robot$docs", "harbor-secret")) as harbor:
        host = harbor.url.removeprefix("http://")
        image = f"{host}/library/team/app"
        snapshot, requests = fetch(
            image,
            {host: VendorSetting("harbor")},
            {host: Credentials("robot$docs", "harbor-secret")},
        )
        path = "/api/v2.0/projects/library/repositories/team%252Fapp/artifacts"
        assert [request.path for request in harbor.requests] == [path, path]
        assert [request.query["page"] for request in harbor.requests] == [["1"], ["2"]]
        assert all(request.query["with_tag"] == ["true"] for request in harbor.requests)
        assert requests == 2
        # Without the private project's credentials: the registry itself, the generic way.
        fallback, _ = fetch(image, {host: VendorSetting("harbor")})
        assert "/v2/library/team/app/tags/list" in [r.path for r in harbor.requests]
    assert_snapshot_is(snapshot, tags)
    assert isinstance(fallback, RegistryError)  # the stand-in is no registry
