"""The OCI distribution API: tag lists, manifest digests and creation times, over one pool.

Every request of a build goes through one ``httpx.Client`` and one thread pool whose size is the
``concurrency`` setting. The sync client on a thread pool was chosen over ``AsyncClient``:
``bench/async_vs_threads.py`` (360 HEADs on loopback, concurrency 16) measured async at about
3x the client CPU and 2x the wall time, and on a 2-core CI machine CPU is what bounds a build
once round trips overlap.

A fetch runs in stages across all images at once (tag lists, then one HEAD per tag, then the
manifests of digests not seen before), so no pool thread ever waits on another pool task.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagSnapshot, TagState, is_digest
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.auth import TokenStore, parse_bearer_challenge
from mkdocs_taghistory.timestamps import is_epoch_placeholder, parse_timestamp, utc_now

logger = logging.getLogger(__name__)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
CREATED_ANNOTATION = "org.opencontainers.image.created"

# A tag as the distribution spec allows it; anything else is dropped, never rendered.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
# Bounds on what one answer may hold, so a broken or hostile registry cannot exhaust memory.
_MAX_LIST_BYTES = 16 * 1024 * 1024
_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
_MAX_PAGES = 10_000

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ClientSettings:
    """How the client reaches registries.

    Attributes:
        concurrency: the most requests in flight at once, across all images.
        timeout: seconds to wait for a connection or a read.
        insecure_registries: hosts (``host[:port]``) spoken to over plain HTTP; loopback hosts
            always are.
    """

    concurrency: int = 16
    timeout: float = 10.0
    insecure_registries: frozenset[str] = field(default_factory=frozenset)


@dataclass
class _ImageFetch:
    """One image's progress through the stages, and its first error."""

    reference: ImageReference
    known_created: Mapping[str, datetime | None]
    tags: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    created: dict[str, datetime | None] = field(default_factory=dict)
    error: RegistryError | None = None


class RegistryClient:
    """Speaks the OCI distribution API to any registry, many images at once."""

    def __init__(
        self, settings: ClientSettings | None = None, transport: httpx.BaseTransport | None = None
    ) -> None:
        """Open one connection pool and one thread pool, sized by ``settings.concurrency``.

        Args:
            settings: how to reach registries.
            transport: an httpx transport to use instead of the network (for embedding).
        """
        self.settings = settings or ClientSettings()
        self._requests_sent = 0
        self._count_lock = threading.Lock()
        limits = httpx.Limits(
            max_connections=self.settings.concurrency,
            max_keepalive_connections=self.settings.concurrency,
        )
        self._http = httpx.Client(
            http2=True,
            limits=limits,
            timeout=self.settings.timeout,
            transport=transport,
            headers={"User-Agent": "mkdocs-taghistory"},
        )
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.concurrency, thread_name_prefix="taghistory"
        )
        self._tokens = TokenStore()

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests this client has sent, token requests included."""
        return self._requests_sent

    def _count_request(self) -> None:
        with self._count_lock:
            self._requests_sent += 1

    def close(self) -> None:
        """Close the connection pool and the thread pool."""
        self._pool.shutdown(wait=True)
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def base_url(self, reference: ImageReference) -> str:
        """The API root of ``reference``'s registry, over HTTP or HTTPS as configured."""
        plain = reference.is_loopback or reference.host in self.settings.insecure_registries
        return f"{'http' if plain else 'https'}://{reference.api_host}/v2/{reference.repository}"

    def fetch_many(
        self,
        references: Iterable[ImageReference],
        known_created: Mapping[ImageReference, Mapping[str, datetime | None]] | None = None,
    ) -> dict[ImageReference, TagSnapshot | RegistryError]:
        """Fetch the tags of every image concurrently.

        Args:
            references: the images.
            known_created: per image, digest creation times learned before; those digests are
                not fetched again, since a digest's content never changes.

        Returns:
            Per image, its snapshot or the error that stopped its fetch.
        """
        fetches = [
            _ImageFetch(reference, (known_created or {}).get(reference, {}))
            for reference in dict.fromkeys(references)
        ]
        self._stage(fetches, lambda fetch: [fetch], self._list_tags_into)
        self._stage(
            fetches,
            lambda fetch: [(fetch, tag) for tag in fetch.tags],
            lambda job: self._resolve_tag_into(*job),
        )
        self._stage(fetches, self._digests_to_inspect, lambda job: self._inspect_digest_into(*job))
        fetched_at = utc_now()
        results: dict[ImageReference, TagSnapshot | RegistryError] = {}
        for fetch in fetches:
            if fetch.error is not None:
                results[fetch.reference] = fetch.error
                continue
            results[fetch.reference] = TagSnapshot(
                image=fetch.reference.name,
                fetched_at=fetched_at,
                tags={
                    tag: TagState(digest=digest, changed=fetch.created.get(digest))
                    for tag, digest in fetch.digests.items()
                },
                digest_created={
                    digest: fetch.created.get(digest) for digest in set(fetch.digests.values())
                },
            )
        return results

    def _stage(
        self,
        fetches: Sequence[_ImageFetch],
        jobs_of: Callable[[_ImageFetch], Iterable[T]],
        run: Callable[[T], None],
    ) -> None:
        """Run ``run`` on every job of every image still without error, all concurrently."""
        jobs: list[tuple[_ImageFetch, T]] = [
            (fetch, job) for fetch in fetches if fetch.error is None for job in jobs_of(fetch)
        ]

        def guarded(pair: tuple[_ImageFetch, T]) -> None:
            fetch, job = pair
            if fetch.error is not None:
                return  # the image already failed; spare the registry the rest of its requests
            try:
                run(job)
            except RegistryError as error:
                fetch.error = fetch.error or error

        for _ in self._pool.map(guarded, jobs):
            pass

    # --- stage 1: tag lists ------------------------------------------------------------

    def _list_tags_into(self, fetch: _ImageFetch) -> None:
        reference = fetch.reference
        url: str | None = f"{self.base_url(reference)}/tags/list"
        seen_pages: set[str] = set()
        tags: dict[str, None] = {}
        while url is not None:
            if url in seen_pages or len(seen_pages) >= _MAX_PAGES:
                raise RegistryError(
                    reference.name, "the tag list's pagination does not end", transient=False
                )
            seen_pages.add(url)
            response, body = self._send(reference, "GET", url, {}, _MAX_LIST_BYTES)
            if response.status_code != 200:
                raise self._status_error(reference, response, "listing tags")
            page = _json_object(reference, body, "tag list")
            page_tags = page.get("tags") or []
            if not isinstance(page_tags, list):
                raise RegistryError(reference.name, "the tag list is not a list", transient=False)
            for tag in page_tags:
                if isinstance(tag, str) and _TAG.fullmatch(tag):
                    tags[tag] = None
                else:
                    logger.warning("%s: dropping invalid tag name %r", reference.name, tag)
            next_link = response.links.get("next", {}).get("url")
            url = urljoin(url, next_link) if next_link else None
        fetch.tags = list(tags)

    # --- stage 2: one digest per tag ---------------------------------------------------

    def _resolve_tag_into(self, fetch: _ImageFetch, tag: str) -> None:
        reference = fetch.reference
        url = f"{self.base_url(reference)}/manifests/{tag}"
        headers = {"Accept": MANIFEST_ACCEPT}
        response, _ = self._send(reference, "HEAD", url, headers, 0)
        if response.status_code == 404:
            logger.info(
                "%s: tag %s was deleted while it was being read; skipping it", reference.name, tag
            )
            return
        if response.status_code != 200:
            raise self._status_error(reference, response, f"reading tag {tag}")
        digest = response.headers.get("Docker-Content-Digest", "")
        if not is_digest(digest):
            # Some registries leave the header out of HEAD answers: the digest of the manifest
            # is the sha256 of its bytes, so fetch them and compute it.
            response, body = self._send(reference, "GET", url, headers, _MAX_DOCUMENT_BYTES)
            if response.status_code != 200:
                raise self._status_error(reference, response, f"reading tag {tag}")
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        fetch.digests[tag] = digest

    # --- stage 3: creation time per new digest -----------------------------------------

    def _digests_to_inspect(self, fetch: _ImageFetch) -> list[tuple[_ImageFetch, str]]:
        jobs = []
        for digest in dict.fromkeys(fetch.digests.values()):
            if digest in fetch.known_created:
                fetch.created[digest] = fetch.known_created[digest]
            else:
                jobs.append((fetch, digest))
        return jobs

    def _inspect_digest_into(self, fetch: _ImageFetch, digest: str) -> None:
        reference = fetch.reference
        manifest = self._manifest(reference, digest)
        created = _created_annotation(manifest)
        if created is None and isinstance(manifest.get("manifests"), list):
            platform_digest = _first_platform_digest(manifest["manifests"])
            if platform_digest is not None:
                manifest = self._manifest(reference, platform_digest)
                created = _created_annotation(manifest)
        if created is None:
            config = manifest.get("config")
            config_digest = config.get("digest") if isinstance(config, dict) else None
            if isinstance(config_digest, str) and is_digest(config_digest):
                created = _parse_created(self._blob(reference, config_digest).get("created"))
        fetch.created[digest] = created

    def _manifest(self, reference: ImageReference, digest: str) -> dict[str, Any]:
        url = f"{self.base_url(reference)}/manifests/{digest}"
        response, body = self._send(
            reference, "GET", url, {"Accept": MANIFEST_ACCEPT}, _MAX_DOCUMENT_BYTES
        )
        if response.status_code != 200:
            raise self._status_error(reference, response, f"reading manifest {digest}")
        _check_digest(reference, digest, body)
        return _json_object(reference, body, f"manifest {digest}")

    def _blob(self, reference: ImageReference, digest: str) -> dict[str, Any]:
        url = f"{self.base_url(reference)}/blobs/{digest}"
        # Blobs are often served from a storage host by redirect; httpx drops the
        # Authorization header when a redirect leaves the registry's origin.
        response, body = self._send(reference, "GET", url, {}, _MAX_DOCUMENT_BYTES, redirects=True)
        if response.status_code != 200:
            raise self._status_error(reference, response, f"reading config {digest}")
        _check_digest(reference, digest, body)
        return _json_object(reference, body, f"config {digest}")

    # --- HTTP ----------------------------------------------------------------------

    def _send(
        self,
        reference: ImageReference,
        method: str,
        url: str,
        headers: Mapping[str, str],
        max_bytes: int,
        *,
        redirects: bool = False,
    ) -> tuple[httpx.Response, bytes]:
        """Send one request, answering a Bearer challenge once; return the response and body."""
        token_key = f"{reference.api_host}/{reference.repository}"
        token = self._tokens.current(token_key)
        response, body = self._exchange(
            reference, method, url, headers, token=token, max_bytes=max_bytes, redirects=redirects
        )
        if response.status_code != 401:
            return response, body
        challenge = parse_bearer_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            raise RegistryError(
                reference.name,
                f"authentication required by {reference.host}, and it offers no token flow",
                transient=False,
            )

        def fetch_token() -> str:
            params = {"scope": challenge.scope or f"repository:{reference.repository}:pull"}
            if challenge.service:
                params["service"] = challenge.service
            return self._fetch_token(reference, challenge.realm, params)

        token = self._tokens.renew(token_key, token, fetch_token)
        response, body = self._exchange(
            reference, method, url, headers, token=token, max_bytes=max_bytes, redirects=redirects
        )
        if response.status_code == 401:
            raise RegistryError(
                reference.name, f"authentication failed for {reference.name}", transient=False
            )
        return response, body

    def _exchange(
        self,
        reference: ImageReference,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        token: str | None,
        max_bytes: int,
        redirects: bool,
    ) -> tuple[httpx.Response, bytes]:
        request_headers = dict(headers)
        if token is not None:
            request_headers["Authorization"] = f"Bearer {token}"
        self._count_request()
        try:
            with self._http.stream(
                method, url, headers=request_headers, follow_redirects=redirects
            ) as response:
                body = _read_capped(reference, response, max_bytes)
        except httpx.TransportError as error:
            raise RegistryError(
                reference.name,
                f"cannot reach {reference.host}: {_describe_transport_error(error)}",
                transient=True,
            ) from None
        return response, body

    def _fetch_token(self, reference: ImageReference, realm: str, params: dict[str, str]) -> str:
        try:
            self._count_request()
            response = self._http.get(realm, params=params)
        except httpx.TransportError as error:
            raise RegistryError(
                reference.name,
                f"cannot reach the token server of {reference.host}: "
                f"{_describe_transport_error(error)}",
                transient=True,
            ) from None
        if response.status_code != 200:
            raise RegistryError(
                reference.name,
                f"the token server of {reference.host} answered HTTP {response.status_code}",
                transient=response.status_code >= 500 or response.status_code == 429,
            )
        document = _json_object(reference, response.content[:_MAX_DOCUMENT_BYTES], "token")
        token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(reference.name, "the token server gave no token", transient=False)
        return token

    @staticmethod
    def _status_error(
        reference: ImageReference, response: httpx.Response, doing: str
    ) -> RegistryError:
        status = response.status_code
        if status == 404:
            reason = f"not found on {reference.host} (HTTP 404 while {doing})"
        elif status == 403:
            reason = f"access denied by {reference.host} (HTTP 403 while {doing})"
        else:
            reason = f"{reference.host} answered HTTP {status} while {doing}"
        return RegistryError(reference.name, reason, transient=status >= 500 or status == 429)


def _read_capped(reference: ImageReference, response: httpx.Response, max_bytes: int) -> bytes:
    """Read a streamed body, refusing one larger than ``max_bytes``."""
    if response.request.method == "HEAD" or response.status_code != 200:
        return b""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise RegistryError(
                reference.name,
                f"an answer from {reference.host} exceeds {max_bytes // (1024 * 1024)} MiB",
                transient=False,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _describe_transport_error(error: httpx.TransportError) -> str:
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({detail})"
    return detail


def _json_object(reference: ImageReference, body: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(
            reference.name, f"the {what} is not valid JSON", transient=False
        ) from None
    if not isinstance(document, dict):
        raise RegistryError(reference.name, f"the {what} is not a JSON object", transient=False)
    return document


def _check_digest(reference: ImageReference, digest: str, body: bytes) -> None:
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        raise RegistryError(
            reference.name, f"the content of {digest} does not match its digest", transient=False
        )


def _parse_created(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        created = parse_timestamp(value)
    except ValueError:
        logger.warning("dropping invalid creation time %r", value)
        return None
    return None if is_epoch_placeholder(created) else created


def _created_annotation(document: Mapping[str, Any]) -> datetime | None:
    annotations = document.get("annotations")
    if not isinstance(annotations, dict):
        return None
    return _parse_created(annotations.get(CREATED_ANNOTATION))


def _first_platform_digest(manifests: list[Any]) -> str | None:
    """The first entry of an index that is an image for a real platform.

    Attestation manifests that build tools add to an index carry ``unknown/unknown``.
    """
    for entry in manifests:
        if not isinstance(entry, dict) or not is_digest(str(entry.get("digest"))):
            continue
        platform = entry.get("platform")
        if isinstance(platform, dict) and platform.get("os") == "unknown":
            continue
        return str(entry["digest"])
    return None
