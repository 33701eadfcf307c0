"""A loopback HTTP/2-over-TLS front for the real registry, to inject HTTP/2-specific faults.

Debian's docker-registry speaks HTTP/2 only the way Go's server does, and never misbehaves on
purpose. This front, built on the ``h2`` state machine and asyncio in a background thread,
forwards every stream to the registry over HTTP/1.1 and can, on request (:class:`H2Faults`):
advertise a small SETTINGS_MAX_CONCURRENT_STREAMS, send a graceful GOAWAY, reset streams,
drop the connection with streams in flight, trickle a body or hold a stream back.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx
from h2 import events
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes, Settings
from hyperframe.frame import GoAwayFrame

from tests.support.tls import KeyPair

_PASSED_HEADERS = ("content-type", "docker-content-digest", "location", "www-authenticate", "link")
_FORWARDED_HEADERS = ("accept", "authorization", "content-type", "range", "user-agent")


@dataclass
class H2Faults:
    """The faults a front injects; each is off by default. Counts are of request streams."""

    # Advertised in the server's first SETTINGS; streams beyond it get REFUSED_STREAM.
    max_concurrent_streams: int | None = None
    # Per connection: GOAWAY(NO_ERROR) naming the Nth stream, answer up to it, then close.
    goaway_after: int | None = None
    # Over the front's life: every Nth stream is answered with RST_STREAM(reset_code).
    reset_every: int | None = None
    reset_code: ErrorCodes = ErrorCodes.INTERNAL_ERROR
    # Per connection: at the Nth stream, close the socket with every stream unanswered.
    # Linux sends a FIN, or an RST if client frames are still unread; drop_with_reset
    # makes it always an RST (SO_LINGER 0), as a middlebox's reset would be.
    drop_after: int | None = None
    drop_with_reset: bool = False
    # goaway_after and drop_after strike only the first this many connections (None: all), as
    # a registry restarted once would.
    faulty_connections: int | None = None
    # Bodies of matching paths (GET) are sent one byte per trickle_interval seconds.
    trickle_paths: str | None = None
    trickle_interval: float = 1.0
    # Answers to matching paths wait hold_seconds before their headers.
    hold_paths: str | None = None
    hold_seconds: float = 0.0
    # Answers to matching paths (GET) send their headers and a byte of body, then a frame the
    # protocol forbids (DATA on stream 0), which ends the connection for the client.
    bad_frame_paths: str | None = None


@dataclass(eq=False)
class _Link:
    """One client connection: its h2 state, writer and streams being answered."""

    h2: H2Connection
    writer: asyncio.StreamWriter
    # 1 for the front's first connection, 2 for the next...
    number: int = 0
    received: int = 0
    # Request streams accepted and not yet fully answered (or reset).
    open: int = 0
    goaway_last: int | None = None
    requests: dict[int, tuple[list[tuple[str, str]], bytearray]] = field(default_factory=dict)
    tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    windows: dict[int, asyncio.Event] = field(default_factory=dict)
    flush_due: bool = False

    def flush(self) -> None:
        self.flush_due = False
        data = self.h2.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def flush_soon(self) -> None:
        # One write per loop turn for all streams, not one per frame: fewer TLS records, and
        # once the peer is gone asyncio learns it before many writes pile up (and it warns).
        if not self.flush_due:
            self.flush_due = True
            asyncio.get_running_loop().call_soon(self.flush)


class _DroppedError(Exception):
    """The drop fault ended the connection."""


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class H2Front:
    """The HTTP/2 front; use as a context manager. Counters may be read from any thread."""

    def __init__(self, upstream: str, key_pair: KeyPair, *, faults: H2Faults | None = None) -> None:
        self.upstream = upstream
        self.faults = faults or H2Faults()
        self._trickle = re.compile(self.faults.trickle_paths or r"(?!)")
        self._hold = re.compile(self.faults.hold_paths or r"(?!)")
        self._bad_frame = re.compile(self.faults.bad_frame_paths or r"(?!)")
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 9113 section 9.2
        self._context.load_cert_chain(key_pair.certificate, key_pair.key)
        self._context.set_alpn_protocols(["h2"])
        # Bound now, so that the port is known before the server starts.
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._links: set[_Link] = set()
        # HTTP/1.1 upstream, as Debian's registry serves plain HTTP; it binds to the loop
        # on first use.
        self._client = httpx.AsyncClient(base_url=upstream, timeout=30)
        self._thread = threading.Thread(target=self._run, name="h2-front", daemon=True)

    @property
    def port(self) -> int:
        """The port the front listens on."""
        return int(self._socket.getsockname()[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` of the front."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The front's base URL."""
        return f"https://{self.host}"

    def _count(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def _bump(self, name: str, highest: int | None = None) -> None:
        with self._lock:
            if highest is None:
                self._counts[name] += 1
            else:
                self._counts[name] = max(self._counts[name], highest)

    @property
    def connections(self) -> int:
        """TLS connections accepted."""
        return self._count("connections")

    @property
    def requests(self) -> int:
        """Request streams received, refused, reset and ignored ones included."""
        return self._count("requests")

    @property
    def resets(self) -> int:
        """Streams answered with RST_STREAM by ``reset_every``."""
        return self._count("resets")

    @property
    def refused(self) -> int:
        """Streams refused (REFUSED_STREAM) for exceeding ``max_concurrent_streams``."""
        return self._count("refused")

    @property
    def goaways(self) -> int:
        """GOAWAY frames sent by ``goaway_after``."""
        return self._count("goaways")

    @property
    def drops(self) -> int:
        """Connections dropped by ``drop_after``."""
        return self._count("drops")

    @property
    def max_streams_in_flight(self) -> int:
        """The most request streams open at once on one connection."""
        return self._count("max_streams_in_flight")

    def __enter__(self) -> H2Front:
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._failure is not None or not self._ready.is_set():
            self._thread.join(timeout=5)
            raise RuntimeError("the HTTP/2 front did not start") from self._failure
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=15)
        self._socket.close()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # Reported by __enter__.
            self._failure = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._serve, sock=self._socket, ssl=self._context)
        self._ready.set()
        await self._stop.wait()
        server.close()
        # Python 3.11's wait_closed does not wait for connections: end them ourselves. Each
        # _serve then sees end of file and ends its streams; cancelling _serve itself would
        # have asyncio log the CancelledError of a start_server callback.
        for link in list(self._links):
            link.writer.transport.abort()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=5)
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await server.wait_closed()
        await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._bump("connections")
        tls = writer.get_extra_info("ssl_object")
        if tls is None or tls.selected_alpn_protocol() != "h2":
            writer.transport.abort()  # No HTTP/1.1 here: a client must negotiate h2.
            return
        link = _Link(
            H2Connection(H2Configuration(client_side=False, header_encoding=None)),
            writer,
            number=self.connections,
        )
        limit = self.faults.max_concurrent_streams
        if limit is not None:
            link.h2.local_settings = Settings(
                client=False, initial_values={SettingCodes.MAX_CONCURRENT_STREAMS: limit}
            )
        link.h2.initiate_connection()
        if limit is not None:
            # h2 enforces its advertised limit by ending the whole connection (PROTOCOL_ERROR);
            # a server that refuses single streams, which clients may retry, is what we model:
            # lift h2's own limit once advertised and refuse in _request instead.
            link.h2.local_settings = Settings(client=False)
        link.flush()
        self._links.add(link)
        try:
            while not writer.is_closing():
                data = await reader.read(65536)
                if not data:
                    break
                for event in link.h2.receive_data(data):
                    self._dispatch(link, event)
                link.flush()
        except (_DroppedError, ProtocolError, OSError):
            pass
        finally:
            self._links.discard(link)
            tasks = list(link.tasks.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            link.flush()
            writer.close()

    def _dispatch(self, link: _Link, event: events.Event) -> None:
        if isinstance(event, events.RequestReceived):
            self._request(link, event)
        elif isinstance(event, events.DataReceived) and event.stream_id in link.requests:
            link.requests[event.stream_id][1].extend(event.data)
            link.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, events.StreamEnded) and event.stream_id in link.requests:
            headers, body = link.requests.pop(event.stream_id)
            task = asyncio.create_task(self._answer(link, event.stream_id, headers, bytes(body)))
            link.tasks[event.stream_id] = task
        elif isinstance(event, events.StreamReset) and event.stream_id in link.tasks:
            link.tasks[event.stream_id].cancel()
        elif isinstance(event, events.StreamReset) and event.stream_id in link.requests:
            del link.requests[event.stream_id]  # Reset by the client before its request ended.
            link.open -= 1
            self._close_if_done(link)
        elif isinstance(event, (events.WindowUpdated, events.RemoteSettingsChanged)):
            # A connection-level update (stream 0) or a new initial window frees every stream.
            stream = event.stream_id if isinstance(event, events.WindowUpdated) else 0
            for waiting, window in link.windows.items():
                if stream in (0, waiting):
                    window.set()
        elif isinstance(event, events.ConnectionTerminated):
            link.writer.close()

    def _request(self, link: _Link, event: events.RequestReceived) -> None:
        faults, stream = self.faults, event.stream_id
        self._bump("requests")
        link.received += 1
        if link.goaway_last is not None and stream > link.goaway_last:
            return  # After GOAWAY: unprocessed, as the frame told the client; it retries.
        faulty = faults.faulty_connections is None or link.number <= faults.faulty_connections
        if faulty and faults.drop_after is not None and link.received >= faults.drop_after:
            self._bump("drops")
            if faults.drop_with_reset:
                raw = link.writer.get_extra_info("socket")
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            link.writer.transport.abort()  # No flush, no close_notify, no GOAWAY.
            raise _DroppedError
        if faults.max_concurrent_streams is not None and link.open >= faults.max_concurrent_streams:
            self._bump("refused")
            link.h2.reset_stream(stream, ErrorCodes.REFUSED_STREAM)
        elif faults.reset_every is not None and self.requests % faults.reset_every == 0:
            self._bump("resets")
            link.h2.reset_stream(stream, faults.reset_code)
        else:
            link.open += 1
            self._bump("max_streams_in_flight", highest=link.open)
            headers = [(_text(name), _text(value)) for name, value in event.headers]
            link.requests[stream] = (headers, bytearray())
        if faulty and faults.goaway_after is not None and link.received == faults.goaway_after:
            # h2's close_connection moves its state machine to CLOSED, after which it refuses
            # to send the answers a graceful GOAWAY promises: write the frame ourselves.
            link.flush()
            frame = GoAwayFrame(0, last_stream_id=stream, error_code=ErrorCodes.NO_ERROR)
            link.writer.write(frame.serialize())
            link.goaway_last = stream
            self._bump("goaways")
            self._close_if_done(link)

    def _close_if_done(self, link: _Link) -> None:
        if link.goaway_last is not None and link.open == 0:
            link.flush()
            link.writer.close()

    async def _answer(
        self, link: _Link, stream: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """Forward one request stream upstream and send the answer back on ``stream``."""
        fields = dict(headers)
        method, path = fields[":method"], fields[":path"]
        try:
            if self._hold.search(path):
                await asyncio.sleep(self.faults.hold_seconds)
            sent = {name: value for name, value in headers if name in _FORWARDED_HEADERS}
            # Identity, so that the body and its length reach the client as the registry sent
            # them (httpx would decode a compressed body).
            sent["accept-encoding"] = "identity"
            try:
                response = await self._client.request(method, path, headers=sent, content=body)
            except httpx.HTTPError:
                response = httpx.Response(502)  # The registry is gone: a gateway's answer.
            answer = [(":status", str(response.status_code))]
            answer += [(n, v) for n, v in response.headers.items() if n in _PASSED_HEADERS]
            content = b"" if method == "HEAD" else response.content
            # HEAD keeps the registry's length: that of the body a GET would have.
            length = response.headers.get("content-length", "0") if method == "HEAD" else None
            answer.append(("content-length", length or str(len(content))))
            link.h2.send_headers(stream, answer, end_stream=not content)
            link.flush_soon()
            if content and self._bad_frame.search(path):
                link.h2.send_data(stream, content[:1])
                link.flush()
                # DATA (type 0) on stream 0, 4 bytes: a connection error for the client.
                link.writer.write(b"\x00\x00\x04\x00\x00\x00\x00\x00\x00abcd")
                return
            await self._send_body(link, stream, content, bool(self._trickle.search(path)))
        except ProtocolError:
            pass  # The client reset the stream, or the connection is closing.
        finally:
            link.tasks.pop(stream, None)
            link.windows.pop(stream, None)
            link.open -= 1
            if not link.writer.is_closing():
                self._close_if_done(link)

    async def _send_body(self, link: _Link, stream: int, body: bytes, trickle: bool) -> None:
        view = memoryview(body)
        while view:
            if trickle:
                await asyncio.sleep(self.faults.trickle_interval)
            window = min(link.h2.local_flow_control_window(stream), link.h2.max_outbound_frame_size)
            if window <= 0:
                # Wait for the client's WINDOW_UPDATE (or a larger initial window).
                waiting = link.windows.setdefault(stream, asyncio.Event())
                waiting.clear()
                await waiting.wait()
                continue
            chunk = view[: 1 if trickle else window]
            view = view[len(chunk) :]
            link.h2.send_data(stream, bytes(chunk), end_stream=not view)
            link.flush_soon()
