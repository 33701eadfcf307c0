"""One request, sent again while its failure may pass, within its deadline and the fetch's.

Every request of a build goes through :class:`Exchange`: it counts requests and retries, backs
off exponentially with jitter (or as ``Retry-After``/``X-Retry-After`` ask, at most 30 s),
gives each request ``timeout`` from connecting to its last byte and stops everything at
``fetch_timeout``, and turns what httpx raises into a :class:`RegistryError` that says
whether the cached table may stand in.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.answers import (
    RETRY_STATUSES,
    describe_transport_error,
    netloc,
    retry_after_seconds,
    unix_time_seconds_from_now,
)
from mkdocs_taghistory.registry.body import drain, read_body
from mkdocs_taghistory.registry.tls import describe_tls_failure
from mkdocs_taghistory.registry.tls_settings import TlsSetupError

if TYPE_CHECKING:
    from mkdocs_taghistory.registry.client_settings import ClientSettings

logger = logging.getLogger(__name__)

# Never wait longer than this between two attempts, whatever Retry-After says: a docs build
# should fail and fall back to its cache rather than hang.
_MAX_RETRY_WAIT_SECONDS = 30.0
_TLS_HINT = "see the plugin's 'tls' option for a private CA or a client certificate"


class Exchange:
    """Sends requests through one httpx client, retrying failures that may pass."""

    def __init__(self, client: httpx.Client, settings: ClientSettings) -> None:
        """Send through ``client`` by ``settings`` (retries, backoff, timeouts)."""
        self._client = client
        self.settings = settings
        self._lock = threading.Lock()
        self.requests_sent = 0
        """How many HTTP requests were sent, token requests and retries included."""
        self.retries = 0
        """How many requests were sent again after a failure that may pass."""
        self._fetch_deadline = float("inf")

    def start_fetch(self) -> None:
        """Start the clock of ``fetch_timeout`` for the requests from now on."""
        self._fetch_deadline = time.monotonic() + self.settings.fetch_timeout

    def overdue(self, reference: ImageReference) -> RegistryError | None:
        """The error of a request that may no longer start: the fetch ran out of time."""
        if time.monotonic() < self._fetch_deadline:
            return None
        return RegistryError(
            f"{reference.host} had not answered when the fetch reached its limit "
            f"(fetch_timeout: {self.settings.fetch_timeout:g} s)",
            transient=True,
        )

    def send(
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
    ) -> tuple[httpx.Response, bytes]:
        """Send one request, retrying failures that may pass; return the response and body.

        Raises:
            RegistryError: when retries are spent, the fetch's time is up, or the failure is
                one that no retry mends (an untrusted certificate, an unusable answer).
        """
        request_headers = dict(headers or {})
        if authorization is not None:
            request_headers["Authorization"] = authorization
        attempt = 0
        while True:
            overdue = self.overdue(reference)
            if overdue is not None:
                raise overdue
            # The whole request, connection to last byte, within `timeout`, and within what
            # is left of the fetch; httpx's own timeouts bound each single wait.
            deadline = min(time.monotonic() + self.settings.timeout, self._fetch_deadline)
            waits = httpx.Timeout(max(0.001, deadline - time.monotonic()))
            with self._lock:
                self.requests_sent += 1
            try:
                with self._client.stream(
                    method,
                    url,
                    headers=request_headers,
                    content=content,
                    data=dict(form) if form is not None else None,
                    timeout=waits,
                ) as response:
                    last = attempt >= self.settings.retries
                    if response.status_code not in RETRY_STATUSES or last:
                        return response, read_body(response, max_bytes, deadline)
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    if wait is None:
                        wait = unix_time_seconds_from_now(response.headers.get("X-Retry-After"))
                    failure = f"HTTP {response.status_code}"
                    drain(response)  # so the retry can reuse the connection
            except httpx.TransportError as error:
                wait, failure = None, self._connection_failure(reference, url, error)
                self._give_up_after_last(reference, url, attempt, failure)
            except (KeyError, RuntimeError) as error:
                if not self.settings.http2:
                    raise
                # httpcore's sync HTTP/2 connection is not thread-safe: under the thread pool
                # its stream bookkeeping races (a KeyError for a stream id, "deque mutated
                # during iteration"). The request is lost as on a dropped connection, and is
                # retried the same way. (HTTP/2 is off by default for this reason.)
                wait, failure = None, f"HTTP/2 connection broke ({type(error).__name__})"
                self._give_up_after_last(reference, url, attempt, failure)
            except TlsSetupError as error:
                raise RegistryError(f"TLS for {netloc(url)}: {error}") from None
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                # A broken answer (a body that does not decode) or address: trying again
                # would get the same.
                raise RegistryError(
                    f"unusable answer from {netloc(url)}: {error or type(error).__name__}",
                ) from None
            attempt += 1
            with self._lock:
                self.retries += 1
            delay = self._backoff(attempt, wait)
            host = httpx.URL(url).host
            logger.debug(
                "%s: %s from %s; retry %d in %.2f s", reference.name, failure, host, attempt, delay
            )
            # Never past the fetch's end: the next round then stops with the overdue error.
            time.sleep(max(0.0, min(delay, self._fetch_deadline - time.monotonic())))

    @staticmethod
    def _connection_failure(
        reference: ImageReference, url: str, error: httpx.TransportError
    ) -> str:
        """What went wrong; raises at once for a TLS failure that no retry mends."""
        tls_failure = describe_tls_failure(error, connecting=isinstance(error, httpx.ConnectError))
        if tls_failure is not None:
            # Never retried, never served from the cache: a certificate that changed may be
            # an attack.
            raise RegistryError(
                f"cannot reach {netloc(url)}: {tls_failure}; {_TLS_HINT}",
            ) from None
        return describe_transport_error(error)

    def _give_up_after_last(
        self, reference: ImageReference, url: str, attempt: int, failure: str
    ) -> None:
        """Raise the transient error of a connection-level failure once retries are spent."""
        if attempt >= self.settings.retries:
            raise RegistryError(f"cannot reach {netloc(url)}: {failure}", transient=True) from None

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_RETRY_WAIT_SECONDS)
        # Exponential, with jitter so that many requests failing together do not retry together.
        ceiling: float = self.settings.backoff * 2.0 ** (attempt - 1)
        return min(_MAX_RETRY_WAIT_SECONDS, ceiling * random.uniform(0.5, 1.0))
