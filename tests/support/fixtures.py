"""Shared fixtures: real registries on loopback (plain, htpasswd, HTTPS with the session's CA)
and what was pushed to them, and an empty Docker configuration for every test.

Registered by ``conftest.py`` as a pytest plugin; tests import its names from here.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import PushedImage, seed_image
from tests.support.tls import CertificateAuthority

WIDGET = "acme/widget"
GADGET = "acme/gadget"


@dataclass(frozen=True)
class SeededRegistry:
    """A running registry and what was pushed to it."""

    server: RegistryServer
    widget: list[PushedImage]
    gadget: list[PushedImage] = dataclasses.field(default_factory=list)

    @property
    def widget_reference(self) -> str:
        return f"{self.server.host}/{WIDGET}"


USER, PASSWORD = "ci-robot", "s3cret-Pa55word-never-shown"


@pytest.fixture(scope="session")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededRegistry]:
    """A registry with `auth: htpasswd`, holding acme/widget: 12 tags over 4 digests."""
    root = tmp_path_factory.mktemp("private-registry")
    htpasswd = root / "htpasswd"
    htpasswd.write_text(
        subprocess.run(
            ["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True
        ).stdout
    )
    server = RegistryServer(root, free_port(), htpasswd=htpasswd).start()
    try:
        widget = seed_image(server.url, WIDGET, digests=4, tags_per_digest=3, auth=(USER, PASSWORD))
        yield SeededRegistry(server, widget)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seeded_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededRegistry]:
    """One registry for the session: acme/widget, 300 tags over 60 multi-arch digests, and
    acme/gadget, 6 tags over 3."""
    server = RegistryServer(tmp_path_factory.mktemp("registry"), free_port()).start()
    try:
        widget = seed_image(server.url, WIDGET, digests=60, tags_per_digest=5)
        # A small image for site builds that test what happens around a fetch, not its size.
        gadget = seed_image(server.url, GADGET, digests=3, tags_per_digest=2)
        yield SeededRegistry(server, widget, gadget)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """A certificate authority made for this test session; no machine trusts it."""
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def tls_registry(
    tmp_path_factory: pytest.TempPathFactory, test_ca: CertificateAuthority
) -> Iterator[SeededRegistry]:
    """A registry that speaks HTTPS (and so offers HTTP/2 by ALPN) with a certificate of the
    session's CA, holding acme/widget: 60 tags over 20 multi-arch digests."""
    root = tmp_path_factory.mktemp("tls-registry")
    server = RegistryServer(
        root, free_port(), tls=test_ca.issue("tls-registry"), ca_file=test_ca.certificate
    ).start()
    try:
        verify = server.client_options()["verify"]
        widget = seed_image(server.url, WIDGET, digests=20, tags_per_digest=3, verify=verify)
        yield SeededRegistry(server, widget)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def docker_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """An empty Docker configuration folder, so no test reads the machine's own credentials.

    Set in the environment, so `mkdocs build` child processes see it too.
    """
    folder = tmp_path_factory.mktemp("docker-config")
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    return folder


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    """A registry of this test's own, which the test may stop."""
    server = RegistryServer(tmp_path / "registry", free_port()).start()
    try:
        yield server
    finally:
        server.stop()
