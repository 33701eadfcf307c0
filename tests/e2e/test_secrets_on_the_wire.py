"""What leaves the machine, and where: no cookie is ever sent back, no password crosses the
network in the clear unless the user says so for that host, and loopback is never proxied.

A host "off this machine" is a name no resolver knows (``registry.invalid``), reached through a
loopback forward proxy (``HTTP_PROXY``) that hands every request to a real registry: every byte
stays on loopback, and the proxy's records show what would have crossed the network.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient, VendorSetting
from mkdocs_taghistory.registry.proxies import NoProxy, Proxies
from mkdocs_taghistory.settings import Credentials
from tests.support.fixtures import PASSWORD, USER, WIDGET, SeededRegistry
from tests.support.forward_proxy import ForwardProxy
from tests.support.front import RegistryFront
from tests.support.vendor_apis import HarborApi

FAR = "registry.invalid:5000"
"""A registry host off this machine, reached only through the proxy."""


def fetch(image: str, **settings: object) -> tuple[TagSnapshot | RegistryError, int]:
    reference = parse_reference(image)
    client = RegistryClient(ClientSettings(retries=0, **settings))  # type: ignore[arg-type]
    return client.fetch_many([reference])[reference], client.requests_sent


def credentials(host: str, user: str = USER, password: str = PASSWORD) -> dict[str, Credentials]:
    # Docker's configuration, which answers for the other hosts, is the docker_config
    # fixture's: empty.
    return {host: Credentials(user, password)}


# --- cookies ----------------------------------------------------------------------------


def test_a_cookie_a_registry_sets_is_never_sent_back_there_nor_elsewhere(
    seeded_registry: SeededRegistry,
) -> None:
    cookies = (
        "sid=harbor-session-secret; Path=/; HttpOnly",  # Harbor's session is a credential
        "wide=1; Domain=127.0.0.1; Path=/",
        "sibling=1; Domain=localhost; Path=/",
    )
    with RegistryFront(seeded_registry.server.url) as storage:
        # Blobs go to another port, under another name of this machine, as to object storage.
        elsewhere = storage.url.replace("127.0.0.1", "localhost")
        with RegistryFront(
            seeded_registry.server.url, redirect_blobs_to=elsewhere, set_cookie=cookies
        ) as front:
            snapshot, requests = fetch(f"{front.host}/{WIDGET}")
        assert isinstance(snapshot, TagSnapshot), snapshot
        assert sum(count for key, count in storage.requests.items() if "/blobs/" in key)
    assert requests > 10  # many answers set the cookies; none came back
    assert front.cookies == [] and storage.cookies == []


# --- credentials in the clear -------------------------------------------------------------


@pytest.fixture
def proxy_to_private(
    private_registry: SeededRegistry, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ForwardProxy]:
    with ForwardProxy(private_registry.server.url) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        yield proxy


def test_a_password_never_goes_over_plain_http_to_a_host_off_this_machine(
    proxy_to_private: ForwardProxy,
) -> None:
    error, _ = fetch(
        f"{FAR}/{WIDGET}", insecure_registries=frozenset({FAR}), credentials=credentials(FAR)
    )
    assert isinstance(error, RegistryError)
    assert f"credentials would go over plain HTTP to {FAR}" in error.reason
    assert "'credentials_over_plain_http'" in error.reason
    assert not error.transient  # a setting to mend, not a failure the cache may hide
    # The registry was asked (anonymously, and said 401), never with the password.
    assert proxy_to_private.hosts() == {FAR}
    assert proxy_to_private.authorizations() == []


def test_a_host_named_in_credentials_over_plain_http_is_sent_them(
    proxy_to_private: ForwardProxy, private_registry: SeededRegistry
) -> None:
    snapshot, _ = fetch(
        f"{FAR}/{WIDGET}",
        insecure_registries=frozenset({FAR}),
        credentials_over_plain_http=frozenset({FAR}),
        credentials=credentials(FAR),
    )
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert len(snapshot.tags) == 12
    assert proxy_to_private.authorizations()  # the user's word for it


def test_a_token_realm_on_plain_http_off_this_machine_gets_no_password(
    seeded_registry: SeededRegistry,
) -> None:
    # A loopback registry naming a token server elsewhere, over plain HTTP.
    realm = "http://auth.invalid/token"
    with RegistryFront(seeded_registry.server.url, require_token=True, realm=realm) as front:
        error, requests = fetch(f"{front.host}/{WIDGET}", credentials=credentials(front.host))
    assert isinstance(error, RegistryError)
    assert "credentials would go over plain HTTP to auth.invalid" in error.reason
    assert requests == 1  # the anonymous tag list that met the challenge; no token request


def test_a_vendor_api_over_plain_http_off_this_machine_gets_no_password() -> None:
    with HarborApi(login=("robot$docs", "harbor-secret")) as harbor:
        error, requests = fetch(
            "harbor.invalid/library/team/app",
            vendors={"harbor.invalid": VendorSetting("harbor", "http://harbor.invalid")},
            credentials=credentials("harbor.invalid", "robot$docs", "harbor-secret"),
        )
        assert harbor.requests == []
    assert isinstance(error, RegistryError)
    assert "credentials would go over plain HTTP to harbor.invalid" in error.reason
    assert requests == 0


# --- proxies ------------------------------------------------------------------------------


def test_loopback_is_never_proxied_whatever_the_environment(
    seeded_registry: SeededRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy(seeded_registry.server.url) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        snapshot, _ = fetch(f"{seeded_registry.server.host}/{WIDGET}")
        # A host off this machine does go through it: the proxy was there to be used.
        far, _ = fetch(f"{FAR}/{WIDGET}", insecure_registries=frozenset({FAR}))
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert isinstance(far, TagSnapshot), far
    assert proxy.hosts() == {FAR}


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "direct"),
    [
        ("", "127.0.0.1", "5000", True),
        ("", "127.9.9.9", "80", True),
        ("", "::1", "443", True),
        ("", "localhost", "5000", True),
        ("", "registry.example", "443", False),
        ("*", "registry.example", "443", True),
        ("example.com", "example.com", "443", True),
        ("example.com", "registry.example.com", "443", True),
        ("example.com", "notexample.com", "443", False),
        (".example.com", "example.com", "443", False),
        (".example.com", "registry.example.com", "443", True),
        ("*.example.com", "registry.example.com", "443", True),
        ("*.example.com", "example.com", "443", False),
        ("EXAMPLE.com", "example.COM", "443", True),
        ("10.0.0.0/8", "10.1.2.3", "5000", True),
        ("10.0.0.0/8", "11.1.2.3", "5000", False),
        ("10.1.2.3", "10.1.2.3", "80", True),
        ("10.1.2.3:5000", "10.1.2.3", "5000", True),
        ("10.1.2.3:5000", "10.1.2.3", "5001", False),
        ("example.com:5000", "registry.example.com", "443", False),
        ("[2001:db8::1]:443", "2001:db8::1", "443", True),
        ("2001:db8::/32", "2001:db8::5", "443", True),
        ("example.com", "93.184.216.34", "443", False),  # a name never matches an address
        (" , :80, bücher.de", "xn--bcher-kva.de", "443", True),  # what cannot be read is passed
    ],
)
def test_no_proxy_is_read_as_go_reads_it(no_proxy: str, host: str, port: str, direct: bool) -> None:
    assert NoProxy(no_proxy).bypasses(host, port) is direct


def test_the_proxy_is_chosen_by_scheme_upper_case_first() -> None:
    proxies = Proxies(
        {
            "HTTPS_PROXY": "http://secure-proxy:3128",
            "https_proxy": "http://lower:3128",
            "http_proxy": "http://plain-proxy:3128",
            "ALL_PROXY": "http://all:3128",  # Go reads none, nor does this
            "NO_PROXY": "internal.example",
        }
    )
    assert proxies.proxy_for("https", "registry.example", None) == "http://secure-proxy:3128"
    assert proxies.proxy_for("http", "registry.example", 5000) == "http://plain-proxy:3128"
    assert proxies.proxy_for("https", "registry.internal.example", None) is None
    assert proxies.proxy_for("http", "localhost", 5000) is None
    assert Proxies({"ALL_PROXY": "http://all:3128"}).proxy_for("https", "r.example", None) is None
