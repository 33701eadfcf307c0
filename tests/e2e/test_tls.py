"""Registries as users meet them: HTTPS with HTTP/2 offered, private CAs, mutual TLS.

Every registry here is Debian's docker-registry serving TLS with a certificate of the session's
own CA (:mod:`tests.support.tls`), which no machine trusts until a test says so: through the
``tls`` option, a Docker-style ``certs.d`` folder, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (the
system store's own switches).
"""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import truststore

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry import tls
from mkdocs_taghistory.registry.client import RegistryClient
from mkdocs_taghistory.registry.host_slots import HTTP1_SLOTS
from mkdocs_taghistory.settings import ClientSettings, ConfigurationError, HostTls, TlsSettings
from mkdocs_taghistory.site_options import settings_from_options
from tests.support.fixtures import WIDGET, SeededRegistry
from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import PushedImage, seed_image
from tests.support.site import mkdocs_build, table_rows, write_site
from tests.support.tls import CertificateAuthority, KeyPair

COLD_FETCHES = 20


def tls_settings(host: str, entry: HostTls | None = None, **extra: object) -> ClientSettings:
    """Settings that speak HTTPS to ``host`` and read no folder of this machine."""
    tls = TlsSettings({host: entry or HostTls()}, certs_dirs=())
    return ClientSettings(timeout=10, tls=tls, **extra)  # type: ignore[arg-type]


def fetch(
    settings: ClientSettings, image: str
) -> tuple[TagSnapshot | RegistryError, RegistryClient]:
    reference = parse_reference(image)
    client = RegistryClient(settings)
    return client.fetch_many([reference])[reference], client


def table_of(snapshot: TagSnapshot) -> dict[str, tuple[str, object]]:
    return {tag: (state.digest, state.changed) for tag, state in snapshot.tags.items()}


def expected_table(pushed: list[PushedImage]) -> dict[str, tuple[str, object]]:
    return {tag: (image.digest, image.created) for image in pushed for tag in image.tags}


def test_twenty_cold_fetches_over_tls_agree_on_one_http2_connection_without_a_retry(
    tls_registry: SeededRegistry,
) -> None:
    server = tls_registry.server
    settings = tls_settings(server.host, HostTls(ca_file=server.ca_file))
    tables = []
    for _ in range(COLD_FETCHES):
        # A client of its own each time: a new pool, new TLS handshakes, an empty token store.
        result, client = fetch(settings, tls_registry.widget_reference)
        assert isinstance(result, TagSnapshot), result
        assert result.origin.startswith("https://")
        tables.append(table_of(result))
        assert client.counters.retries == 0
        # Go's server picks h2 when offered: every answer of the fetch came on one connection.
        assert client.counters.connections == 1
        assert client.counters.http_versions == {"HTTP/2": client.requests_sent}
    assert tables == [expected_table(tls_registry.widget)] * COLD_FETCHES


def test_http2_false_speaks_http1_on_at_most_sixteen_connections(
    tls_registry: SeededRegistry,
) -> None:
    server = tls_registry.server
    settings = tls_settings(server.host, HostTls(ca_file=server.ca_file), http2=False)
    result, client = fetch(settings, tls_registry.widget_reference)
    assert isinstance(result, TagSnapshot), result
    assert table_of(result) == expected_table(tls_registry.widget)
    assert client.counters.http_versions == {"HTTP/1.1": client.requests_sent}
    # Never more connections than the host's slots: none was dropped and reopened.
    assert 1 < client.counters.connections <= HTTP1_SLOTS
    assert client.counters.retries == 0


def test_a_certs_d_folder_makes_a_loopback_host_speak_https_and_trusts_its_crt(
    tls_registry: SeededRegistry, tmp_path: Path
) -> None:
    server = tls_registry.server
    folder = tmp_path / "certs.d" / server.host
    folder.mkdir(parents=True)
    (folder / "ca.crt").write_bytes(server.ca_file.read_bytes())  # type: ignore[union-attr]
    settings = ClientSettings(
        tls=TlsSettings({}, certs_dirs=(tmp_path / "elsewhere", tmp_path / "certs.d"))
    )
    result, _ = fetch(settings, tls_registry.widget_reference)
    assert isinstance(result, TagSnapshot), result
    assert result.origin.startswith("https://")
    assert table_of(result) == expected_table(tls_registry.widget)


def test_ssl_cert_file_is_honoured_as_the_system_store(
    tls_registry: SeededRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = tls_registry.server
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
    result, _ = fetch(tls_settings(server.host), tls_registry.widget_reference)
    assert isinstance(result, TagSnapshot), result


def hashed_store(root: Path, ca_file: Path) -> Path:
    """A folder of trusted certificates holding ``ca_file``, hashed as /etc/ssl/certs is:
    OpenSSL finds a certificate in a folder by its subject hash."""
    store = root / "store"
    store.mkdir()
    (store / "company-ca.pem").write_bytes(ca_file.read_bytes())
    subprocess.run(["openssl", "rehash", str(store)], check=True, capture_output=True)
    return store


def test_ssl_cert_dir_is_honoured_as_the_system_store(
    tls_registry: SeededRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = tls_registry.server
    store = hashed_store(tmp_path, server.ca_file)  # type: ignore[arg-type]
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(store))
    result, _ = fetch(tls_settings(server.host), tls_registry.widget_reference)
    assert isinstance(result, TagSnapshot), result


def test_a_private_ca_nobody_trusts_fails_at_once_naming_host_reason_and_option(
    tls_registry: SeededRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = tls_registry.server
    # The machine's own store, which knows nothing of the session's CA.
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    result, client = fetch(tls_settings(server.host), tls_registry.widget_reference)
    assert isinstance(result, RegistryError)
    assert (
        not result.transient
    )  # never served from the cache: a changed certificate may be an attack
    assert client.counters.retries == 0
    message = str(result)
    assert server.host in message
    assert "issuer this machine does not trust" in message
    assert "'tls' option" in message
    assert "\n" not in message


@pytest.fixture(scope="module")
def bad_certificate_registries(
    tmp_path_factory: pytest.TempPathFactory, test_ca: CertificateAuthority
) -> Iterator[dict[str, RegistryServer]]:
    """Registries whose certificates, though from the trusted CA, must be refused."""
    certificates = {
        "expired": test_ca.issue("expired", expired=True),
        "for another name": test_ca.issue("other-name", ("registry.example",)),
    }
    servers = {}
    try:
        for problem, pair in certificates.items():
            root = tmp_path_factory.mktemp("bad-tls")
            servers[problem] = RegistryServer(root, free_port(), tls=pair).start()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.mark.parametrize("problem", ["expired", "for another name"])
def test_an_expired_or_misnamed_certificate_is_named_as_such(
    bad_certificate_registries: dict[str, RegistryServer],
    test_ca: CertificateAuthority,
    problem: str,
) -> None:
    server = bad_certificate_registries[problem]
    settings = tls_settings(server.host, HostTls(ca_file=test_ca.certificate))
    result, _ = fetch(settings, f"{server.host}/{WIDGET}")
    assert isinstance(result, RegistryError)
    assert not result.transient
    assert f"certificate {'has expired' if problem == 'expired' else 'is for another name'}" in str(
        result
    )
    assert server.host in str(result)


@pytest.fixture(scope="module")
def mtls_registry(
    tmp_path_factory: pytest.TempPathFactory, test_ca: CertificateAuthority
) -> Iterator[SeededRegistry]:
    """A registry that asks every client for a certificate of the session's CA."""
    root = tmp_path_factory.mktemp("mtls-registry")
    server = RegistryServer(
        root,
        free_port(),
        tls=test_ca.issue("mtls-registry"),
        ca_file=test_ca.certificate,
        client_ca=test_ca.certificate,
        probe_client=test_ca.issue("probe", client=True),
    ).start()
    try:
        verify = server.client_options()["verify"]
        widget = seed_image(server.url, WIDGET, digests=2, tags_per_digest=2, verify=verify)
        yield SeededRegistry(server, widget)
    finally:
        server.stop()


def test_mutual_tls_with_the_tls_option(
    mtls_registry: SeededRegistry, test_ca: CertificateAuthority, verifier: str
) -> None:
    client_pair = test_ca.issue("docs-builder", client=True)
    server = mtls_registry.server
    entry = HostTls(test_ca.certificate, client_pair.certificate, client_pair.key)
    result, _ = fetch(tls_settings(server.host, entry), mtls_registry.widget_reference)
    assert isinstance(result, TagSnapshot), result
    assert table_of(result) == expected_table(mtls_registry.widget)


def test_mutual_tls_with_a_certs_d_folder(
    mtls_registry: SeededRegistry, test_ca: CertificateAuthority, tmp_path: Path, verifier: str
) -> None:
    client_pair = test_ca.issue("docs-builder-2", client=True)
    settings = certs_d_settings(tmp_path, mtls_registry.server.host, test_ca, client_pair)
    result, _ = fetch(settings, mtls_registry.widget_reference)
    assert isinstance(result, TagSnapshot), result


def certs_d_settings(
    root: Path, host: str, ca: CertificateAuthority, client_pair: KeyPair
) -> ClientSettings:
    """Settings that read only ``root``, a certs.d with the CA and a client certificate for
    ``host``, as Docker's folders hold them."""
    folder = root / host
    folder.mkdir()
    (folder / "ca.crt").write_bytes(ca.certificate.read_bytes())
    (folder / "client.cert").write_bytes(client_pair.certificate.read_bytes())
    (folder / "client.key").write_bytes(client_pair.key.read_bytes())
    return ClientSettings(tls=TlsSettings({}, certs_dirs=(root,)))


def test_mutual_tls_without_a_client_certificate_says_so(
    mtls_registry: SeededRegistry, test_ca: CertificateAuthority, verifier: str
) -> None:
    server = mtls_registry.server
    result, _ = fetch(
        tls_settings(server.host, HostTls(ca_file=test_ca.certificate)),
        mtls_registry.widget_reference,
    )
    assert isinstance(result, RegistryError)
    assert not result.transient
    assert "client certificate" in str(result)


def test_a_certs_d_client_certificate_without_its_key_is_named(
    mtls_registry: SeededRegistry, test_ca: CertificateAuthority, tmp_path: Path
) -> None:
    server = mtls_registry.server
    folder = tmp_path / server.host
    folder.mkdir()
    (folder / "client.cert").write_bytes(
        test_ca.issue("lonely", client=True).certificate.read_bytes()
    )
    settings = ClientSettings(tls=TlsSettings({}, certs_dirs=(tmp_path,)))
    result, _ = fetch(settings, mtls_registry.widget_reference)
    assert isinstance(result, RegistryError)
    assert "client.cert has no client.key beside it" in str(result)


def test_tls_option_paths_are_relative_to_the_site_and_checked_when_read(
    tmp_path: Path, test_ca: CertificateAuthority
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(test_ca.certificate.read_bytes())
    settings = settings_from_options(
        {"tls": {"registry.example:5443": {"ca_file": "certs/ca.pem"}}, "certs_dirs": ["certs.d"]},
        tmp_path,
    )
    assert (
        settings.client.tls.hosts["registry.example:5443"].ca_file == tmp_path / "certs" / "ca.pem"
    )
    assert settings.client.tls.certs_dirs == (tmp_path / "certs.d",)
    assert settings.client.http2 is True  # auto: offered by ALPN, the host decides
    assert settings_from_options({"http2": False}, tmp_path).client.http2 is False

    problems = {
        "missing.pem": {"ca_file": "missing.pem"},
        "'key_file' needs the 'cert_file'": {"key_file": "certs/ca.pem"},
        "expected file paths under": {"ca": "certs/ca.pem"},
        "as a client certificate": {"cert_file": "certs/ca.pem"},  # a certificate without a key
    }
    for problem, entry in problems.items():
        with pytest.raises(ConfigurationError, match="option 'tls'") as raised:
            settings_from_options({"tls": {"registry.example": entry}}, tmp_path)
        assert problem in str(raised.value)
    with pytest.raises(ConfigurationError, match="not a registry host"):
        settings_from_options({"tls": {"https://registry.example": {}}}, tmp_path)
    with pytest.raises(ConfigurationError, match="option 'http2'"):
        settings_from_options({"http2": "yes"}, tmp_path)


def test_an_untrusted_certificate_fails_the_build_even_with_a_cached_table(
    tls_registry: SeededRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = tls_registry.server
    image = tls_registry.widget_reference
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    pages = {"widget.md": f'<< tag_history "{image}" >>\n'}
    options: dict[str, object] = {"cache_dir": "cache", "ttl": 0, "certs_dirs": []}
    # ca_file relative to mkdocs.yml, as a site would commit it.
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(server.ca_file.read_bytes())  # type: ignore[union-attr]
    trusted = write_site(
        tmp_path, pages, {**options, "tls": {server.host: {"ca_file": "certs/ca.pem"}}}
    )
    first = mkdocs_build(trusted)
    assert first.returncode == 0, first.output
    assert len(table_rows(first.page("widget"))) == len(tls_registry.widget)
    (cached,) = (tmp_path / "cache").glob("*.json")
    before = cached.read_bytes()

    # The same site once the registry's certificate is no longer one it trusts.
    untrusted = write_site(tmp_path, pages, {**options, "tls": {server.host: {}}})
    second = mkdocs_build(untrusted)
    assert second.returncode != 0
    assert "Traceback" not in second.output
    (line,) = [line for line in second.output.splitlines() if "does not trust" in line]
    assert server.host in line and "'tls' option" in line and "widget.md:1" in line
    assert cached.read_bytes() == before


# Through truststore, the verifier macOS and Windows get: these machines run Linux, where it
# is OpenSSL's verifier all the same, so what is proved is that the context truststore makes
# still takes the roots and client certificates added to it, and speaks HTTP/2 by ALPN.


def take_os_verifier(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[object, ...], ssl.SSLContext]:
    """This machine taken for one whose system verifies certificates (macOS, Windows), with
    no SSL_CERT_FILE or SSL_CERT_DIR; returns the contexts the test's fetches make."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setattr(tls, "OS_VERIFIED_PLATFORMS", frozenset({sys.platform}))
    made: dict[tuple[object, ...], ssl.SSLContext] = {}
    monkeypatch.setattr(tls, "_MADE", made)
    return made


@pytest.fixture
def os_verifier(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[object, ...], ssl.SSLContext]:
    """See :func:`take_os_verifier`."""
    return take_os_verifier(monkeypatch)


@pytest.fixture(params=["openssl", "truststore"])
def verifier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test once through OpenSSL's verifier, as this machine has it, and once through
    truststore's, as macOS and Windows get it (then its fetches must have used it)."""
    if request.param == "openssl":
        yield request.param
        return
    made = take_os_verifier(monkeypatch)
    yield request.param
    assert made_by_truststore(made)


def made_by_truststore(made: dict[tuple[object, ...], ssl.SSLContext]) -> bool:
    return bool(made) and all(
        isinstance(context, truststore.SSLContext) for context in made.values()
    )


def test_truststore_takes_the_tls_option_s_root_and_speaks_http2(
    tls_registry: SeededRegistry, os_verifier: dict[tuple[object, ...], ssl.SSLContext]
) -> None:
    server = tls_registry.server
    result, client = fetch(
        tls_settings(server.host, HostTls(ca_file=server.ca_file)), tls_registry.widget_reference
    )
    assert isinstance(result, TagSnapshot), result
    assert table_of(result) == expected_table(tls_registry.widget)
    assert client.counters.http_versions == {"HTTP/2": client.requests_sent}
    assert made_by_truststore(os_verifier)


def test_truststore_takes_a_certs_d_root(
    tls_registry: SeededRegistry,
    os_verifier: dict[tuple[object, ...], ssl.SSLContext],
    tmp_path: Path,
) -> None:
    server = tls_registry.server
    (tmp_path / server.host).mkdir()
    (tmp_path / server.host / "ca.crt").write_bytes(server.ca_file.read_bytes())  # type: ignore[union-attr]
    settings = ClientSettings(tls=TlsSettings({}, certs_dirs=(tmp_path,)))
    result, _ = fetch(settings, tls_registry.widget_reference)
    assert isinstance(result, TagSnapshot), result
    assert made_by_truststore(os_verifier)


def test_truststore_refuses_a_ca_it_was_not_given_naming_why(
    tls_registry: SeededRegistry, os_verifier: dict[tuple[object, ...], ssl.SSLContext]
) -> None:
    server = tls_registry.server
    result, client = fetch(tls_settings(server.host), tls_registry.widget_reference)
    assert isinstance(result, RegistryError)
    assert not result.transient
    assert client.counters.retries == 0
    assert "issuer this machine does not trust" in str(result)
    assert made_by_truststore(os_verifier)


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_ssl_cert_file_or_dir_names_the_store_instead_where_the_system_verifies(
    tls_registry: SeededRegistry,
    os_verifier: dict[tuple[object, ...], ssl.SSLContext],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    server = tls_registry.server
    store = hashed_store(tmp_path, server.ca_file)  # type: ignore[arg-type]
    named = store / "company-ca.pem" if variable == "SSL_CERT_FILE" else store
    monkeypatch.setenv(variable, str(named))
    result, _ = fetch(tls_settings(server.host), tls_registry.widget_reference)
    assert isinstance(result, TagSnapshot), result
    # OpenSSL's own context: truststore would not read them.
    assert os_verifier and not made_by_truststore(os_verifier)


def test_elsewhere_openssl_s_default_store_unless_this_python_finds_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setattr(tls, "OS_VERIFIED_PLATFORMS", frozenset())
    context = tls.system_context()
    assert not isinstance(context, truststore.SSLContext)
    assert context.cert_store_stats()["x509_ca"] > 0  # the system's roots, loaded once
    # A Python whose OpenSSL looks where this system keeps nothing: truststore looks where
    # distributions keep their bundle.
    nowhere = ssl.DefaultVerifyPaths(None, None, "SSL_CERT_FILE", "", "SSL_CERT_DIR", "")  # type: ignore[arg-type]
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: nowhere)
    assert isinstance(tls.system_context(), truststore.SSLContext)
