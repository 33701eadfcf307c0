"""A loopback TCP proxy that adds a fixed round-trip time to every exchange, and counts.

The benchmark in :mod:`bench.run` measures fetches "over a network" without leaving the
machine: every connection goes through this proxy, which holds each client-to-server chunk for
one RTT before passing it on, keeping the order of the chunks of each connection, as a link
with that latency would. A new connection costs one RTT too, as a TCP handshake does: the
proxy connects upstream, and starts reading from the client, only one RTT after it accepted.
Answers pass straight through; the whole round trip is charged on the way out, which is the
same for a client that waits for them. The proxy never looks inside a connection, so TLS
passes through it as it is, and its handshake pays its real round trips (one for TLS 1.3).

Each chunk's delay is counted from its own arrival, so chunks that follow each other closely
(a request's headers and body, a TLS record and the next) cost one RTT together, not one each.
Plain HTTP requests are also counted (a chunk that starts with a method such as ``GET``); over
TLS only connections and bytes can be, and the client's own counters give the requests.

It runs as a process of its own so that its event loop never competes for the GIL with the
client being measured. A second port takes one command per line:

``stats``
    one JSON line: ``connections``, ``requests``, ``methods`` (requests per method),
    ``bytes_up``, ``bytes_down``, ``rtt_ms``;
``reset``
    the same line, then every counter is zeroed;
``rtt MS``
    sets the RTT for chunks read from now on, and answers the stats line.

Run::

    .venv/bin/python -m bench.latency_proxy --upstream 127.0.0.1:5000 --rtt-ms 50 \\
        --port 0 --stats-port 0

Port 0 picks a free port. Once both ports listen, the proxy prints one JSON line on stdout,
``{"port": P, "stats_port": Q}``, and serves until it is sent SIGTERM or SIGINT.
:class:`ProxyProcess` starts it that way and talks to its stats port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

LOOPBACK = "127.0.0.1"
CHUNK_BYTES = 64 * 1024
# A chunk that starts a plain HTTP request begins with a method and a space.
REQUEST_START = re.compile(rb"^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE) ")


@dataclass
class Counters:
    """What the proxy has seen since it started or was last reset."""

    connections: int = 0
    requests: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    bytes_up: int = 0
    bytes_down: int = 0

    def as_json(self, rtt: float) -> str:
        """One line of JSON, with the RTT in force."""
        return json.dumps(
            {
                "connections": self.connections,
                "requests": self.requests,
                "methods": dict(self.methods),
                "bytes_up": self.bytes_up,
                "bytes_down": self.bytes_down,
                "rtt_ms": rtt * 1000,
            },
            sort_keys=True,
        )


class LatencyProxy:
    """Forwards connections to ``upstream``, adding ``rtt`` seconds per request."""

    def __init__(self, upstream: tuple[str, int], rtt: float) -> None:
        """Proxy to ``upstream`` (host, port) with ``rtt`` seconds per request."""
        self.upstream = upstream
        self.rtt = rtt
        self.counters = Counters()

    async def handle_client(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        """Serve one client connection until either side closes it."""
        self.counters.connections += 1
        # The handshake's round trip: nothing reaches the server, and no request is read,
        # before it is over, so a new connection's first request costs two RTTs.
        await asyncio.sleep(self.rtt)
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._client_to_server(client_reader, server_writer),
            self._server_to_client(server_reader, client_writer),
        )

    async def _client_to_server(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # Chunks wait in a queue with the time they may leave, so a request's delay is counted
        # from its arrival even while an earlier one is still held, and order is kept.
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        sender = asyncio.create_task(self._send_when_due(queue, writer))
        loop = asyncio.get_running_loop()
        try:
            while chunk := await reader.read(CHUNK_BYTES):
                due = loop.time() + self.rtt
                if REQUEST_START.match(chunk):
                    self.counters.requests += 1
                    self.counters.methods[chunk.split(b" ", 1)[0].decode()] += 1
                self.counters.bytes_up += len(chunk)
                queue.put_nowait((due, chunk))
        except OSError:
            pass  # the client reset the connection: close the server side as well
        finally:
            queue.put_nowait(None)
            await sender

    @staticmethod
    async def _send_when_due(
        queue: asyncio.Queue[tuple[float, bytes] | None], writer: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while (item := await queue.get()) is not None:
                due, chunk = item
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass  # the server went away; its reader side ends the other direction
        finally:
            writer.close()

    async def _server_to_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while chunk := await reader.read(CHUNK_BYTES):
                self.counters.bytes_down += len(chunk)
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass  # either side reset the connection; closing below ends both directions
        finally:
            writer.close()

    async def handle_control(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Answer ``stats``, ``reset`` and ``rtt MS`` commands, one per line."""
        try:
            while line := await reader.readline():
                command, *arguments = line.decode().split() or [""]
                answer = self.counters.as_json(self.rtt)
                if command == "reset":
                    self.counters = Counters()
                elif command == "rtt" and len(arguments) == 1:
                    self.rtt = float(arguments[0]) / 1000
                    answer = self.counters.as_json(self.rtt)
                elif command != "stats":
                    answer = json.dumps({"error": f"unknown command {line.decode().strip()!r}"})
                writer.write(answer.encode() + b"\n")
                await writer.drain()
        except (OSError, ValueError):
            pass  # a control client that goes away or sends nonsense ends its own session
        finally:
            writer.close()


async def serve(upstream: tuple[str, int], rtt: float, port: int, stats_port: int) -> None:
    """Listen on both ports, announce them on stdout, serve until SIGTERM or SIGINT."""
    proxy = LatencyProxy(upstream, rtt)
    # The backlog is generous: a build may open its whole pool at once.
    data = await asyncio.start_server(proxy.handle_client, LOOPBACK, port, backlog=256)
    control = await asyncio.start_server(proxy.handle_control, LOOPBACK, stats_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ports = {
        "port": data.sockets[0].getsockname()[1],
        "stats_port": control.sockets[0].getsockname()[1],
    }
    print(json.dumps(ports), flush=True)
    async with data, control:
        await stop.wait()


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` as a pair; only loopback hosts are accepted."""
    host, _, port = text.rpartition(":")
    if host not in {LOOPBACK, "localhost"} or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected {LOOPBACK}:PORT, got {text!r}")
    return host, int(port)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", type=parse_host_port, required=True, help="HOST:PORT")
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round-trip time (ms)")
    parser.add_argument("--port", type=int, default=0, help="proxy port (0: any free one)")
    parser.add_argument("--stats-port", type=int, default=0, help="stats port (0: any)")
    arguments = parser.parse_args(argv)
    asyncio.run(
        serve(arguments.upstream, arguments.rtt_ms / 1000, arguments.port, arguments.stats_port)
    )


# --- the benchmark's side: start the proxy and talk to it ------------------------------------


@dataclass(frozen=True)
class ProxyStats:
    """The proxy's counters at one moment."""

    connections: int
    requests: int
    methods: dict[str, int]
    bytes_up: int
    bytes_down: int
    rtt_ms: float


class ProxyProcess:
    """The proxy, run as a child process in front of a loopback server."""

    def __init__(self, upstream: str, rtt_ms: float, log: Path) -> None:
        """Start the proxy in front of ``upstream`` (``127.0.0.1:PORT``); wait until it listens.

        Its stderr goes to ``log``, for when it fails.
        """
        self._log: IO[bytes] = log.open("wb")
        repository_root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.latency_proxy", "--upstream", upstream),
                *("--rtt-ms", str(rtt_ms), "--port", "0", "--stats-port", "0"),
            ],
            cwd=repository_root,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self.process.stdout is not None
        announcement = self.process.stdout.readline()
        if not announcement:
            self.stop()
            raise RuntimeError(f"the latency proxy did not start: {log.read_text()}")
        ports = json.loads(announcement)
        self.port: int = ports["port"]
        self.stats_port: int = ports["stats_port"]

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` of the proxy, as an image reference names it."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://{self.host}"

    def command(self, line: str) -> ProxyStats:
        """Send one control command; return the counters it answers with."""
        with socket.create_connection((LOOPBACK, self.stats_port), timeout=10) as control:
            control.sendall(line.encode() + b"\n")
            answer = control.makefile("rb").readline()
        document = json.loads(answer)
        if "error" in document:
            raise RuntimeError(f"latency proxy: {document['error']}")
        return ProxyStats(**document)

    def stats(self) -> ProxyStats:
        """The counters now."""
        return self.command("stats")

    def reset(self) -> ProxyStats:
        """Zero the counters; return what they were."""
        return self.command("reset")

    def set_rtt(self, rtt_ms: float) -> None:
        """Change the RTT of requests from now on."""
        self.command(f"rtt {rtt_ms}")

    def stop(self) -> None:
        """Stop the process by its PID and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        with contextlib.suppress(OSError):
            self._log.close()


if __name__ == "__main__":
    main()
