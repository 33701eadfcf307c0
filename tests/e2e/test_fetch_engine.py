"""The async fetch engine: one HTTP/2 connection a host with up to 100 streams, the user's
concurrency over the whole site, HTTP/2's own faults retried as dropped connections are, and an
event loop of its own that never outlives a fetch.

The HTTP/2 faults come from :class:`~tests.support.h2_front.H2Front`, a TLS front that speaks
HTTP/2 (ALPN h2 only) in front of the real registry.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import markdown
import pytest
from bs4 import BeautifulSoup

from mkdocs_taghistory import TagHistoryExtension
from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import ImageReference, parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient
from mkdocs_taghistory.registry.host_slots import HTTP2_SLOTS
from mkdocs_taghistory.settings import HostTls, TlsSettings
from tests.support.fixtures import GADGET, WIDGET, SeededRegistry
from tests.support.h2_front import H2Faults, H2Front
from tests.support.seeding import known_digests
from tests.support.tls import CertificateAuthority, KeyPair


@pytest.fixture(scope="module")
def front_pair(test_ca: CertificateAuthority) -> KeyPair:
    return test_ca.issue("h2-front")


@pytest.fixture
def front(
    request: pytest.FixtureRequest, seeded_registry: SeededRegistry, front_pair: KeyPair
) -> Iterator[H2Front]:
    """An HTTP/2 front before the session's registry, with the faults a test marks."""
    marker = request.node.get_closest_marker("faults")
    faults = H2Faults(**marker.kwargs) if marker else H2Faults()
    with H2Front(seeded_registry.server.url, front_pair, faults=faults) as started:
        yield started


def settings_for(front: H2Front, test_ca: CertificateAuthority, **extra: object) -> ClientSettings:
    tls = TlsSettings({front.host: HostTls(ca_file=test_ca.certificate)}, ())
    return ClientSettings(tls=tls, **extra)  # type: ignore[arg-type]


def fetch_widget(
    front: H2Front, seeded: SeededRegistry, settings: ClientSettings
) -> tuple[TagSnapshot | RegistryError, RegistryClient]:
    """A fetch of the 300-tag image, creation times known: its list and a HEAD per tag."""
    reference = parse_reference(f"{front.host}/{WIDGET}")
    created = {image.digest: image.created for image in seeded.widget}
    client = RegistryClient(settings)
    result = client.fetch_many([reference], previous=known_digests(reference, created))
    return result[reference], client


def assert_is_the_widget(result: TagSnapshot | RegistryError, seeded: SeededRegistry) -> None:
    assert isinstance(result, TagSnapshot), result
    expected = {tag: image.digest for image in seeded.widget for tag in image.tags}
    assert {tag: state.digest for tag, state in result.tags.items()} == expected


# --- one connection, many streams --------------------------------------------------------


def test_one_http2_connection_carries_up_to_a_hundred_streams_at_once(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    result, client = fetch_widget(front, seeded_registry, settings_for(front, test_ca))
    assert_is_the_widget(result, seeded_registry)
    assert front.connections == 1
    assert client.counters.http_versions == {"HTTP/2": client.requests_sent}
    # Far more than the 16 connections an HTTP/1.1 host gets, never more than httpcore's cap.
    assert 16 < front.max_streams_in_flight <= HTTP2_SLOTS
    assert client.counters.retries == 0


def test_the_sites_concurrency_caps_the_streams_in_flight(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    settings = settings_for(front, test_ca, concurrency=5)
    result, _ = fetch_widget(front, seeded_registry, settings)
    assert_is_the_widget(result, seeded_registry)
    assert 1 < front.max_streams_in_flight <= 5


@pytest.mark.faults(max_concurrent_streams=4)
def test_a_server_that_allows_few_streams_is_obeyed_on_its_one_connection(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    result, client = fetch_widget(front, seeded_registry, settings_for(front, test_ca))
    assert_is_the_widget(result, seeded_registry)
    assert front.max_streams_in_flight <= 4
    assert front.refused == 0 and front.connections == 1 and client.counters.retries == 0


# --- HTTP/2's faults, retried as a dropped connection is ---------------------------------


@pytest.mark.faults(goaway_after=150, faulty_connections=1)
def test_a_goaway_mid_fetch_is_retried_on_a_new_connection(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    settings = settings_for(front, test_ca, backoff=0.05)
    result, client = fetch_widget(front, seeded_registry, settings)
    assert_is_the_widget(result, seeded_registry)
    assert front.goaways == 1 and front.connections == 2
    assert client.counters.retries > 0


@pytest.mark.faults(reset_every=40)
def test_reset_streams_are_sent_again(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    settings = settings_for(front, test_ca, backoff=0.05)
    result, client = fetch_widget(front, seeded_registry, settings)
    assert_is_the_widget(result, seeded_registry)
    assert front.resets >= 7
    assert client.counters.retries >= front.resets
    assert front.connections == 1  # a reset stream leaves its connection to the others


@pytest.mark.faults(drop_after=120, faulty_connections=1, drop_with_reset=True)
def test_a_connection_dropped_with_streams_in_flight_is_retried(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    settings = settings_for(front, test_ca, backoff=0.05)
    result, client = fetch_widget(front, seeded_registry, settings)
    assert_is_the_widget(result, seeded_registry)
    assert front.drops == 1 and front.connections == 2
    assert client.counters.retries > 0


@pytest.mark.faults(reset_every=1)
def test_a_host_that_resets_every_stream_fails_like_one_that_cannot_be_reached(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    settings = settings_for(front, test_ca, backoff=0.01, retries=2)
    result, client = fetch_widget(front, seeded_registry, settings)
    assert isinstance(result, RegistryError)
    assert result.transient  # the cached table may stand in
    assert f"cannot reach {front.host}" in result.reason
    assert client.requests_sent == 3  # the tag list, sent again twice


@pytest.mark.faults(trickle_paths=f"^/v2/{GADGET}/tags/list", trickle_interval=0.5)
def test_a_trickling_stream_is_cut_off_while_the_others_on_its_connection_go_on(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    widget, gadget = (parse_reference(f"{front.host}/{name}") for name in (WIDGET, GADGET))
    client = RegistryClient(settings_for(front, test_ca, timeout=2))
    started = time.monotonic()
    results = client.fetch_many([widget, gadget])
    assert time.monotonic() - started < 10
    failed = results[gadget]
    assert isinstance(failed, RegistryError) and failed.transient
    assert "did not finish its answer in time" in failed.reason
    assert_is_the_widget(results[widget], seeded_registry)
    assert front.connections == 1


# --- an event loop of its own, never left running ----------------------------------------


def _taghistory_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if "taghistory" in thread.name]


def test_a_fetch_called_inside_a_running_event_loop_runs_beside_it(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    # Python-Markdown called from async code (a web app that renders pages) must still work.
    extension = TagHistoryExtension(
        registry=f"{seeded_registry.server.host}/acme", cache_dir=str(tmp_path / "cache")
    )

    async def render() -> str:
        return markdown.markdown('<< tag_history "gadget" >>', extensions=[extension])

    html = asyncio.run(render())
    rows = BeautifulSoup(html, "html.parser").select(".taghistory tbody tr")
    assert len(rows) == len(seeded_registry.gadget)
    assert _taghistory_threads() == []


def test_no_event_loop_outlives_a_fetch(seeded_registry: SeededRegistry) -> None:
    reference: ImageReference = parse_reference(f"{seeded_registry.server.host}/{GADGET}")
    for _ in range(2):  # a second fetch makes its own loop, as a rebuild of mkdocs serve does
        result = RegistryClient().fetch_many([reference])[reference]
        assert isinstance(result, TagSnapshot), result
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    assert _taghistory_threads() == []


# --- streams cut short, and the server's own limit -----------------------------------------


@pytest.mark.faults(max_concurrent_streams=2, trickle_paths=f"^/v2/{GADGET}/tags/list")
def test_a_stream_cut_short_is_reset_so_it_never_holds_a_place_the_server_allows(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    # httpcore forgets a stream it stops reading without telling the server; unreset, the
    # trickled one would hold one of the two streams allowed until it ends, for ever here.
    widget, gadget = (parse_reference(f"{front.host}/{name}") for name in (WIDGET, GADGET))
    client = RegistryClient(settings_for(front, test_ca, timeout=2, backoff=0.01))
    results = client.fetch_many([widget, gadget])
    assert isinstance(results[gadget], RegistryError)
    assert_is_the_widget(results[widget], seeded_registry)
    # At most the stream the server had not yet seen reset was refused once and sent again.
    assert client.counters.retries == front.refused <= 1


@pytest.mark.faults(max_concurrent_streams=4, hold_paths="/manifests/", hold_seconds=0.05)
def test_requests_beyond_the_streams_a_server_allows_wait_without_their_clock_running(
    front: H2Front, seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    # 300 HEADs of 0.05 s, four at a time: almost 4 s in all. Sent a hundred at once, the
    # hundredth would wait 1.25 s inside httpcore for a stream, past its 1 s timeout.
    settings = settings_for(front, test_ca, timeout=1, retries=0)
    result, _ = fetch_widget(front, seeded_registry, settings)
    assert_is_the_widget(result, seeded_registry)
    assert front.max_streams_in_flight <= 4


@pytest.mark.faults(bad_frame_paths=f"^/v2/{GADGET}/tags/list")
def test_a_frame_the_protocol_forbids_mid_body_is_a_connection_failure(
    front: H2Front, test_ca: CertificateAuthority
) -> None:
    gadget = parse_reference(f"{front.host}/{GADGET}")
    client = RegistryClient(settings_for(front, test_ca, retries=1, backoff=0.01))
    failed = client.fetch_many([gadget])[gadget]
    assert isinstance(failed, RegistryError) and failed.transient
    assert f"cannot reach {front.host}" in failed.reason
    assert client.requests_sent == 2  # sent again once, as a dropped connection is


def test_a_fetch_leaves_the_callers_event_loop_as_it_was(
    seeded_registry: SeededRegistry,
) -> None:
    # A host that set a current loop (a script, another extension) still has it afterwards.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        reference = parse_reference(f"{seeded_registry.server.host}/{GADGET}")
        assert isinstance(RegistryClient().fetch_many([reference])[reference], TagSnapshot)
        assert asyncio.get_event_loop() is loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()
