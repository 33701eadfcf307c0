"""Image references: bare names, full references, Docker Hub's special cases, and validation."""

from __future__ import annotations

import pytest

from mkdocs_taghistory.errors import InvalidReferenceError
from mkdocs_taghistory.reference import parse_reference, parse_registry


@pytest.mark.parametrize(
    ("text", "host", "repository", "api_host"),
    [
        ("rust", "cgr.dev", "chainguard/rust", "cgr.dev"),
        ("team/rust", "cgr.dev", "chainguard/team/rust", "cgr.dev"),
        ("ghcr.io/org/img", "ghcr.io", "org/img", "ghcr.io"),
        ("docker.io/library/python", "docker.io", "library/python", "registry-1.docker.io"),
        ("docker.io/python", "docker.io", "library/python", "registry-1.docker.io"),
        ("index.docker.io/python", "docker.io", "library/python", "registry-1.docker.io"),
        ("127.0.0.1:5000/acme/widget", "127.0.0.1:5000", "acme/widget", "127.0.0.1:5000"),
        ("localhost/widget", "localhost", "widget", "localhost"),
        ("[::1]:5000/acme/w", "[::1]:5000", "acme/w", "[::1]:5000"),
        ("quay.io/org/a.b_c__d--e", "quay.io", "org/a.b_c__d--e", "quay.io"),
    ],
)
def test_reference_resolves_to_host_and_repository(
    text: str, host: str, repository: str, api_host: str
) -> None:
    reference = parse_reference(text, "cgr.dev/chainguard")
    assert (reference.host, reference.repository, reference.api_host) == (
        host,
        repository,
        api_host,
    )
    assert reference.name == f"{host}/{repository}"


def test_bare_name_uses_the_configured_registry() -> None:
    assert parse_reference("python", "docker.io").name == "docker.io/library/python"
    assert parse_reference("x", "127.0.0.1:5000/acme").name == "127.0.0.1:5000/acme/x"


@pytest.mark.parametrize(
    ("text", "loopback"),
    [
        ("localhost:5000/a", True),
        ("127.0.0.1:5000/a", True),
        ("[::1]:80/a", True),
        ("127.1.2.3:5000/a", True),
        ("ghcr.io/a/b", False),
        ("localhost.example.com/a", False),
        ("127.evil.example/a", False),
    ],
)
def test_loopback_hosts_are_recognised(text: str, loopback: bool) -> None:
    assert parse_reference(text).is_loopback is loopback


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("ghcr.io/org/../img", "invalid path component '..'"),
        ("ghcr.io/org//img", "empty path component"),
        ("ghcr.io/Org/img", "invalid path component 'Org'"),
        ("ghcr.io/org/im g", "invalid path component"),
        ("ghcr.io/org/img:latest", "names a tag"),
        ("ghcr.io/org/img@sha256:" + "a" * 64, "names a digest"),
        ("good.io:99999/x", "invalid port"),
        ("bad_host.io/x", "invalid registry host"),
        ("[:]/a", "invalid registry host"),
        ("localhost:5000", "registry host but no repository"),
        ("ex$ample.com/x", "invalid"),
        ("ghcr.io/" + "a/" * 130 + "a", "longer than 255"),
    ],
)
def test_invalid_reference_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(InvalidReferenceError, match=problem.replace(".", r"\.")):
        parse_reference(text)


def test_registry_option_is_host_and_optional_namespace() -> None:
    assert parse_registry("cgr.dev/chainguard") == ("cgr.dev", "chainguard")
    assert parse_registry("ghcr.io") == ("ghcr.io", "")
    with pytest.raises(InvalidReferenceError):
        parse_registry("cgr.dev/Bad Namespace")
