"""What the ``tls`` option and the ``certs.d`` folders say, as plain settings.

Apart from :mod:`.tls`, which makes the TLS contexts (and imports ``ssl``): reading a site's
options needs only these.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from mkdocs_taghistory.errors import TagHistoryError
from mkdocs_taghistory.files import check_regular_file
from mkdocs_taghistory.records import Record

DEFAULT_CERTS_DIRS: tuple[str, ...] = (
    "/etc/docker/certs.d",
    "/etc/containers/certs.d",
    "~/.config/containers/certs.d",
)
"""Where Docker (system-wide) and Podman (system-wide, then per user) keep per-host folders."""


class TlsSetupError(TagHistoryError):
    """TLS material that cannot be used: a missing or unreadable file, a key that does not fit."""


class HostTls(Record):
    """What the ``tls`` option gives for one host.

    Attributes:
        ca_file: a PEM bundle added to the trusted roots for this host.
        cert_file: the client certificate shown to this host (mutual TLS).
        key_file: its private key; None when ``cert_file`` holds it too.
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


_DEFAULT_FOLDERS = tuple(Path(folder).expanduser() for folder in DEFAULT_CERTS_DIRS)


class TlsSettings(Record):
    """The ``tls`` option and the folders searched for per-host certificates.

    Attributes:
        hosts: per ``HOST[:PORT]``, the ``tls`` option's entry; a host with one is spoken to
            over HTTPS, loopback or not.
        certs_dirs: Docker-style folders holding a ``HOST[:PORT]`` folder per registry.
    """

    hosts: Mapping[str, HostTls] = MappingProxyType({})
    certs_dirs: tuple[Path, ...] = _DEFAULT_FOLDERS


# Far above any real bundle (the system's is about 220 KB) or key.
_MAX_TLS_FILE_BYTES = 8 * 1024 * 1024


def checked_tls_file(path: Path, role: str) -> str:
    """``path``, once it is known to be a regular file of bounded size that can be read:
    OpenSSL would wait for ever on a FIFO, and read a huge file whole.

    Raises:
        TlsSetupError: naming the file, its role ("a CA certificate") and what is wrong.
    """
    try:
        check_regular_file(path, _MAX_TLS_FILE_BYTES)
    except OSError as error:
        raise TlsSetupError(f"cannot use {path} as {role}: {error.strerror or error}") from None
    return str(path)
