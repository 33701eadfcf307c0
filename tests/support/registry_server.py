"""Debian's docker-registry (CNCF distribution 2.8) as a throwaway server on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BINARY = "docker-registry"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as an image reference names it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The registry's base URL."""
        return f"http://{self.host}"

    def start(self) -> RegistryServer:
        """Write the configuration, start the process and wait until it answers."""
        storage = self.root / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        auth = (
            f"auth:\n  htpasswd:\n    realm: test\n    path: {self.htpasswd}\n"
            if self.htpasswd
            else ""
        )
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n" + auth
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
                httpx.get(f"{self.url}/v2/", timeout=1)  # any answer, 401 too, means it is up
                return self
            except httpx.TransportError:
                time.sleep(0.02)
        raise RuntimeError("docker-registry did not start within 15 s")

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
