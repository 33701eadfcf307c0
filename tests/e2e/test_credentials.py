"""Credentials: the `auth` option, Docker's config and credential helpers, against a real
registry with `auth: htpasswd`; and the secrets never reach a log, a cache file or a page."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import pytest

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient
from mkdocs_taghistory.registry.credentials import CredentialSource
from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.settings import Credentials, HostTls, TlsSettings
from mkdocs_taghistory.site_options import settings_from_options
from tests.support.fixtures import GADGET, PASSWORD, USER, WIDGET, SeededRegistry
from tests.support.front import RegistryFront
from tests.support.site import mkdocs_build, table_rows, write_site
from tests.support.tls import CertificateAuthority

PAGE = '# Private\n\n<< tag_history "{image}" >>\n'


def fetch_with(
    credentials: Mapping[str, Credentials] | None, image: str
) -> TagSnapshot | RegistryError:
    reference = parse_reference(image)
    client = RegistryClient(ClientSettings(credentials=credentials, retries=0))
    return client.fetch_many([reference])[reference]


def assert_no_secret_in(texts: list[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text
            assert base64.b64encode(f"{USER}:{secret}".encode()).decode() not in text


def site_texts(root: Path) -> list[str]:
    return [
        path.read_text(encoding="utf-8", errors="replace")
        for path in root.rglob("*")
        if path.is_file() and path.suffix in {".html", ".json", ".xml", ".txt", ".js"}
    ]


def test_basic_credentials_from_the_auth_option_reach_an_htpasswd_registry(
    private_registry: SeededRegistry, tmp_path: Path
) -> None:
    image = private_registry.widget_reference
    config = write_site(
        tmp_path,
        {"private.md": PAGE.format(image=image)},
        {
            "cache_dir": "cache",
            "auth": {
                private_registry.server.host: {
                    "username": USER,
                    "password": "!ENV TEST_REGISTRY_PASSWORD",
                }
            },
        },
    )
    # The password comes from the environment through MkDocs' !ENV tag, as a site would do it.
    text = config.read_text().replace(
        "'!ENV TEST_REGISTRY_PASSWORD'", "!ENV TEST_REGISTRY_PASSWORD"
    )
    config.write_text(text)
    build = mkdocs_build(config, "--verbose", env={"TEST_REGISTRY_PASSWORD": PASSWORD})
    assert build.returncode == 0, build.output
    rows = table_rows(build.page("private"))
    assert sorted(tag for tags, _, _ in rows for tag in tags) == sorted(
        tag for image in private_registry.widget for tag in image.tags
    )
    assert_no_secret_in([build.output, *site_texts(tmp_path)], PASSWORD)


def test_without_credentials_the_error_says_how_to_give_them(
    private_registry: SeededRegistry, tmp_path: Path
) -> None:
    config = write_site(
        tmp_path,
        {"p.md": PAGE.format(image=private_registry.widget_reference)},
        {"cache_dir": "cache"},
    )
    build = mkdocs_build(config)
    assert build.returncode != 0
    assert "docs/p.md:3: cannot show the tag history of" in build.output
    assert "asks for credentials" in build.output and "'auth' option" in build.output
    assert "Traceback" not in build.output


def test_wrong_password_is_an_authentication_error_naming_the_image(
    private_registry: SeededRegistry,
) -> None:
    wrong = {private_registry.server.host: Credentials(USER, "wrong")}
    error = fetch_with(wrong, private_registry.widget_reference)
    assert isinstance(error, RegistryError)
    assert error.reason == f"authentication failed for {private_registry.widget_reference}"
    assert not error.transient
    assert "wrong" not in str(error)


def test_docker_config_auths_entry_is_used(
    private_registry: SeededRegistry, docker_config: Path
) -> None:
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {private_registry.server.host: {"auth": encoded}}})
    )
    snapshot = fetch_with({}, private_registry.widget_reference)
    assert isinstance(snapshot, TagSnapshot), snapshot
    assert len(snapshot.tags) == 12


def write_helper(folder: Path, name: str, server: str, secret: str) -> Path:
    """A docker-credential-<name> program that knows one server, as real helpers behave."""
    helper = folder / f"docker-credential-{name}"
    helper.write_text(
        "#!/bin/sh\n"
        '[ "$1" = get ] || exit 1\n'
        "read -r server\n"
        f'if [ "$server" = "{server}" ]; then\n'
        f'  printf \'{{"ServerURL":"%s","Username":"{USER}","Secret":"{secret}"}}\' "$server"\n'
        "else\n"
        "  echo 'credentials not found in native keychain'; exit 1\n"
        "fi\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return helper


@pytest.mark.parametrize("kind", ["credHelpers", "credsStore"])
def test_credential_helper_on_path_is_run_for_the_registry(
    private_registry: SeededRegistry,
    docker_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    host = private_registry.server.host
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_helper(bin_dir, "testhelper", host, PASSWORD)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = (
        {"credHelpers": {host: "testhelper"}}
        if kind == "credHelpers"
        else {"credsStore": "testhelper", "auths": {host: {}}}
    )
    (docker_config / "config.json").write_text(json.dumps(config))

    site = write_site(
        tmp_path / "site", {"p.md": PAGE.format(image=f"{host}/{WIDGET}")}, {"cache_dir": "cache"}
    )
    build = mkdocs_build(site, "--verbose")
    assert build.returncode == 0, build.output
    assert len(table_rows(build.page("p"))) == 4
    assert_no_secret_in([build.output, *site_texts(tmp_path / "site")], PASSWORD)


def test_helper_that_knows_nothing_leaves_the_request_anonymous(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_helper(bin_dir, "empty", "elsewhere.example", "x")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credsStore": "empty"}))
    environment_path = os.environ["PATH"]
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{environment_path}"
    try:
        assert CredentialSource(docker_config=config).for_host("r.example") is None
    finally:
        os.environ["PATH"] = environment_path


def test_token_flow_sends_credentials_to_the_token_realm_only_and_tokens_stay_secret(
    private_registry: SeededRegistry, tmp_path: Path
) -> None:
    # A front that asks for a bearer token, whose token server wants the Basic credentials.
    with RegistryFront(
        private_registry.server.url,
        require_token=True,
        token_credentials=(USER, PASSWORD),
        upstream_auth=(USER, PASSWORD),
    ) as front:
        image = f"{front.host}/{WIDGET}"
        config = write_site(
            tmp_path,
            {"p.md": PAGE.format(image=image)},
            {"cache_dir": "cache", "auth": {front.host: {"username": USER, "password": PASSWORD}}},
        )
        build = mkdocs_build(config, "--verbose")
        assert build.returncode == 0, build.output
        assert len(front.token_requests) == 1
        basic = [header for header in front.authorizations if header.startswith("Basic ")]
        bearer = [header for header in front.authorizations if header.startswith("Bearer ")]
        # Basic only on the one token request; every registry request carried the token.
        assert len(basic) == 1
        assert (
            len(bearer)
            == sum(count for key, count in front.requests.items() if not key.endswith("/token")) - 1
        )  # the first request met the challenge without a token
        tokens = {header.removeprefix("Bearer ") for header in bearer}
    assert_no_secret_in([build.output, *site_texts(tmp_path)], PASSWORD, *tokens)


def test_credentials_repr_hides_the_secret() -> None:
    assert PASSWORD not in repr(Credentials(USER, PASSWORD))


def test_a_redirect_to_another_host_does_not_carry_the_token(
    seeded_registry: SeededRegistry,
) -> None:
    with (
        RegistryFront(seeded_registry.server.url) as storage,
        RegistryFront(
            seeded_registry.server.url,
            require_token=True,
            redirect_blobs_to=f"http://{storage.host}",
        ) as front,
    ):
        snapshot = fetch_with(None, f"{front.host}/acme/gadget")
        assert isinstance(snapshot, TagSnapshot), snapshot
        assert len(snapshot.tags) == 6
        blob_requests = [key for key in storage.requests if "/blobs/" in key]
        assert blob_requests  # the configs were read from the other host...
        assert storage.authorizations == []  # ...without the registry's token
        assert any(header.startswith("Bearer ") for header in front.authorizations)


def test_identity_token_is_traded_through_the_oauth_flow_not_sent_as_a_password(
    seeded_registry: SeededRegistry, docker_config: Path
) -> None:
    with RegistryFront(
        seeded_registry.server.url, require_token=True, refresh_token="idtoken-secret"
    ) as front:
        (docker_config / "config.json").write_text(
            json.dumps({"auths": {front.host: {"identitytoken": "idtoken-secret"}}})
        )
        snapshot = fetch_with({}, f"{front.host}/acme/gadget")
        assert isinstance(snapshot, TagSnapshot), snapshot
        (query,) = front.token_requests
        assert query["grant_type"] == ["refresh_token"]
        assert not any(header.startswith("Basic") for header in front.authorizations)


def test_https_registry_naming_a_plain_http_token_server_gets_no_credentials(
    seeded_registry: SeededRegistry, test_ca: CertificateAuthority
) -> None:
    with (
        RegistryFront(seeded_registry.server.url) as plain_token_server,
        RegistryFront(
            seeded_registry.server.url,
            require_token=True,
            tls=test_ca.issue("https-front"),
            realm=f"{plain_token_server.url}/token",
        ) as front,
    ):
        credentials = {front.host: Credentials(USER, PASSWORD)}
        tls = TlsSettings({front.host: HostTls(ca_file=test_ca.certificate)}, ())
        reference = parse_reference(f"{front.host}/{GADGET}")
        client = RegistryClient(ClientSettings(credentials=credentials, tls=tls))
        result = client.fetch_many([reference])[reference]
        assert isinstance(result, RegistryError)
        assert "token server over plain HTTP" in result.reason
        assert not plain_token_server.requests  # neither credentials nor anything else sent


def test_a_source_remembers_what_it_found_for_its_fetch(docker_config: Path) -> None:
    source = CredentialSource()
    assert source.for_host("r.example") is None
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {"r.example": {"auth": base64.b64encode(b"u:p").decode()}}})
    )
    assert source.for_host("r.example") is None  # remembered; the next fetch has a new source
    assert CredentialSource().for_host("r.example") == Credentials("u", "p")


def test_a_docker_login_between_two_builds_is_used_by_the_second(
    private_registry: SeededRegistry, docker_config: Path, tmp_path: Path
) -> None:
    """As under ``mkdocs serve``: one service, two builds, the site's own options (no
    ``auth``), and a ``docker login`` in between; the second build's fetch reads it."""
    settings = settings_from_options({"cache_dir": "", "ttl": 1}, tmp_path)
    service = TagHistoryService(settings)
    reference = parse_reference(private_registry.widget_reference)
    service.start_build()
    first = service.results_for([reference])[reference]
    assert first.snapshot is None and first.problem is not None
    assert "asks for credentials" in first.problem
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {private_registry.server.host: {"auth": encoded}}})
    )
    service.start_build()
    second = service.results_for([reference])[reference]
    assert second.snapshot is not None, second.problem
    assert len(second.snapshot.tags) == 12


def test_creds_store_wins_over_a_stale_inline_entry(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_helper(bin_dir, "store", "r.example", "from-the-store")
    config = tmp_path / "config.json"
    stale = base64.b64encode(f"{USER}:stale".encode()).decode()
    config.write_text(json.dumps({"credsStore": "store", "auths": {"r.example": {"auth": stale}}}))
    saved = os.environ["PATH"]
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{saved}"
    try:
        found = CredentialSource(docker_config=config).for_host("r.example")
    finally:
        os.environ["PATH"] = saved
    assert found == Credentials(USER, "from-the-store")
