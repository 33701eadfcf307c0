"""What a hostile registry says reaches no terminal raw, no secret reaches ``-vv``, and odd but
harmless answers are clear, classified messages, for MkDocs, Sphinx and the command alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mkdocs_taghistory.cli import main
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import ClientSettings, RegistryClient
from mkdocs_taghistory.settings import Credentials
from tests.support.fixtures import WIDGET, SeededRegistry
from tests.support.front import RegistryFront
from tests.support.site import mkdocs_build, write_site
from tests.support.sphinx_project import sphinx_build, write_project
from tests.support.vendor_apis import DockerHubApi, Recorded

ESCAPES = "\x1b]0;owned\x07\x1b[2J"
IMAGE = "docker.io/library/python"


class HostileNextHub(DockerHubApi):
    """Docker Hub whose first page's ``next`` holds escape sequences (an unusable address)."""

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        status, document, headers = super().answer(request)
        if isinstance(document, dict) and "results" in document:
            document["next"] = f"{self.url}/v2/{ESCAPES}?page=2"
        return status, document, headers


@pytest.fixture(scope="module")
def hub() -> Iterator[HostileNextHub]:
    with HostileNextHub() as running:
        yield running


def assert_nothing_raw(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output, repr(output)
    assert "\\x1b]0;owned\\x07" in output, output  # said, escaped


def test_mkdocs_build_escapes_what_a_registry_said_in_its_error(
    hub: HostileNextHub, tmp_path: Path
) -> None:
    options = {
        "cache_dir": "cache",
        "vendors": {"docker.io": {"type": "dockerhub", "url": hub.url}},
    }
    config = write_site(tmp_path, {"p.md": f'<< tag_history "{IMAGE}" >>\n'}, options)
    build = mkdocs_build(config)
    assert build.returncode != 0
    (line,) = [line for line in build.output.splitlines() if "p.md:1" in line]
    assert IMAGE in line, build.output
    assert_nothing_raw(build.output)


def test_sphinx_build_escapes_what_a_registry_said_in_its_error(
    hub: HostileNextHub, tmp_path: Path
) -> None:
    conf = {
        "taghistory_cache_dir": "cache",
        "taghistory_vendors": {"docker.io": {"type": "dockerhub", "url": hub.url}},
    }
    project = write_project(tmp_path, {"p.rst": f"P\n=\n\n.. tag-history:: {IMAGE}\n"}, conf)
    build = sphinx_build(project)
    assert "ERROR" in build.output and IMAGE in build.output, build.output
    assert_nothing_raw(build.output)


def test_taghistory_refresh_escapes_what_a_registry_said(
    hub: HostileNextHub, tmp_path: Path
) -> None:
    options = {
        "cache_dir": "cache",
        "vendors": {"docker.io": {"type": "dockerhub", "url": hub.url}},
    }
    config = write_site(tmp_path, {"p.md": f'<< tag_history "{IMAGE}" >>\n'}, options)
    result = CliRunner().invoke(main, ["refresh", "-f", str(config)])
    assert result.exit_code != 0
    assert_nothing_raw(result.output)


def test_sphinx_vv_never_prints_the_password_of_taghistory_auth(tmp_path: Path) -> None:
    secret = "pw-in-conf-py-never-shown"
    conf = {
        "taghistory_enabled": False,
        "taghistory_auth": {"registry.example": {"username": "robot", "password": secret}},
    }
    project = write_project(tmp_path, {"p.rst": "P\n=\n\nNo tables.\n"}, conf, myst=False)
    build = sphinx_build(project, "-vv")
    assert build.returncode == 0, build.output
    assert "emitting event: 'config-inited'" in build.output  # what once printed it
    assert secret not in build.output
    assert "taghistory_auth" in build.output  # shown, redacted


def test_a_token_lifetime_of_400_digits_is_read_as_a_day_at_most(
    seeded_registry: SeededRegistry,
) -> None:
    with RegistryFront(seeded_registry.server.url, require_token=True, expires_in=10**400) as front:
        reference = parse_reference(f"{front.host}/{WIDGET}")
        settings = ClientSettings(
            retries=0,
            credentials={front.host: Credentials("u", "p")},
        )
        snapshot = RegistryClient(settings).fetch_many([reference])[reference]
    assert isinstance(snapshot, TagSnapshot), snapshot  # not "unexpected answer (OverflowError)"
    assert len(front.token_requests) == 1
