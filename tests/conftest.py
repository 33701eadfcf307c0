"""Fixtures: a real registry on loopback, seeded images, and real `mkdocs build` runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import PushedImage, seed_image

WIDGET = "acme/widget"


@dataclass(frozen=True)
class SeededRegistry:
    """A running registry and what was pushed to it."""

    server: RegistryServer
    widget: list[PushedImage]

    @property
    def widget_reference(self) -> str:
        return f"{self.server.host}/{WIDGET}"


@pytest.fixture(scope="session")
def seeded_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededRegistry]:
    """One registry for the session, holding acme/widget: 300 tags over 60 multi-arch digests."""
    server = RegistryServer(tmp_path_factory.mktemp("registry"), free_port()).start()
    try:
        widget = seed_image(server.url, WIDGET, digests=60, tags_per_digest=5)
        yield SeededRegistry(server, widget)
    finally:
        server.stop()


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    """A registry of this test's own, which the test may stop."""
    server = RegistryServer(tmp_path / "registry", free_port()).start()
    try:
        yield server
    finally:
        server.stop()
