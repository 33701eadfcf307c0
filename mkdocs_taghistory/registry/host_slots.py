"""How many requests may be in flight to one host at once, by the protocol it speaks.

An HTTP/2 host answers many requests at once on one connection, as streams; an HTTP/1.1 host
answers one request a connection, and past 16 connections more of them cost (handshakes, the
registry's CPU, httpcore's pool, which looks at every connection on every event) more than they
win. So each host gets :data:`HTTP1_SLOTS` until its first answer says it speaks HTTP/2, and
:data:`HTTP2_SLOTS` from then on (httpcore's own cap on streams a connection), or fewer when
the server's settings allow fewer: the first requests to a host carry a trace that reads them.
A request past the server's number would wait inside httpcore with its clock running.

A request takes its host's slot before its clock starts (:mod:`.sender`), so time spent
waiting for a slot never counts against the request's ``timeout``. A request that continues a
call already under way (sent again with a new token, say) goes ahead of the requests that
start new calls: behind a hundred of them, the token it fetched could be spent before it is
used.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from mkdocs_taghistory.registry.origins import Origin, origin_of

HTTP1_SLOTS = 16
"""Requests in flight to a host that speaks HTTP/1.1 (or has not answered yet): one each on
as many connections. More is no faster on the registries measured (``bench/engine.py``)."""
HTTP2_SLOTS = 100
"""Streams in flight to a host that speaks HTTP/2, on its one connection (httpcore's cap)."""
# h2's code of the SETTINGS_MAX_CONCURRENT_STREAMS setting (RFC 9113, 6.5.2).
_MAX_CONCURRENT_STREAMS = 0x3
LANE = "taghistory.lane"
"""The request extension that names an HTTP/1.1 request's lane, for the transport."""


class _Slots:
    """A host's slots, numbered (a number is a lane: see :class:`HostSlots`), whose count can
    grow, with a queue for urgent takers that goes first."""

    def __init__(self, size: int) -> None:
        self._free: deque[int] = deque(range(size))
        self._size = size
        self._urgent: deque[asyncio.Future[int]] = deque()
        self._waiting: deque[asyncio.Future[int]] = deque()

    async def take(self, *, urgent: bool) -> int:
        if self._free and not self._urgent and not self._waiting:
            return self._free.popleft()
        turn: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._waiting
        queue.append(turn)
        try:
            return await turn  # handed over by give_back
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give_back(turn.result())  # handed over as the wait was cancelled
            else:
                with contextlib.suppress(ValueError):  # unless handed over and skipped already
                    queue.remove(turn)
            raise

    def give_back(self, lane: int) -> None:
        if lane < self._size:
            self._free.append(lane)
        self._hand_over()

    def resize(self, size: int) -> None:
        if size >= self._size:
            self._free.extend(range(self._size, size))
        else:
            # Slots in use are taken back as they are given back (see give_back).
            self._free = deque(lane for lane in self._free if lane < size)
        self._size = size
        self._hand_over()

    def _hand_over(self) -> None:
        while self._free and (self._urgent or self._waiting):
            turn = (self._urgent or self._waiting).popleft()
            if not turn.done():
                turn.set_result(self._free.popleft())


class HostSlots:
    """The slots of every host of one fetch.

    A host known to speak HTTP/1.1 (plain HTTP, ``http2: false``, or its first answer) has its
    requests sent on lanes: the slot's number names a pool of one connection, so each request
    has a connection of its own and httpcore's pool never holds more than one (in one pool of
    16 it spent half the client's CPU looking them over). An HTTP/2 host, or one whose
    protocol is not known yet, shares one pool, where its requests become streams of one
    connection.
    """

    def __init__(
        self, *, http2: bool = True, http1: int = HTTP1_SLOTS, http2_slots: int = HTTP2_SLOTS
    ) -> None:
        """Give each host ``http1`` slots, and ``http2_slots`` once it answers over HTTP/2;
        ``http2`` False when HTTP/2 is never offered."""
        self._offer_http2 = http2
        self._http1 = http1
        self._http2 = http2_slots
        self._slots: dict[Origin | None, _Slots] = {}
        self._protocols: dict[Origin | None, bytes] = {}
        self._streams_allowed: dict[Origin | None, int] = {}

    @asynccontextmanager
    async def held(self, url: str, *, urgent: bool = False) -> AsyncIterator[int | None]:
        """Hold a slot of ``url``'s host while the block runs; ``urgent`` for a request that
        continues a call under way. Gives the lane to send on, or None for the shared pool."""
        origin = origin_of(url)
        slots = self._slots.get(origin)
        if slots is None:
            slots = self._slots[origin] = _Slots(self._http1)
        lane = await slots.take(urgent=urgent)
        try:
            yield lane if self._speaks_http1(origin) else None
        finally:
            slots.give_back(lane)

    def _speaks_http1(self, origin: Origin | None) -> bool:
        known = self._protocols.get(origin)
        if known is not None:
            return known != b"HTTP/2"
        return not self._offer_http2 or origin is None or origin[0] != "https"

    def learn(self, url: str, http_version: bytes) -> None:
        """Note the protocol of an answer from ``url``'s host: HTTP/2 opens its other slots."""
        origin = origin_of(url)
        if origin in self._protocols:
            return
        self._protocols[origin] = http_version
        self._resize(origin)

    def tracer(self, url: str) -> Callable[[str, dict[str, Any]], Awaitable[None]] | None:
        """A trace for a request to ``url`` (httpcore's ``trace`` extension) that reads the
        host's HTTP/2 settings, while its protocol is not known; None once it is (so the
        requests after the first few pay nothing for it)."""
        origin = origin_of(url)
        if origin in self._protocols or self._speaks_http1(origin):
            return None

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event == "http2.receive_remote_settings.complete":
                changed = getattr(info.get("return_value"), "changed_settings", {})
                setting = changed.get(_MAX_CONCURRENT_STREAMS)
                if setting is not None and setting.new_value > 0:
                    self._streams_allowed[origin] = setting.new_value
                    self._resize(origin)

        return trace

    def _resize(self, origin: Origin | None) -> None:
        if self._protocols.get(origin) == b"HTTP/2" and origin in self._slots:
            allowed = self._streams_allowed.get(origin, self._http2)
            self._slots[origin].resize(min(self._http2, allowed))
