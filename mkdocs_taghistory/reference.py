"""Image references: what a directive names, resolved to a registry host and repository."""

from __future__ import annotations

import functools
import ipaddress
import re

from mkdocs_taghistory.errors import InvalidReferenceError
from mkdocs_taghistory.records import Record

# One repository path component, as the OCI distribution spec defines it. Its shape alone
# rules out empty components and "..": a separator must stand between two alphanumerics.
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
# Its source, compiled at first use (the package docstring says why).
_PORT = r"[0-9]{1,5}"
# The distribution spec caps a repository name (host included) at 255 characters.
_MAX_NAME_LENGTH = 255

DEFAULT_REGISTRY = "cgr.dev/chainguard"
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_API_HOST = "registry-1.docker.io"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


class ImageReference(Record):
    """A repository on a registry, such as ``cgr.dev/chainguard/rust``.

    ``host`` is the registry as written (``docker.io``, ``127.0.0.1:5000``); ``repository`` is
    the path on it (``chainguard/rust``, ``library/python``).
    """

    host: str
    repository: str

    @property
    def name(self) -> str:
        """The full reference, as shown on pages and in messages."""
        return f"{self.host}/{self.repository}"

    @property
    def api_host(self) -> str:
        """The host that answers the distribution API: Docker Hub's differs from its name."""
        return DOCKER_HUB_API_HOST if self.host in DOCKER_HUB_HOSTS else self.host

    @property
    def hostname(self) -> str:
        """The host without its port."""
        if self.host.startswith("["):
            return self.host[: self.host.index("]") + 1]
        return self.host.rsplit(":", 1)[0]

    @property
    def is_loopback(self) -> bool:
        """True for registries on this machine, which are spoken to over plain HTTP."""
        return is_loopback_host(self.hostname)

    def __str__(self) -> str:
        return self.name


@functools.lru_cache(maxsize=256)
def is_loopback_host(hostname: str) -> bool:
    """True for a host name (no port) on this machine: ``localhost``, ``127.0.0.0/8``, ``[::1]``.

    Asked for several times a request, of few hosts: cached.
    """
    if hostname in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False  # a name, such as 127.example.com, is not an address


def _looks_like_host(component: str) -> bool:
    # Docker's own rule: the first component is a registry host when it could not be a
    # repository name, i.e. it has a dot, a port, brackets, or is "localhost".
    return (
        "." in component
        or ":" in component
        or component.startswith("[")
        or (component == "localhost")
    )


def _is_ipv6(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv6Address)
    except ValueError:
        return False


def validate_host(host: str, text: str | None = None) -> None:
    """Check a registry host (``name[:port]``, ``[v6]:port``).

    Raises:
        InvalidReferenceError: naming the host (and ``text``, the reference it came from).
    """
    _validate_host(host, text if text is not None else host)


def has_registry_host(text: str) -> bool:
    """True when an image name starts with a registry host (``ghcr.io/o/i``), not a bare name."""
    first, _, rest = text.strip().partition("/")
    return bool(rest) and _looks_like_host(first)


def _validate_host(host: str, text: str) -> None:
    name, port = host, None
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[: end + 1], host[end + 1 :]
        if end < 0 or not _is_ipv6(name[1:-1]) or (rest and not rest.startswith(":")):
            raise InvalidReferenceError(
                f"invalid registry host {host!r} in image reference {text!r}"
            )
        port = rest[1:] if rest else None
    elif ":" in host:
        name, port = host.split(":", 1)
    if not name.startswith("[") and not _is_host_name(name):
        raise InvalidReferenceError(f"invalid registry host {host!r} in image reference {text!r}")
    if port is not None and (not re.fullmatch(_PORT, port) or not 0 < int(port) < 65536):
        raise InvalidReferenceError(
            f"invalid port in registry host {host!r} of image reference {text!r}"
        )


def _is_host_name(name: str) -> bool:
    """True for a DNS name: labels of ASCII letters, digits and inner hyphens, joined by dots."""
    return all(
        label.isascii()
        and label.replace("-", "").isalnum()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in name.split(".")
    )


def _validate_repository(repository: str, text: str) -> None:
    for component in repository.split("/"):
        if not component:
            raise InvalidReferenceError(f"empty path component in image reference {text!r}")
        if not _COMPONENT.fullmatch(component):
            raise InvalidReferenceError(
                f"invalid path component {component!r} in image reference {text!r}: "
                "use lowercase letters, digits and single separators (. _ __ -)"
            )


def parse_registry(text: str) -> tuple[str, str]:
    """Split a default-registry setting (``HOST`` or ``HOST/NAMESPACE``) into its parts.

    Raises:
        InvalidReferenceError: when the host or namespace is not valid.
    """
    if "://" in text:
        raise InvalidReferenceError(
            f"invalid registry {text!r}: write HOST or HOST/NAMESPACE without a scheme such as "
            "https:// (HTTPS is used unless insecure_registries lists the host)"
        )
    host, _, namespace = text.strip().strip("/").partition("/")
    if not host:
        raise InvalidReferenceError(f"invalid registry {text!r}: expected HOST or HOST/NAMESPACE")
    _validate_host(host, text)
    if namespace:
        _validate_repository(namespace, text)
    return host, namespace


def parse_reference(text: str, default_registry: str = DEFAULT_REGISTRY) -> ImageReference:
    """Resolve a directive's image name into a full reference.

    A name without a registry host (``"rust"``) is planned under ``default_registry``; a name
    with one (``"ghcr.io/org/img"``) is used as it is. On Docker Hub a one-part name gets the
    ``library/`` namespace, as ``docker pull`` does.

    Raises:
        InvalidReferenceError: naming what is wrong with the reference.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidReferenceError("the image reference is empty")
    if "@" in stripped:
        raise InvalidReferenceError(
            f"image reference {text!r} names a digest; a tag history is of a repository, "
            "so give the repository alone"
        )
    if has_registry_host(stripped):
        host, _, repository = stripped.partition("/")
    else:
        host, namespace = parse_registry(default_registry)
        repository = f"{namespace}/{stripped}" if namespace else stripped
    if "/" not in stripped and ":" in stripped:
        name, _, port = stripped.rpartition(":")
        if port.isdigit() and (_looks_like_host(name) or name.startswith("[")):
            raise InvalidReferenceError(
                f"image reference {text!r} names a registry host but no repository: "
                f"write {stripped}/REPOSITORY"
            )
    last = repository.rsplit("/", 1)[-1]
    if ":" in last:
        raise InvalidReferenceError(
            f"image reference {text!r} names a tag; a tag history is of a repository, "
            f"so give {stripped.rsplit(':', 1)[0]!r}"
        )
    _validate_host(host, text)
    _validate_repository(repository, text)
    if host in DOCKER_HUB_HOSTS:
        host = "docker.io"
        if "/" not in repository:
            repository = f"library/{repository}"
    reference = ImageReference(host=host, repository=repository)
    if len(reference.name) > _MAX_NAME_LENGTH:
        raise InvalidReferenceError(
            f"image reference {text!r} is longer than {_MAX_NAME_LENGTH} chars"
        )
    return reference
