"""Registries that answer API calls with a redirect, as registry.k8s.io does (to Artifact
Registry): followed across hosts, never with the first registry's credentials or token."""

from __future__ import annotations

import pytest

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import RegistryClient
from mkdocs_taghistory.settings import ClientSettings, Credentials, HostTls, TlsSettings
from tests.support.fixtures import GADGET, PASSWORD, USER, SeededRegistry
from tests.support.front import RegistryFront
from tests.support.tls import CertificateAuthority


def fetch(settings: ClientSettings, image: str) -> TagSnapshot | RegistryError:
    reference = parse_reference(image)
    client = RegistryClient(settings)
    return client.fetch_many([reference])[reference]


def trusting(ca: CertificateAuthority, *fronts: RegistryFront) -> TlsSettings:
    return TlsSettings({front.host: HostTls(ca_file=ca.certificate) for front in fronts}, ())


def test_api_calls_redirected_to_another_host_are_followed_with_its_own_anonymous_token(
    seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    upstream = seeded_registry.server.url
    pair = test_ca.issue("redirect-fronts")
    with (
        # The second registry pages its tag list, so the next-page links point at it too.
        RegistryFront(
            upstream, require_token=True, page_size=2, tls=pair, token_prefix="second"
        ) as second,
        RegistryFront(
            upstream,
            require_token=True,
            token_credentials=(USER, PASSWORD),
            redirect_api_to=second.url,
            tls=pair,
            token_prefix="first",
        ) as first,
    ):
        credentials = {first.host: Credentials(USER, PASSWORD)}
        settings = ClientSettings(credentials=credentials, tls=trusting(test_ca, first, second))
        result = fetch(settings, f"{first.host}/{GADGET}")

    assert isinstance(result, TagSnapshot), result
    expected = {tag: image.digest for image in seeded_registry.gadget for tag in image.tags}
    assert {tag: state.digest for tag, state in result.tags.items()} == expected
    # Every tag list page and manifest came from the second host...
    assert second.listed_pages == 3
    assert any(path.startswith("HEAD /v2/acme/gadget/manifests/") for path in second.requests)
    # ...which never saw the first host's credentials or tokens, and asked its own token server
    # without any credentials.
    assert second.authorizations, "the second host asked for a token and got it back"
    assert all(header.startswith("Bearer second-") for header in second.authorizations)
    assert second.token_requests
    # The first host was asked with its own token, got with the credentials it wanted.
    assert all(header.startswith(("Bearer first-", "Basic ")) for header in first.authorizations)


def test_a_redirect_loop_is_a_clear_error(seeded_registry: SeededRegistry) -> None:
    with RegistryFront(seeded_registry.server.url) as front:
        front.redirect_api_to = front.url
        result = fetch(ClientSettings(), f"{front.host}/{GADGET}")
    assert isinstance(result, RegistryError)
    assert "redirected more than 10 times" in str(result)
    assert result.transient  # an unusable answer: a cached table may stand in


def test_a_redirect_from_https_to_plain_http_is_not_followed(
    seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    upstream = seeded_registry.server.url
    with (
        RegistryFront(upstream) as plain,
        RegistryFront(
            upstream, redirect_api_to=plain.url, tls=test_ca.issue("https-front")
        ) as secure,
    ):
        settings = ClientSettings(tls=trusting(test_ca, secure))
        result = fetch(settings, f"{secure.host}/{GADGET}")
    assert isinstance(result, RegistryError)
    assert "redirected from HTTPS to plain HTTP" in str(result)
    assert not plain.requests


@pytest.mark.parametrize("status", [301, 302, 308])
def test_every_redirect_status_of_an_api_call_is_followed(
    seeded_registry: SeededRegistry, status: int
) -> None:
    upstream = seeded_registry.server.url
    with RegistryFront(upstream) as target, RegistryFront(upstream) as front:
        front.redirect_api_to = target.url
        front.redirect_status = status
        result = fetch(ClientSettings(), f"{front.host}/{GADGET}")
    assert isinstance(result, TagSnapshot), result
    assert len(result.tags) == 6
    assert sum(count for path, count in target.requests.items() if "/manifests/" in path) >= 6
