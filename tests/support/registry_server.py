"""Debian's docker-registry (CNCF distribution 2.8) as a throwaway server on loopback.

Given a certificate it serves HTTPS, and Go then offers HTTP/2 by ALPN, as public registries
do; given a client CA as well, it asks for a client certificate (mutual TLS).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.tls import KeyPair

BINARY = "docker-registry"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_of(image: str) -> int:
    """The port of an image reference's registry host (``127.0.0.1:PORT/acme/widget``)."""
    return int(image.split("/", maxsplit=1)[0].rsplit(":", 1)[1])


def registry_binary() -> str:
    """The registry's path; an error that says how to install it when it is missing."""
    path = shutil.which(BINARY) or (
        f"/usr/bin/{BINARY}" if os.path.exists(f"/usr/bin/{BINARY}") else None
    )
    if path is None:
        raise RuntimeError(
            "Debian's docker-registry is needed by the registry tests and is not installed: "
            "apt-get install -y docker-registry (or run .ci/run, which installs it)"
        )
    return path


@dataclass
class RegistryServer:
    """A running registry: its address and process."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    htpasswd: Path | None = None
    tls: KeyPair | None = None
    # With tls: the CA that signed the certificate, which the readiness probe trusts.
    ca_file: Path | None = None
    # With tls: require client certificates signed by this CA.
    client_ca: Path | None = None
    # With client_ca: the probe's own client certificate.
    probe_client: KeyPair | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as an image reference names it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The registry's base URL."""
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def start(self) -> RegistryServer:
        """Write the configuration, start the process and wait until it answers."""
        storage = self.root / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        auth = (
            f"auth:\n  htpasswd:\n    realm: test\n    path: {self.htpasswd}\n"
            if self.htpasswd
            else ""
        )
        tls = ""
        if self.tls is not None:
            tls = f"  tls:\n    certificate: {self.tls.certificate}\n    key: {self.tls.key}\n"
            if self.client_ca is not None:
                tls += f"    clientcas:\n      - {self.client_ca}\n"
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n" + tls + auth
        )
        log = (self.root / "registry.log").open("wb")
        self.process = subprocess.Popen(
            [registry_binary(), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(self.root / 'registry.log').read_text()}"
                )
            try:
                # Any answer, 401 too, means it is up.
                httpx.get(f"{self.url}/v2/", timeout=1, verify=self._probe_context())
                return self
            except httpx.TransportError:
                time.sleep(0.02)
        raise RuntimeError("docker-registry did not start within 15 s")

    def client_options(self) -> dict[str, Any]:
        """``verify`` and ``cert`` for an httpx client of this registry (seeding, probes)."""
        if self.tls is None:
            return {}
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if self.probe_client is not None:
            context.load_cert_chain(self.probe_client.certificate, self.probe_client.key)
        return {"verify": context}

    def _probe_context(self) -> ssl.SSLContext | bool:
        # Readiness only: any certificate will do, even the expired ones tests serve on purpose.
        if self.tls is None:
            return True
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if self.probe_client is not None:
            context.load_cert_chain(self.probe_client.certificate, self.probe_client.key)
        return context

    def stop(self) -> None:
        """Stop the process by its PID and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
