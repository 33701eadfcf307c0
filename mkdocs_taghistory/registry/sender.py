"""One request, sent again while its failure may pass, within its deadline and the fetch's.

Every request of a build goes through :class:`Sender`: it counts requests and retries, holds
a slot of its host while it runs (:mod:`.host_slots`), backs off exponentially with jitter (or
as ``Retry-After``/``X-Retry-After`` ask, at most 30 s), gives each request ``timeout`` from
connecting to its last byte and stops everything at ``fetch_timeout``, and turns what httpx
raises into a :class:`RegistryError` that says whether the cached table may stand in.

Deadlines are asyncio's (``asyncio.timeout_at``), not httpx's: a deadline cancels the one
request, which on HTTP/2 closes only its stream. httpx's read timeout would instead end the
whole connection, every other stream on it too, and it restarts at each byte, so a server that
trickles a byte a second never trips it.

Requests go to the httpx transport directly, not through ``httpx.AsyncClient``: the client's
layers (cookies, auth flows, redirects, event hooks) are all things done here, or not wanted
(a cookie jar would carry a registry's session cookie to every other host), and they cost
about a sixth of the client's CPU a request.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import h2.exceptions
import httpx

from mkdocs_taghistory import __version__
from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.bodies import ACCEPT_ENCODING, drain, read_body
from mkdocs_taghistory.registry.counters import FetchCounters
from mkdocs_taghistory.registry.host_slots import LANE, HostSlots
from mkdocs_taghistory.registry.origins import Origin, origin_of, refuse_plain_credentials
from mkdocs_taghistory.registry.responses import (
    RETRY_STATUSES,
    backoff_seconds,
    describe_transport_error,
    netloc,
    retry_after_seconds,
    unix_time_seconds_from_now,
)
from mkdocs_taghistory.registry.tls import (
    TlsContexts,
    describe_tls_failure,
    refused_client_certificate,
)
from mkdocs_taghistory.registry.tls_files import TlsSetupError

if TYPE_CHECKING:
    from mkdocs_taghistory.settings import ClientSettings

logger = logging.getLogger(__name__)

_TLS_HINT = "see the plugin's 'tls' option for a private CA or a client certificate"
# Who asks, and which release: what a registry's operator needs to tell a faulty client apart.
USER_AGENT = f"mkdocs-taghistory/{__version__}"
# What a broken connection raises. Besides httpx's own errors, some leave httpcore unwrapped:
# an SSLError met while reading (anyio's TLS stream lets it out), and anyio's end of stream met
# while writing to a connection the server dropped (httpcore maps it on reads only).
_CONNECTION_ERRORS = (
    httpx.TransportError,
    ssl.SSLError,
    anyio.EndOfStream,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    # A frame h2 refuses while a body is read (httpcore maps it only while headers are due).
    h2.exceptions.ProtocolError,
)


class Sender:
    """Sends requests through one httpx client, retrying failures that may pass."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        settings: ClientSettings,
        counters: FetchCounters | None = None,
        *,
        tls: TlsContexts | None = None,
        proxied: Callable[[str], bool] | None = None,
    ) -> None:
        """Send through ``transport`` by ``settings`` (retries, backoff, timeouts).

        Args:
            transport: the httpx transport every request goes through.
            settings: retries, backoff, timeouts.
            counters: where requests, retries and connections are counted.
            tls: the TLS contexts of the hosts, to tell a refused client certificate from a
                dropped connection (None: no such probe).
            proxied: whether a request goes through a proxy (a probe, which connects
                directly, would meet another server then, and is not made).
        """
        self._transport = transport
        self._headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
        self.settings = settings
        self.counters = counters or FetchCounters()
        self._slots = HostSlots(http2=settings.http2)
        self._tls = tls
        self._proxied = proxied
        # Hosts that answered in this fetch, and the probe of each that never did (one a host,
        # shared by every failure that asks).
        self._answered: set[Origin | None] = set()
        self._refusals: dict[Origin | None, asyncio.Task[str | None]] = {}
        self._fetch_deadline = float("inf")
        # The connections seen so far (their network streams), to count them.
        self._streams: set[object] = set()

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests were sent, token requests and retries included."""
        return self.counters.requests

    def start_fetch(self) -> None:
        """Start the clock of ``fetch_timeout`` for the requests from now on."""
        self._fetch_deadline = _now() + self.settings.fetch_timeout

    def overdue(self, reference: ImageReference) -> RegistryError | None:
        """The error of a request that may no longer start: the fetch ran out of time."""
        if _now() < self._fetch_deadline:
            return None
        return RegistryError(
            f"{reference.host} had not answered when the fetch reached its limit "
            f"(fetch_timeout: {self.settings.fetch_timeout:g} s)",
            transient=True,
        )

    async def send(
        self,
        reference: ImageReference,
        method: str,
        url: str,
        *,
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
        authorization: str | None = None,
        content: bytes | None = None,
        form: Mapping[str, str] | None = None,
        urgent: bool = False,
        credentialed: bool,
    ) -> tuple[httpx.Response, bytes]:
        """Send one request, retrying failures that may pass; return the response and body.

        ``urgent`` for a request that continues a call under way (a retry with a new token,
        a token request, a redirect's next hop): it takes its host's next free slot before the
        requests that start new calls.

        ``credentialed``: it carries credentials, or a token got with them, which never cross
        the network in the clear (:func:`.origins.refuse_plain_credentials`).

        Raises:
            RegistryError: when retries are spent, the fetch's time is up, or the failure is
                one that no retry mends (an untrusted certificate, an unusable answer).
        """
        request_headers = dict(headers or {})
        if authorization is not None:
            request_headers["Authorization"] = authorization
        if credentialed:
            refuse_plain_credentials(url, self.settings.credentials_over_plain_http)
        attempt = 0
        while True:
            overdue = self.overdue(reference)
            if overdue is not None:
                raise overdue
            last = attempt >= self.settings.retries
            answer = _Attempt()
            broken: Exception | None = None
            async with self._slots.held(url, urgent=urgent) as lane:
                # The clock starts once the host has a slot: waiting for one is not slowness.
                deadline = min(_now() + self.settings.timeout, self._fetch_deadline)
                self.counters.requests += 1
                limit = asyncio.timeout_at(deadline)
                try:
                    async with limit:
                        await self._attempt(
                            answer,
                            method,
                            url,
                            headers=request_headers,
                            content=content,
                            form=form,
                            max_bytes=max_bytes,
                            last=last,
                            lane=lane,
                        )
                except TimeoutError:
                    if not limit.expired():
                        raise  # not our deadline: a TimeoutError from elsewhere is a bug
                    answer.failure = self._timed_out(reference, url, answer)
                except _CONNECTION_ERRORS as error:
                    broken = error
                except TlsSetupError as error:
                    raise RegistryError(f"TLS for {netloc(url)}: {error}") from None
                except (httpx.HTTPError, httpx.InvalidURL) as error:
                    # A broken answer (a body that does not decode) or address: trying again
                    # would get the same.
                    raise RegistryError(
                        f"unusable answer from {netloc(url)}: {error or type(error).__name__}",
                        transient=True,
                    ) from None
            if answer.done is not None:
                return answer.done
            wait, failure = answer.wait, answer.failure
            if broken is not None:
                # Told apart with the slot given back: a probe may take a while.
                failure = await self._connection_failure(url, broken)
            if broken is not None or not answer.answered:  # no answer: a connection's failure
                self._give_up_after_last(reference, url, attempt, failure)
            attempt += 1
            self.counters.retries += 1
            delay = backoff_seconds(attempt, self.settings.backoff, wait)
            logger.debug(
                "%s: %s from %s; retry %d in %.2f s",
                reference.name,
                failure,
                netloc(url),
                attempt,
                delay,
            )
            # Never past the fetch's end: the next round then stops with the overdue error.
            await asyncio.sleep(max(0.0, min(delay, self._fetch_deadline - _now())))

    async def _attempt(
        self,
        attempt: _Attempt,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        content: bytes | None,
        form: Mapping[str, str] | None,
        max_bytes: int,
        last: bool,
        lane: int | None,
    ) -> None:
        """One try, told in ``attempt``: the answer and its body, or what to wait before the
        next try."""
        extensions: dict[str, Any] = {LANE: lane} if lane is not None else {}
        trace = self._slots.tracer(url)
        if trace is not None:
            extensions["trace"] = trace
        request = httpx.Request(
            method,
            url,
            headers={**self._headers, **headers},
            content=content,
            data=dict(form) if form is not None else None,
            extensions=extensions,
        )
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            attempt.answered = True
            self._note_answer(url, response)
            if response.status_code not in RETRY_STATUSES or last:
                attempt.done = (response, await read_body(response, max_bytes))
                return
            attempt.wait = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt.wait is None:
                attempt.wait = unix_time_seconds_from_now(response.headers.get("X-Retry-After"))
            attempt.failure = f"HTTP {response.status_code}"
            await drain(response)  # so the retry can reuse the connection
        finally:
            await response.aclose()

    def _note_answer(self, url: str, response: httpx.Response) -> None:
        self._answered.add(origin_of(url))
        version = response.extensions.get("http_version", b"")
        self._slots.learn(url, version)
        self.counters.http_versions[version.decode("ascii", "replace")] += 1
        stream = response.extensions.get("network_stream")
        if stream is not None and stream not in self._streams:
            self._streams.add(stream)
            self.counters.connections += 1

    def _timed_out(self, reference: ImageReference, url: str, answer: _Attempt) -> str:
        """What a request that ran out of time means; raises when no retry may mend it."""
        overdue = self.overdue(reference)
        if overdue is not None:
            raise overdue from None
        if answer.answered:
            # Headers came, the body did not: a server that trickles or stalls mid-answer
            # would do it again.
            raise RegistryError(
                f"{netloc(url)} did not finish its answer in time (too slow, or stalled)",
                transient=True,
            ) from None
        return f"timed out (no answer within {self.settings.timeout:g} s)"

    async def _connection_failure(self, url: str, error: Exception) -> str:
        """What went wrong; raises at once for a TLS failure that no retry mends."""
        tls_failure = describe_tls_failure(error, connecting=isinstance(error, httpx.ConnectError))
        if tls_failure is None and isinstance(error, httpx.ReadError | httpx.WriteError):
            tls_failure = await self._refusal(url)
        if tls_failure is not None:
            # Never retried, never served from the cache: a certificate that changed may be
            # an attack.
            raise RegistryError(
                f"cannot reach {netloc(url)}: {tls_failure}; {_TLS_HINT}",
            ) from None
        if isinstance(error, ssl.SSLError):
            return f"TLS: {error.reason or error}".replace("_", " ").lower()
        if not isinstance(error, httpx.TransportError):
            return f"the connection broke ({type(error).__name__})"
        return describe_transport_error(error)

    async def _refusal(self, url: str) -> str | None:
        """Why an HTTPS host that never answered in this fetch refuses our client certificate,
        if it does: probed once per host (see :func:`.tls.refused_client_certificate`)."""
        origin = origin_of(url)
        if self._tls is None or origin is None or origin[0] != "https" or origin in self._answered:
            return None
        if self._proxied is not None and self._proxied(url):
            return None
        if origin not in self._refusals:
            _, context = self._tls.context_for(netloc(url))
            self._refusals[origin] = asyncio.ensure_future(
                refused_client_certificate(origin[1], origin[2] or 443, context)
            )
        return await asyncio.shield(self._refusals[origin])

    def _give_up_after_last(
        self, reference: ImageReference, url: str, attempt: int, failure: str
    ) -> None:
        """Raise the transient error of a connection-level failure once retries are spent."""
        if attempt >= self.settings.retries:
            raise RegistryError(f"cannot reach {netloc(url)}: {failure}", transient=True) from None


@dataclass
class _Attempt:
    """How one try went: ``done`` when it gave the answer; else why and how long to wait."""

    done: tuple[httpx.Response, bytes] | None = None
    answered: bool = False
    wait: float | None = None
    failure: str = ""


def _now() -> float:
    """The event loop's clock, which ``asyncio.timeout_at`` deadlines are on."""
    return asyncio.get_running_loop().time()
