"""Benchmark datasets: the registries (TLS and plain HTTP, each behind a latency proxy), the
images seeded into them, and the sites built from them. See :mod:`bench.run`."""

from __future__ import annotations

import os
import shutil
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.async_vs_threads import registry_cpu_seconds
from bench.latency_proxy import ProxyProcess
from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.history import group_by_digest
from mkdocs_taghistory.registry.client import ClientSettings
from mkdocs_taghistory.render import render_markdown
from mkdocs_taghistory.settings import HostTls, TlsSettings
from mkdocs_taghistory.view import table_view
from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import PushedImage, seed_image
from tests.support.tls import CertificateAuthority

S_REPOSITORY = "acme/widget"
L_NAMESPACE = "bench"
TAGS_PER_DIGEST = 5
ROOT = Path(__file__).resolve().parents[1]
SEED_THREADS = 8


Digests = dict[str, str]


def loopback_only_environment(docker_config: Path) -> dict[str, str]:
    """This process's environment without proxy settings, so no request can leave loopback.

    ``DOCKER_CONFIG`` points at an empty folder, so no build reads the machine's credentials.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy") and name != "TAGHISTORY_OFFLINE"
    }
    environment["DOCKER_CONFIG"] = str(docker_config)
    return environment


@dataclass(frozen=True)
class Endpoint:
    """One registry process and the latency proxy in front of it."""

    registry: RegistryServer
    proxy: ProxyProcess
    ca_file: Path | None = None
    """The CA of the registry's certificate; None for plain HTTP."""

    def client_settings(self, concurrency: int, *, http2: bool = False) -> ClientSettings:
        """The plugin's settings for this endpoint: TLS through the ``tls`` option."""
        return ClientSettings(
            concurrency=concurrency, http2=http2, tls=TlsSettings(self.tls_entries(), ())
        )

    def tls_entries(self) -> dict[str, HostTls]:
        """The ``tls`` option's entries that make the proxy's address speak HTTPS."""
        return {self.proxy.host: HostTls(ca_file=self.ca_file)} if self.ca_file else {}

    def verify(self) -> ssl.SSLContext | bool:
        """``verify`` for a plain httpx client of the proxy."""
        return ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else True

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"{'https' if self.ca_file else 'http'}://{self.proxy.host}"


@dataclass(frozen=True)
class Servers:
    """The TLS registry and the plain-HTTP one (same storage), each behind its proxy."""

    tls: Endpoint
    plain: Endpoint

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by the registries and by the proxies."""
        registries = proxies = 0.0
        for endpoint in (self.tls, self.plain):
            if endpoint.registry.process is None:
                raise RuntimeError("a registry is not running")
            registries += registry_cpu_seconds(endpoint.registry.process.pid)
            proxies += registry_cpu_seconds(endpoint.proxy.process.pid)
        return registries, proxies

    def set_rtt(self, rtt_ms: float) -> None:
        """The same RTT at both proxies."""
        self.tls.proxy.set_rtt(rtt_ms)
        self.plain.proxy.set_rtt(rtt_ms)


def page_name(number: int) -> str:
    """The file of page ``number``."""
    return f"p{number:03d}.md"


def image_of(host: str, number: int) -> str:
    """The image of page ``number`` on ``host``."""
    return f"{host}/{L_NAMESPACE}/image{number:03d}"


def seed_site_images(registry_url: str, pages: int, digests: int) -> None:
    """Push one image per page, several at once: the registry has cores to spare."""

    def seed(number: int) -> list[PushedImage]:
        repository = image_of("", number).lstrip("/")
        return seed_image(registry_url, repository, digests=digests, tags_per_digest=5)

    with ThreadPoolExecutor(max_workers=SEED_THREADS) as pool:
        for pushed in pool.map(seed, range(pages)):
            if len(pushed) != digests:
                raise SystemExit("seeding L pushed fewer digests than asked")


def write_plain_pages(docs: Path, cache: Path, host: str, pages: int) -> None:
    """Each page with its table written in as Markdown, from the snapshot in ``cache``."""
    snapshots = SnapshotCache(cache)
    for number in range(pages):
        image = image_of(host, number)
        snapshot = snapshots.load(image)
        if snapshot is None:
            raise SystemExit(f"no cached snapshot of {image} to write the plain site from")
        table = render_markdown(table_view(image, group_by_digest(snapshot)))
        (docs / page_name(number)).write_text(f"# Image {number:03d}\n\n{table}\n", "utf-8")


def start_servers(root: Path, rtt_ms: float) -> Servers:
    """The TLS registry and, on the same storage, the plain one, each behind a proxy."""
    authority = CertificateAuthority(root / "ca")
    skopeo_certs = root / "ca" / "skopeo-certs"
    skopeo_certs.mkdir()
    shutil.copy(authority.certificate, skopeo_certs / "ca.crt")
    tls_registry = RegistryServer(
        root / "registry",
        free_port(),
        tls=authority.issue("registry"),
        ca_file=authority.certificate,
    ).start()
    (root / "plain-registry").mkdir()
    # A second process on the same files: what one seeding pushed, both serve.
    (root / "plain-registry" / "storage").symlink_to(root / "registry" / "storage")
    plain_registry = RegistryServer(root / "plain-registry", free_port()).start()
    tls_proxy = ProxyProcess(tls_registry.host, rtt_ms, root / "proxy.log")
    plain_proxy = ProxyProcess(plain_registry.host, rtt_ms, root / "plain-proxy.log")
    return Servers(
        Endpoint(tls_registry, tls_proxy, authority.certificate),
        Endpoint(plain_registry, plain_proxy),
    )


def stop_servers(servers: Servers) -> None:
    """Stop the proxies and the registries."""
    for endpoint in (servers.tls, servers.plain):
        endpoint.proxy.stop()
        endpoint.registry.stop()
