"""Which certificates a registry host is checked against, and which one we show it.

A build trusts what ``docker pull`` and ``skopeo`` trust on the same machine:

* the system trust store, so a company CA installed in the OS works: on macOS and Windows the
  system itself verifies (through ``truststore``: the Keychain, the Windows certificate store),
  elsewhere OpenSSL's default locations are the system's store; ``SSL_CERT_FILE`` and
  ``SSL_CERT_DIR``, when set, name the store instead, as OpenSSL lets them;
* Docker's and Podman's per-host folders, ``certs.d/HOST[:PORT]/``: each ``*.crt`` is added to
  the trusted roots for that host, and a ``NAME.cert`` with its ``NAME.key`` is the client
  certificate shown to it (mutual TLS), as both tools read them;
* the ``tls`` option, per host: ``ca_file`` added to the roots, ``cert_file``/``key_file`` as
  the client certificate.

Roots are only ever added, never replaced, as Docker adds ``certs.d`` roots to the system pool.
A context is built the first time a host is spoken to over HTTPS (loading the system store
costs about 15 ms), and hosts with the same material share one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from mkdocs_taghistory.registry.tls_files import TlsSetupError, checked_tls_file
from mkdocs_taghistory.settings import HostTls, TlsSettings

logger = logging.getLogger(__name__)

# OpenSSL's verify codes (x509_vfy.h) and what they mean to someone who runs a registry.
_UNKNOWN_ISSUER_CODES = frozenset({2, 18, 19, 20, 21})
_VERIFY_PROBLEMS = {
    10: "its certificate has expired",
    9: "its certificate is not valid yet",
    62: "its certificate is for another name",  # host name
    64: "its certificate is for another name",  # IP address
}
# What the server's alerts (or a server that is no TLS server) mean, by OpenSSL's reason names.
_ALERT_PROBLEMS = (
    ("CERTIFICATE_REQUIRED", "the registry asks for a client certificate and none was given"),
    (
        "HANDSHAKE_FAILURE",
        "the registry ended the handshake (does it ask for a client certificate?)",
    ),
    (
        "BAD_CERTIFICATE",
        "the registry refused the client certificate, or asks for one and none was given",
    ),
    ("UNKNOWN_CA", "the registry does not trust the client certificate's issuer"),
    ("WRONG_VERSION_NUMBER", "the server does not speak TLS on that port (plain HTTP?)"),
    ("RECORD_LAYER_FAILURE", "the server does not speak TLS on that port (plain HTTP?)"),
)


@dataclass(frozen=True)
class _Material:
    """Everything a TLS context is made of; hosts with equal material share one context."""

    ca_files: tuple[Path, ...] = ()
    cert_file: Path | None = None
    key_file: Path | None = None


class TlsContexts:
    """The TLS contexts of one build, made on first use, one per distinct set of material."""

    def __init__(self, settings: TlsSettings) -> None:
        """Read nothing yet: folders and files are read when a host is first spoken to."""
        self.settings = settings
        self._material: dict[str, _Material] = {}
        self._contexts: dict[_Material, ssl.SSLContext] = {}
        self._own_tls: dict[str, bool] = {}
        self._lock = threading.Lock()

    def has_own_tls(self, host: str) -> bool:
        """True when ``host`` has a ``tls`` entry or a ``certs.d`` folder: it speaks HTTPS.

        Asked for every request to a loopback host, so the folders are looked at once.
        """
        own = self._own_tls.get(host)
        if own is None:
            own = self._entry(host) is not None or bool(self._host_folders(host))
            self._own_tls[host] = own
        return own

    def context_for(self, host: str) -> tuple[object, ssl.SSLContext]:
        """The context for ``host`` (``HOST[:PORT]``) and a key shared by equal contexts.

        Raises:
            TlsSetupError: when a file that should be read cannot be.
        """
        with self._lock:
            material = self._material.get(host)
            if material is None:
                material = self._material[host] = self._find_material(host)
            context = self._contexts.get(material)
            if context is None:
                context = self._contexts[material] = _make_context(material)
            return material, context

    def _entry(self, host: str) -> HostTls | None:
        hosts = self.settings.hosts
        # An entry for a host without a port serves every port of it.
        return hosts.get(host) or hosts.get(_without_port(host))

    def _host_folders(self, host: str) -> list[Path]:
        found = []
        for root in self.settings.certs_dirs:
            folder = root / host
            try:
                if folder.is_dir():
                    found.append(folder)
            except OSError:  # an unreadable parent: as if the folder were not there
                continue
        return found

    def _find_material(self, host: str) -> _Material:
        ca_files: list[Path] = []
        cert_file = key_file = None
        for folder in self._host_folders(host):
            try:
                names = sorted(os.listdir(folder))
            except OSError as error:
                raise TlsSetupError(f"cannot read {folder}: {error.strerror}") from None
            ca_files += [folder / name for name in names if name.endswith(".crt")]
            for name in names:
                if name.endswith(".cert") and cert_file is None:
                    key = folder / (name.removesuffix(".cert") + ".key")
                    if not key.exists():
                        # Docker refuses such a folder too: a certificate without its key
                        # cannot be shown.
                        raise TlsSetupError(f"{folder / name} has no {key.name} beside it")
                    cert_file, key_file = folder / name, key
        entry = self._entry(host)
        if entry is not None:
            if entry.ca_file is not None:
                ca_files.append(entry.ca_file)
            if entry.cert_file is not None:
                cert_file, key_file = entry.cert_file, entry.key_file
        if ca_files or cert_file:
            logger.debug(
                "TLS for %s: roots %s, client certificate %s",
                host,
                [str(path) for path in ca_files],
                cert_file,
            )
        return _Material(tuple(ca_files), cert_file, key_file)


def _without_port(host: str) -> str:
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.rsplit(":", 1)[0]


# Where OpenSSL's default locations are not the system's trust store: macOS keeps it in the
# Keychain, Windows in its certificate store, and only the system can verify against them.
OS_VERIFIED_PLATFORMS = frozenset({"darwin", "win32"})


def system_context() -> ssl.SSLContext:
    """A client context that trusts the system's store; roots may be added to it.

    * ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` set: OpenSSL's context, which trusts what they name
      instead of its default locations, on every system (as curl, and pip's ``--cert``, do).
    * macOS and Windows: truststore's context, which has the system verify each certificate.
      Roots added with ``load_verify_locations`` (``certs.d``, the ``tls`` option) are handed
      to the system's verifier as further anchors; a client certificate is OpenSSL's as ever.
    * elsewhere: OpenSSL's context, whose default locations are the system's store (loaded
      once a context; truststore would load them again for every connection). Where this
      Python's OpenSSL finds nothing there (a Python built for another layout), truststore's,
      which looks where distributions keep their bundle.
    """
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context()
    paths = ssl.get_default_verify_paths()
    if sys.platform in OS_VERIFIED_PLATFORMS or (paths.cafile is None and paths.capath is None):
        import truststore  # noqa: PLC0415 (imported by the first HTTPS host only)

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return ssl.create_default_context()


# Contexts made in this process, by what they were made of: loading the system store costs
# about 28 ms a context, which mkdocs serve would pay at every rebuild. Files are named with
# their size and modification time, so a certificate replaced on disk makes a new context.
_MADE: dict[tuple[object, ...], ssl.SSLContext] = {}
_MOST_MADE = 32


def _make_context(material: _Material) -> ssl.SSLContext:
    key = _context_key(material)
    context = _MADE.get(key) if key is not None else None
    if context is None:
        context = system_context()
        _load_material(context, material)
        if key is not None:
            if len(_MADE) >= _MOST_MADE:
                _MADE.clear()
            _MADE[key] = context
    return context


def _context_key(material: _Material) -> tuple[object, ...] | None:
    """What a context of ``material`` is made of, as of now; None when a file cannot be
    looked at (loading it then says why)."""
    files = [*material.ca_files, material.cert_file, material.key_file]
    try:
        stamps = tuple(
            (str(path), (info := path.stat()).st_size, info.st_mtime_ns)
            for path in files
            if path is not None
        )
    except OSError:
        return None
    environment = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return (environment, stamps)


def _load_material(context: ssl.SSLContext, material: _Material) -> None:
    for ca_file in material.ca_files:
        try:
            context.load_verify_locations(cafile=checked_tls_file(ca_file, "a CA certificate"))
        except (OSError, ssl.SSLError) as error:
            raise TlsSetupError(
                f"cannot use {ca_file} as a CA certificate: {_reason(error)}"
            ) from None
    if material.cert_file is not None:
        # Each file checked on its own, so a broken key is named as the key.
        cert_file = checked_tls_file(material.cert_file, "a client certificate")
        key_file = None
        if material.key_file is not None:
            key_file = checked_tls_file(material.key_file, "the client certificate's key")
        try:
            context.load_cert_chain(cert_file, key_file)
        except (OSError, ssl.SSLError) as error:
            files = f"{cert_file} with its key {key_file}" if key_file else cert_file
            raise TlsSetupError(
                f"cannot use {files} as a client certificate: {_reason(error)}"
            ) from None


def check_host_tls(entry: HostTls) -> None:
    """Load an entry's files once, so that a mistake is reported when options are read.

    A bare context is enough for that, and spares loading the system store.

    Raises:
        TlsSetupError: naming the file and what is wrong with it.
    """
    ca_files = (entry.ca_file,) if entry.ca_file else ()
    _load_material(
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
        _Material(ca_files, entry.cert_file, entry.key_file),
    )


def _reason(error: OSError | ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLError):
        return str(error.reason or error).replace("_", " ").lower()
    return error.strerror or str(error)


def describe_tls_failure(error: BaseException, *, connecting: bool = True) -> str | None:
    """What a failed TLS connection means, when it is one that trying again cannot mend.

    Returns None when ``error`` (or its causes) holds no such failure. A certificate the
    client does not trust is never worth a retry, nor a reason to serve the cached table: a
    certificate that changed may be an attack. With ``connecting`` False (the error came
    while reading or writing), only a refused client certificate counts: other TLS errors
    there are a damaged connection.
    """
    failure = _find_ssl_error(error)
    if failure is None or isinstance(failure, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return None  # a connection cut mid-handshake: an ordinary, maybe passing, failure
    if isinstance(failure, ssl.SSLCertVerificationError) and connecting:
        code = failure.verify_code
        if code in _UNKNOWN_ISSUER_CODES:
            problem = "its certificate is signed by an issuer this machine does not trust"
        else:
            problem = _VERIFY_PROBLEMS.get(
                code, f"its certificate cannot be verified ({failure.verify_message})"
            )
        return f"TLS: {problem}"
    reason = str(failure.reason or failure).upper()
    for marker, problem in _ALERT_PROBLEMS:
        if marker in reason:
            return f"TLS: {problem}"
    if not connecting:
        # Past the handshake (TLS 1.3 sends a refused client certificate's alert there, and
        # that is named above), a TLS error is a damaged or cut connection: worth a retry.
        return None
    return f"TLS: {reason.replace('_', ' ').lower()}"


def _find_ssl_error(error: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


# How long a probe waits for a refusal: a server that takes the certificate waits for a request
# and says nothing, so the probe's whole cost on a healthy server is this wait.
_PROBE_SECONDS = 1.0


async def refused_client_certificate(host: str, port: int, context: ssl.SSLContext) -> str | None:
    """Why the TLS server at ``host:port`` refuses this client's certificate, or None.

    A server that asks for a client certificate refuses a missing or unknown one after the
    handshake, in TLS 1.3: the refusal is an alert the client reads. A client that writes first
    (HTTP/2 sends its preface at once) instead meets a closed connection, an error that looks
    like any dropped connection, and would retry it and serve the cached table. This probe
    reads first, so the alert is what it meets.
    """
    try:
        async with asyncio.timeout(_PROBE_SECONDS):
            reader, writer = await asyncio.open_connection(
                host.strip("[]"), port, ssl=context, server_hostname=host.strip("[]")
            )
            try:
                await reader.read(1)
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
    except ssl.SSLError as error:
        return describe_tls_failure(error, connecting=False)
    except (OSError, TimeoutError):
        return None
    return None
