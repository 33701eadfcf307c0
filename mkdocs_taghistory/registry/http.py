"""One HTTP session for every registry of a build: pooling, authentication, retries, caps.

Everything that goes over the wire passes through :class:`RegistryHttp`, so the rules hold for
all vendors alike: one connection pool, bounded answers, retries with backoff for failures that
may pass, and credentials sent only to the registry's own host and the token realm it names.

HTTP/1.1 is spoken unless the ``http2`` option asks for HTTP/2. Measured against Debian's
``docker-registry`` over TLS at 20, 50 and 100 ms (``bench/RESULTS.md``), httpx's sync HTTP/2
connection under the thread pool lost up to 44 of a cold fetch's 441 requests ("Server
disconnected", and races inside httpcore) and took 1.8x as long as 16 HTTP/1.1 keep-alive
connections, which needed no retry.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.auth import BearerChallenge, TokenStore, parse_bearer_challenge
from mkdocs_taghistory.registry.body import ACCEPT_ENCODING, drain, read_body
from mkdocs_taghistory.registry.credentials import Credentials, CredentialSource
from mkdocs_taghistory.registry.tls import (
    TlsContexts,
    TlsSettings,
    TlsSetupError,
    describe_tls_failure,
)
from mkdocs_taghistory.registry.transport import RoutingTransport

logger = logging.getLogger(__name__)

# Statuses that say "try again later" rather than "no".
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A captive portal's "log in first" (RFC 6585): no use retrying, but no verdict on the image.
_NETWORK_AUTHENTICATION_REQUIRED = 511
# Never wait longer than this between two attempts, whatever Retry-After says: a docs build
# should fail and fall back to its cache rather than hang.
_MAX_RETRY_WAIT_SECONDS = 30.0
_TOKEN_LIFETIME_DEFAULT_SECONDS = 60
_MAX_TOKEN_BYTES = 1024 * 1024
_ASCII_DIGITS = re.compile(r"[0-9]+")
# A request answered 401 asks for a token and tries again; while other threads renew tokens
# that die under it, it may need a few rounds, never more than these.
_MAX_AUTH_ROUNDS = 5
# Redirects followed for one registry call, as Go's HTTP client (and so docker and crane) allows.
_MAX_REDIRECTS = 10
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The repository a distribution API path is about, for the scope of an anonymous token.
_REPOSITORY_IN_PATH = re.compile(r"^/v2/(.+?)/(?:tags|manifests|blobs)/")
_TLS_HINT = "see the plugin's 'tls' option for a private CA or a client certificate"


def same_origin(url: str, base: str) -> bool:
    """True when ``url`` has the scheme, host and port of ``base``."""
    try:
        first, second = httpx.URL(url), httpx.URL(base)
    except httpx.InvalidURL:
        return False
    return (first.scheme, first.host, first.port) == (second.scheme, second.host, second.port)


class VendorUnavailable(Exception):  # noqa: N818 (a signal, not an error a user sees)
    """A vendor API cannot serve this image (no token, no such API): use the OCI path."""


@dataclass(frozen=True)
class VendorSetting:
    """How the tags of one registry host are read.

    Attributes:
        type: ``chainguard``, ``dockerhub``, ``quay``, ``ghcr`` or ``oci``.
        url: where the vendor's API answers, for tests, mirrors and self-hosted installs;
            None for the vendor's public address.
    """

    type: str
    url: str | None = None


@dataclass(frozen=True)
class ClientSettings:
    """How registries are reached.

    Attributes:
        concurrency: the most requests in flight at once, across all images.
        timeout: seconds one request may take, from connecting to the last byte of its
            answer.
        insecure_registries: hosts (``host[:port]``) spoken to over plain HTTP; loopback hosts
            always are.
        retries: further attempts after a failure that may pass (connection errors, timeouts,
            HTTP 429 and 5xx).
        backoff: seconds before the first retry; each later one waits about twice as long.
        credentials: where credentials come from; None for anonymous access only.
        vendors: per registry host, the API that gives its tags and times.
        fetch_timeout: seconds one fetch of a build's images may take in all; what is not
            done by then fails as a registry that cannot be reached does.
        http2: offer HTTP/2 to registries that speak TLS (off: see the module's docstring).
        tls: trusted roots and client certificates per host.
    """

    concurrency: int = 16
    timeout: float = 10.0
    insecure_registries: frozenset[str] = field(default_factory=frozenset)
    retries: int = 3
    backoff: float = 0.5
    credentials: CredentialSource | None = None
    vendors: Mapping[str, VendorSetting] = field(default_factory=dict)
    http2: bool = False
    tls: TlsSettings = field(default_factory=TlsSettings)
    fetch_timeout: float = 600.0


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds that a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if _ASCII_DIGITS.fullmatch(value):  # str.isdigit() also takes "²", which float() refuses
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


def unix_time_seconds_from_now(value: str | None, now: float | None = None) -> float | None:
    """Seconds until the Unix time in ``X-Retry-After`` (Docker Hub's rate limit header)."""
    if not value or not _ASCII_DIGITS.fullmatch(value.strip()):
        return None
    return max(0.0, float(value.strip()) - (time.time() if now is None else now))


class RegistryHttp:
    """The shared HTTP session: one httpx client, tokens, credentials and retries."""

    def __init__(
        self, settings: ClientSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        """Open the connection pool, sized by ``settings.concurrency``."""
        self.settings = settings
        self._tls = TlsContexts(settings.tls)
        limits = httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        )
        self._router = (
            RoutingTransport(self._tls, http2=settings.http2, limits=limits)
            if transport is None
            else None
        )
        self._client = httpx.Client(
            timeout=settings.timeout,
            transport=transport or self._router,
            headers={"User-Agent": "mkdocs-taghistory", "Accept-Encoding": ACCEPT_ENCODING},
        )
        self._tokens = TokenStore()
        # Hosts that asked for Basic authentication: later requests send it at once.
        self._basic_hosts: set[str] = set()
        # Per image, the other hosts its registry redirected API calls to in this build.
        self._redirect_origins: dict[str, set[str]] = {}
        self._requests_sent = 0
        self._retries = 0
        self._fetch_deadline = float("inf")
        self._lock = threading.Lock()

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests were sent, token requests and retries included."""
        return self._requests_sent

    @property
    def retries(self) -> int:
        """How many requests were sent again after a failure that may pass."""
        return self._retries

    @property
    def connections_opened(self) -> int:
        """How many connections were opened (0 with a transport given from outside)."""
        return self._router.connections_opened if self._router is not None else 0

    @property
    def http_versions(self) -> Mapping[str, int]:
        """Answers per HTTP version (empty with a transport given from outside)."""
        return self._router.http_versions if self._router is not None else {}

    def start_fetch(self) -> None:
        """Start the clock of ``fetch_timeout`` for the requests from now on."""
        self._fetch_deadline = time.monotonic() + self.settings.fetch_timeout

    def fetch_overdue(self, reference: ImageReference) -> RegistryError | None:
        """The error of a request that may no longer start: the fetch ran out of time."""
        if time.monotonic() < self._fetch_deadline:
            return None
        return RegistryError(
            reference.name,
            f"{reference.host} had not answered when the fetch reached its limit "
            f"(fetch_timeout: {self.settings.fetch_timeout:g} s)",
            transient=True,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def is_plain_http(self, reference: ImageReference) -> bool:
        """True for registries spoken to over HTTP: loopback and ``insecure_registries``.

        A host with TLS material of its own (a ``tls`` entry, a ``certs.d`` folder) speaks
        HTTPS even on loopback.
        """
        plain = reference.is_loopback or reference.host in self.settings.insecure_registries
        return plain and not self._tls.has_own_tls(reference.host)

    def base_url(self, reference: ImageReference) -> str:
        """The API root of ``reference``'s repository, over HTTP or HTTPS as configured."""
        scheme = "http" if self.is_plain_http(reference) else "https"
        return f"{scheme}://{reference.api_host}/v2/{reference.repository}"

    def credentials_for(self, host: str) -> Credentials | None:
        """The credentials known for a registry host, if any."""
        source = self.settings.credentials
        return source.for_host(host) if source is not None else None

    # --- registry requests -----------------------------------------------------------

    def registry(
        self,
        reference: ImageReference,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
        origin: str | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """A request to ``reference``'s registry, authenticating as it asks.

        Only URLs on ``origin`` (the registry's own address unless given) carry the registry's
        token or credentials. Answers a Bearer challenge with a token (sent with the host's
        credentials, if any) and a Basic challenge with the host's credentials; the token is
        shared by every request to the same repository.

        Redirects of ``GET`` and ``HEAD`` are followed, to other hosts too, as
        go-containerregistry follows them: registry.k8s.io sends its API calls to Artifact
        Registry, many registries send blobs to object storage. Another host never sees this
        registry's credentials or token; if it asks for a token, one is fetched anonymously.
        """
        if origin is None:
            origin = self.base_url(reference)
        if not same_origin(url, origin) and not self._was_redirected_to(reference, url):
            # A registry's next-page link to another host: following it would hand that host
            # our token or credentials.
            where = (
                f"plain HTTP ({_netloc(url)})"
                if url.lower().startswith("http://") and origin.startswith("https://")
                else f"another host ({_netloc(url)})"
            )
            raise RegistryError(
                reference.name, f"{reference.host} pointed at {where}; not followed",
                transient=False,
            )  # fmt: skip
        for _ in range(_MAX_REDIRECTS + 1):
            if same_origin(url, origin):
                response, body = self._authenticated(
                    reference, method, url, headers=headers, max_bytes=max_bytes
                )
            else:
                response, body = self._anonymous(
                    reference, method, url, headers=headers, max_bytes=max_bytes
                )
            location = response.headers.get("Location")
            if (
                response.status_code not in _REDIRECT_STATUSES
                or not location
                or method not in {"GET", "HEAD"}
            ):
                return response, body
            url = self._redirect_target(reference, str(response.url), location)
        raise RegistryError(
            reference.name,
            f"{reference.host} redirected more than {_MAX_REDIRECTS} times (a redirect loop?)",
            transient=False,
        )

    def _authenticated(
        self,
        reference: ImageReference,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        max_bytes: int,
    ) -> tuple[httpx.Response, bytes]:
        """One call on the registry's own origin, with its token or credentials."""
        token_key = f"{reference.api_host}/{reference.repository}"
        credentials = self.credentials_for(reference.host)
        fetched_here: list[str] = []

        def fetch_token(challenge: BearerChallenge) -> tuple[str, float]:
            token, lifetime = self._fetch_token(
                reference, challenge, credentials, f"repository:{reference.repository}:pull",
                over_tls=not self.is_plain_http(reference),
            )  # fmt: skip
            fetched_here.append(token)
            return token, lifetime

        token = self._tokens.token(token_key, fetch_token)
        authorization = self._authorization(reference, token, credentials)
        for _ in range(_MAX_AUTH_ROUNDS):
            response, body = self._exchange(
                reference, method, url, headers=headers, authorization=authorization,
                max_bytes=max_bytes,
            )  # fmt: skip
            if response.status_code != 401:
                return response, body
            if token is not None and token in fetched_here:
                break  # a token fetched for this very request is refused: no use asking again
            challenge_header = response.headers.get("WWW-Authenticate", "")
            challenge = parse_bearer_challenge(challenge_header)
            if challenge is not None:
                # Another thread may have renewed the token already; a token that died in
                # the meantime is met by the next round.
                token = self._tokens.renew(token_key, token, challenge, fetch_token)
                authorization = f"Bearer {token}"
            elif not challenge_header.strip():
                break  # a bare 401: refused, whatever we send
            elif challenge_header.lower().startswith("basic"):
                if credentials is None or authorization is not None:
                    break
                with self._lock:
                    self._basic_hosts.add(reference.api_host)
                authorization = credentials.basic_authorization()
            else:
                raise RegistryError(
                    reference.name,
                    f"{reference.host} asks for an authentication scheme this plugin does not "
                    "speak",
                    transient=False,
                )
        raise self._refused(reference)

    def _anonymous(
        self,
        reference: ImageReference,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        max_bytes: int,
    ) -> tuple[httpx.Response, bytes]:
        """One call on a host the registry redirected to: no credentials, an anonymous token
        if that host asks for one."""
        target = httpx.URL(url)
        repository = _REPOSITORY_IN_PATH.match(target.path)
        default_scope = f"repository:{repository.group(1)}:pull" if repository else ""
        token_key = f"{target.scheme}://{target.netloc.decode()} {default_scope}"
        fetched_here: list[str] = []

        def fetch_token(challenge: BearerChallenge) -> tuple[str, float]:
            token, lifetime = self._fetch_token(
                reference, challenge, None, default_scope, over_tls=target.scheme == "https"
            )
            fetched_here.append(token)
            return token, lifetime

        token = self._tokens.token(token_key, fetch_token)
        for _ in range(_MAX_AUTH_ROUNDS):
            response, body = self._exchange(
                reference, method, url, headers=headers, max_bytes=max_bytes,
                authorization=f"Bearer {token}" if token else None,
            )  # fmt: skip
            challenge = parse_bearer_challenge(response.headers.get("WWW-Authenticate", ""))
            if response.status_code != 401 or challenge is None or token in fetched_here:
                return response, body
            token = self._tokens.renew(token_key, token, challenge, fetch_token)
        return response, body

    def _redirect_target(self, reference: ImageReference, current: str, location: str) -> str:
        """The absolute address a redirect points at, once checked."""
        try:
            target = httpx.URL(urljoin(current, location))
        except (ValueError, httpx.InvalidURL):
            target = None
        if target is None or target.scheme not in {"http", "https"} or not target.host:
            raise RegistryError(
                reference.name, f"{_netloc(current)} redirected to an unusable address",
                transient=False,
            )  # fmt: skip
        if current.startswith("https://") and target.scheme == "http":
            # Nothing secret is sent there, but an answer over plain HTTP could be changed on
            # the way, and HEAD digests are not checked against content.
            raise RegistryError(
                reference.name,
                f"{_netloc(current)} redirected from HTTPS to plain HTTP "
                f"({target.netloc.decode()}); not followed",
                transient=False,
            )
        with self._lock:
            self._redirect_origins.setdefault(reference.name, set()).add(
                f"{target.scheme}://{target.netloc.decode()}"
            )
        return str(target)

    def _was_redirected_to(self, reference: ImageReference, url: str) -> bool:
        """True when ``reference``'s registry redirected to ``url``'s origin in this build.

        A next-page link of a redirected tag list points there, and is followed anonymously.
        """
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return False
        with self._lock:
            origins = self._redirect_origins.get(reference.name, set())
            return f"{target.scheme}://{target.netloc.decode()}" in origins

    # --- vendor API requests ---------------------------------------------------------

    def api_json(
        self,
        reference: ImageReference,
        url: str,
        what: str,
        *,
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        json_body: Any = None,
        fallback_statuses: frozenset[int] = frozenset(),
    ) -> tuple[httpx.Response, Any]:
        """A request to a vendor API (Docker Hub, Quay, GitHub), with the headers given.

        No registry credentials are added here: a vendor that needs them passes its own
        ``Authorization`` header, for its own host.

        Raises:
            VendorUnavailable: on a status in ``fallback_statuses``, for which the generic
                OCI path should be tried instead.
            RegistryError: on any other status but 200, or an answer that is not JSON.
        """
        content = json.dumps(json_body).encode() if json_body is not None else None
        merged = dict(headers or {})
        if content is not None:
            merged["Content-Type"] = "application/json"
        response, body = self._exchange(
            reference, method, url, headers=merged, authorization=None, max_bytes=max_bytes,
            content=content,
        )  # fmt: skip
        if response.status_code in fallback_statuses:
            raise VendorUnavailable(f"HTTP {response.status_code} from {url}")
        if response.status_code != 200:
            raise status_error(reference, response, f"reading {what}")
        return response, parse_json(reference, body, what)

    # --- internals -------------------------------------------------------------------

    def _authorization(
        self, reference: ImageReference, token: str | None, credentials: Credentials | None
    ) -> str | None:
        if token is not None:
            return f"Bearer {token}"
        if reference.api_host in self._basic_hosts and credentials is not None:
            return str(credentials.basic_authorization())
        return None

    def _refused(self, reference: ImageReference) -> RegistryError:
        """The error for a registry that will not let us in, saying what would help."""
        if self.credentials_for(reference.host) is None:
            reason = (
                f"{reference.host} asks for credentials for {reference.name}: give them in the "
                "plugin's 'auth' option or log in with 'docker login'"
            )
        else:
            reason = f"authentication failed for {reference.name}"
        return RegistryError(reference.name, reason, transient=False)

    def _fetch_token(
        self,
        reference: ImageReference,
        challenge: BearerChallenge,
        credentials: Credentials | None,
        default_scope: str,
        *,
        over_tls: bool,
    ) -> tuple[str, float]:
        """A token for ``challenge``, asked with ``credentials`` (None: anonymously)."""
        params = {"scope": challenge.scope or default_scope}
        if not params["scope"]:
            del params["scope"]
        if challenge.service:
            params["service"] = challenge.service
        if challenge.realm.startswith("http://") and over_tls:
            # The registry is spoken to over HTTPS; its credentials, and the token, must not
            # cross the network in the clear to a token server it names.
            raise RegistryError(
                reference.name,
                f"{reference.host} names a token server over plain HTTP ({challenge.realm}); "
                "not used",
                transient=False,
            )
        if credentials is not None and credentials.is_identity_token:
            # Docker's identity token is an OAuth refresh token: it is traded, not sent as a
            # password (the distribution spec's OAuth2 token flow).
            response, body = self._exchange(
                reference, "POST", challenge.realm, headers=None, authorization=None,
                max_bytes=_MAX_TOKEN_BYTES,
                form={**params, "grant_type": "refresh_token", "client_id": "mkdocs-taghistory",
                      "refresh_token": credentials.password},
            )  # fmt: skip
        else:
            authorization = credentials.basic_authorization() if credentials else None
            url = str(httpx.URL(challenge.realm).copy_merge_params(params))
            response, body = self._exchange(
                reference, "GET", url, headers=None, authorization=authorization,
                max_bytes=_MAX_TOKEN_BYTES,
            )  # fmt: skip
        if response.status_code in {401, 403}:
            raise self._refused(reference)
        if response.status_code != 200:
            raise RegistryError(
                reference.name,
                f"the token server of {reference.host} answered HTTP {response.status_code}",
                transient=response.status_code in _RETRY_STATUSES,
            )
        document = parse_json(reference, body, "token")
        token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(reference.name, "the token server gave no token", transient=False)
        lifetime = document.get("expires_in")
        seconds = lifetime if isinstance(lifetime, int) and lifetime > 0 else None
        return token, float(seconds or _TOKEN_LIFETIME_DEFAULT_SECONDS)

    def _exchange(
        self,
        reference: ImageReference,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        authorization: str | None,
        max_bytes: int,
        content: bytes | None = None,
        form: Mapping[str, str] | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """Send one request, retrying failures that may pass; return the response and body."""
        request_headers = dict(headers or {})
        if authorization is not None:
            request_headers["Authorization"] = authorization
        attempt = 0
        while True:
            overdue = self.fetch_overdue(reference)
            if overdue is not None:
                raise overdue
            # The whole request, connection to last byte, within `timeout`, and within what
            # is left of the fetch; httpx's own timeouts bound each single wait.
            deadline = min(time.monotonic() + self.settings.timeout, self._fetch_deadline)
            waits = httpx.Timeout(max(0.001, deadline - time.monotonic()))
            with self._lock:
                self._requests_sent += 1
            try:
                with self._client.stream(
                    method, url, headers=request_headers, content=content,
                    data=dict(form) if form is not None else None, timeout=waits,
                ) as response:  # fmt: skip
                    if response.status_code not in _RETRY_STATUSES or attempt >= (
                        self.settings.retries
                    ):
                        return response, read_body(reference, response, max_bytes, deadline)
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    if wait is None:
                        wait = unix_time_seconds_from_now(response.headers.get("X-Retry-After"))
                    failure = f"HTTP {response.status_code}"
                    drain(response)  # so the retry can reuse the connection
            except httpx.TransportError as error:
                tls_failure = describe_tls_failure(error)
                if tls_failure is not None:
                    # Never retried, never served from the cache: a certificate that changed
                    # may be an attack.
                    raise RegistryError(
                        reference.name,
                        f"cannot reach {_netloc(url)}: {tls_failure}; {_TLS_HINT}",
                        transient=False,
                    ) from None
                wait, failure = None, describe_transport_error(error)
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
                raise RegistryError(
                    reference.name, f"TLS for {_netloc(url)}: {error}", transient=False
                ) from None
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                # A broken answer (a body that does not decode, a redirect loop) or address:
                # trying again would get the same.
                raise RegistryError(
                    reference.name,
                    f"unusable answer from {_netloc(url)}: {error or type(error).__name__}",
                    transient=False,
                ) from None
            attempt += 1
            with self._lock:
                self._retries += 1
            delay = self._backoff(attempt, wait)
            logger.debug("%s: %s from %s; retry %d in %.2f s", reference.name, failure,
                         httpx.URL(url).host, attempt, delay)  # fmt: skip
            # Never past the fetch's end: the next round then stops with the overdue error.
            time.sleep(max(0.0, min(delay, self._fetch_deadline - time.monotonic())))

    def _give_up_after_last(
        self, reference: ImageReference, url: str, attempt: int, failure: str
    ) -> None:
        """Raise the transient error of a connection-level failure once retries are spent."""
        if attempt >= self.settings.retries:
            raise RegistryError(
                reference.name, f"cannot reach {_netloc(url)}: {failure}", transient=True
            ) from None

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_RETRY_WAIT_SECONDS)
        # Exponential, with jitter so that many requests failing together do not retry together.
        ceiling: float = self.settings.backoff * 2.0 ** (attempt - 1)
        return min(_MAX_RETRY_WAIT_SECONDS, ceiling * random.uniform(0.5, 1.0))


def _netloc(url: str) -> str:
    try:
        return httpx.URL(url).netloc.decode()
    except httpx.InvalidURL:
        return url


def describe_transport_error(error: httpx.TransportError) -> str:
    """A short description of a connection-level failure."""
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({detail})"
    return detail


PORTAL_HINT = "a captive portal or a proxy answering in the registry's place?"


def parse_json(reference: ImageReference, body: bytes, what: str) -> Any:
    """Parse a JSON answer; a RegistryError naming ``what`` if it is not JSON.

    Transient: a registry that speaks JSON everywhere did not send this; what did is most
    likely a captive portal's login page, a proxy's error page or a cut connection, none of
    which is a reason to drop the cached table.
    """
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RegistryError(
            reference.name, f"the {what} is not valid JSON ({PORTAL_HINT})", transient=True
        ) from None


def status_error(reference: ImageReference, response: httpx.Response, doing: str) -> RegistryError:
    """The error for an answer other than 200, transient for 429 and 5xx."""
    status = response.status_code
    host = response.url.netloc.decode()
    if status == 404:
        reason = f"not found on {host} (HTTP 404 while {doing})"
    elif status == 403:
        reason = f"access denied by {host} (HTTP 403 while {doing})"
    elif status == 401:
        reason = f"authentication failed for {reference.name} (HTTP 401 while {doing})"
    elif status == _NETWORK_AUTHENTICATION_REQUIRED:
        reason = f"{host} answered HTTP 511 while {doing} ({PORTAL_HINT})"
    else:
        reason = f"{host} answered HTTP {status} while {doing}"
        if status == 400 and response.url.scheme == "http":
            # Go's servers, docker-registry among them, answer plain HTTP on a TLS port so.
            reason += f" (if it speaks HTTPS, give {host} an entry in the 'tls' option)"
    transient = status in _RETRY_STATUSES or status == _NETWORK_AUTHENTICATION_REQUIRED
    return RegistryError(reference.name, reason, transient=transient)
