"""Which proxy a request goes through: the environment's, read as Go reads it, so a build goes
where ``docker pull`` on the same machine goes.

``HTTPS_PROXY`` and ``HTTP_PROXY`` (upper case first, then lower) name the proxy by the
request's scheme; Go reads no ``ALL_PROXY``, and neither does this. What is never proxied is
decided as Go's ``net/http`` decides it (``golang.org/x/net/http/httpproxy``), not as Python's
``urllib`` does (it proxies loopback and knows no CIDR):

* loopback never is: ``localhost`` and every loopback address, whatever ``NO_PROXY`` says
  (a password for a local registry must not go to a proxy);
* ``NO_PROXY`` (else ``no_proxy``) is a comma-separated list of entries, each
  ``*`` (nothing is proxied), an IP address, a CIDR range (``10.0.0.0/8``), or a domain
  name, any of them but ``*`` and CIDR with ``:PORT`` to match that port only. A domain
  matches itself and its subdomains (``example.com``: ``a.example.com`` too); with a leading
  dot (``.example.com``) or ``*.``, only its subdomains. A domain never matches an IP
  address, nor an address a domain. An entry that cannot be read is passed over.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Mapping

from mkdocs_taghistory.records import Record

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class _Domain(Record):
    suffix: str  # with its leading dot
    itself: bool  # the domain matches itself, not only its subdomains
    port: str


class _Address(Record):
    network: IpNetwork
    port: str


class NoProxy:
    """The hosts that ``NO_PROXY`` and loopback keep away from any proxy."""

    def __init__(self, value: str) -> None:
        """Read a ``NO_PROXY`` value; what cannot be read is passed over, as Go does."""
        self.everything = False
        self._domains: list[_Domain] = []
        self._addresses: list[_Address] = []
        for raw in value.split(","):
            entry = raw.strip().lower()
            if entry == "*":
                self.everything = True
            elif entry:
                self._add(entry)

    def _add(self, entry: str) -> None:
        try:
            self._addresses.append(_Address(ipaddress.ip_network(entry, strict=False), ""))
            return
        except ValueError:
            pass
        host, port = _split_port(entry)
        if not host:
            return
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            address = None
        if address is not None:
            self._addresses.append(_Address(ipaddress.ip_network(address), port))
            return
        host = host.removeprefix("*")
        itself = not host.startswith(".")
        name = host.lstrip(".")
        # Requests name an internationalised host in its ASCII form (xn--...).
        with contextlib.suppress(UnicodeError):
            name = name.encode("idna").decode("ascii")
        self._domains.append(_Domain(f".{name}", itself, port))

    def bypasses(self, host: str, port: str) -> bool:
        """True when a request to ``host`` (a name, or an address without brackets) on
        ``port`` goes to it directly."""
        host = host.lower().strip("[]")
        if host == "localhost":
            return True
        try:
            address: IpAddress | None = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and address.is_loopback:
            return True
        if self.everything:
            return True
        if address is not None:
            return any(
                address in entry.network and entry.port in {"", port} for entry in self._addresses
            )
        return any(
            (host.endswith(entry.suffix) or (entry.itself and host == entry.suffix[1:]))
            and entry.port in {"", port}
            for entry in self._domains
        )


def _split_port(entry: str) -> tuple[str, str]:
    """``host`` and ``port`` of ``host:port`` or ``[v6]:port``; ``entry`` and "" without one."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, rest.removeprefix(":") if rest.startswith(":") else ""
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, port
    return entry, ""


class Proxies:
    """The environment's proxies, read once, and which one a request goes through."""

    def __init__(self, environment: Mapping[str, str] | None = None) -> None:
        """Read the proxies of ``environment`` (the process's own unless given)."""
        environ = os.environ if environment is None else environment
        self._proxies = {
            "https": _variable(environ, "HTTPS_PROXY"),
            # As Go (and Python): in a CGI program, HTTP_PROXY may come from a request header.
            "http": "" if environ.get("REQUEST_METHOD") else _variable(environ, "HTTP_PROXY"),
        }
        self._no_proxy = NoProxy(_variable(environ, "NO_PROXY"))
        self._bypassed: dict[tuple[str, str], bool] = {}

    def proxy_for(self, scheme: str, host: str, port: int | None) -> str | None:
        """The proxy a request to ``scheme://host:port`` goes through; None: directly."""
        proxy = self._proxies.get(scheme)
        if not proxy:
            return None
        key = (host, str(port or (443 if scheme == "https" else 80)))
        bypassed = self._bypassed.get(key)
        if bypassed is None:
            bypassed = self._bypassed[key] = self._no_proxy.bypasses(*key)
        return None if bypassed else proxy


def _variable(environ: Mapping[str, str], name: str) -> str:
    """The upper-case variable, else the lower-case one, as Go reads them."""
    return environ.get(name) or environ.get(name.lower()) or ""
