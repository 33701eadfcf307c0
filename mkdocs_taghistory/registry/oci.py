"""The generic path, for any registry: the OCI distribution API alone.

Tags from ``tags/list`` (following ``Link`` pages), a digest per tag from ``HEAD`` of its
manifest, and a creation time per digest from the ``org.opencontainers.image.created``
annotation or the image config's ``created``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import (
    GROWING,
    DigestFacts,
    is_digest,
    is_platform,
    is_valid_tag,
)
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.image_labels import Labels
from mkdocs_taghistory.registry.listings import Listing, check_tag_count, next_page, page_size
from mkdocs_taghistory.registry.responses import PORTAL_HINT, parse_json, status_error
from mkdocs_taghistory.registry.vendor_base import ImageFetch, Vendor
from mkdocs_taghistory.timestamps import is_epoch_placeholder, parse_timestamp

logger = logging.getLogger(__name__)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
CREATED_ANNOTATION = "org.opencontainers.image.created"

# Bounds on what one answer may hold, so a broken or hostile registry cannot exhaust memory.
MAX_LIST_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_PAGES = 10_000
# Tags asked for a page: registries that page (GHCR, Quay, GitLab, ECR) give 100 or fewer by
# default, and cap a larger n at what they allow; fewer pages is fewer round trips.
TAGS_PER_PAGE = 1000


class OciVendor(Vendor):
    """Any registry that speaks the OCI distribution API."""

    name: ClassVar[str] = "oci"
    api_on_registry: ClassVar[bool] = True

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Read ``tags/list``, following ``Link: <...>; rel="next"`` to the last page."""
        tags: dict[str, None] = {}
        await self.tag_list_pages(
            fetch, lambda page: self.take_tags(fetch, page, tags), lambda: len(tags)
        )
        fetch.tags = list(tags)

    async def tag_list_pages(
        self,
        fetch: ImageFetch,
        take: Callable[[dict[str, Any]], None],
        progress: Callable[[], int],
    ) -> None:
        """Give ``take`` each page of ``tags/list``, checked, in order, dropping it before the
        next is asked for; ``progress`` tells how much the pages brought so far (the listing
        is stopped when they bring nothing new, see :class:`.Listing`)."""
        reference = fetch.reference
        first_page = f"{self.session.base_url(reference)}/tags/list"
        sized = f"{first_page}?n={TAGS_PER_PAGE}"
        url: str | None = sized
        pages = Listing("the tag list", max_pages=MAX_PAGES, progress=progress)
        while url is not None:
            pages.visit(url)
            response, body = await self.session.registry(
                reference, "GET", url, max_bytes=MAX_LIST_BYTES
            )
            if response.status_code == 400 and url == sized:
                # The spec lets a registry refuse n: ask again for its own page size.
                logger.debug("%s: the tag list refuses n=%d", reference.name, TAGS_PER_PAGE)
                url = first_page
                continue
            if response.status_code == 404:
                raise RegistryError(
                    f"no such repository on {reference.host}",
                    not_found=True,
                )
            if response.status_code != 200:
                raise status_error(response, "reading tag list")
            page = parse_json(body, "tag list")
            if not isinstance(page, dict) or not isinstance(page.get("tags", []), list | None):
                raise RegistryError("the tag list is not a list", transient=True)
            pages.received(len(body), page_size(page))
            del body  # one page held at a time, and only until it is taken
            url = next_page(str(response.url), response.links.get("next", {}).get("url"))
            take(page)
            del page

    @staticmethod
    def take_tags(fetch: ImageFetch, page: dict[str, Any], tags: dict[str, None]) -> None:
        """Add the valid tags of a page of ``tags/list`` to ``tags``, once each, in order."""
        for tag in page.get("tags") or []:
            if isinstance(tag, str) and is_valid_tag(tag):
                tags[tag] = None
            else:
                logger.warning("%s: dropping invalid tag name %r", fetch.reference.name, tag)
        check_tag_count(len(tags))

    async def read_digest(self, fetch: ImageFetch, tag: str) -> None:
        """The tag's digest from ``HEAD`` of its manifest (or the hash of a ``GET``)."""
        reference = fetch.reference
        url = f"{self.session.base_url(reference)}/manifests/{tag}"
        headers = {"Accept": MANIFEST_ACCEPT}
        response, _ = await self.session.registry(
            reference, "HEAD", url, headers=headers, max_bytes=0
        )
        if response.status_code == 404:
            logger.info(
                "%s: tag %s was deleted while it was being read; skipping it", reference.name, tag
            )
            return
        if response.status_code != 200:
            raise status_error(response, f"reading tag {tag}")
        _refuse_web_page(response, f"tag {tag}")
        digest = response.headers.get("Docker-Content-Digest", "")
        if not is_digest(digest):
            # Some registries leave the header out of HEAD answers: the digest of a manifest
            # is the sha256 of its bytes, so fetch them and compute it.
            response, body = await self.session.registry(
                reference, "GET", url, headers=headers, max_bytes=MAX_DOCUMENT_BYTES
            )
            if response.status_code != 200:
                raise status_error(response, f"reading tag {tag}")
            _refuse_web_page(response, f"tag {tag}")
            # Hash only what is a manifest: a login page's bytes must not become a digest.
            if not isinstance(parse_json(body, f"manifest of tag {tag}"), dict):
                raise RegistryError(
                    f"the manifest of tag {tag} is not a JSON object", transient=True
                )
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        fetch.digests[tag] = digest

    def claim_digest(self, fetch: ImageFetch, tag: str) -> str | None:
        """The digest of ``tag`` when it is still to be looked up and no tag before it
        claimed it; None when the digest is known (its known facts are copied over on the
        way), claimed already, or the vendor timed the tag and no table asks more of it
        (platforms, a source: :attr:`.ImageFetch.wanted`)."""
        digest = fetch.digests.get(tag)
        if digest is None or digest in fetch.claimed:
            return None
        known = fetch.known.get(digest)
        asked = fetch.wanted - GROWING
        if known is not None and known.complete and known.has(asked):
            fetch.claimed.add(digest)
            fetch.facts[digest] = known
            return None
        if fetch.changed.get(tag) is not None and not (asked and _shown(fetch, tag)):
            # Timed by the vendor: looked up only for a table that shows the tag and asks
            # more of its digest (not for hidden tags, nor cosign's own manifests).
            return None
        fetch.claimed.add(digest)
        return digest

    async def inspect_digest(self, fetch: ImageFetch, digest: str) -> None:
        """The digest's facts: the creation time (the annotation of the index or manifest,
        else the config's), its platforms with their digests (the index's entries, or the
        config's one), and its source and revision (the annotations of what was read, else the
        config's labels).

        Only what the creation time needs is read, and what a table asks beyond it
        (:attr:`.ImageFetch.wanted`): a single image's config for its platform, the config's
        labels for a source no annotation gave. What was not read is None, never empty.
        """
        reference = fetch.reference
        manifest = await self._manifest(reference, digest)
        labels = Labels()
        labels.read(manifest.get("annotations"))
        created = _created_annotation(reference, manifest)
        pairs: tuple[tuple[str, str], ...] | None = None
        if isinstance(manifest.get("manifests"), list):
            pairs = _index_platforms(manifest["manifests"])

        def more_needed() -> bool:
            return (
                created is None
                or ("source" in fetch.wanted and not (labels.source and labels.revision))
                or ("platforms" in fetch.wanted and pairs is None)
            )

        if pairs is not None and more_needed():
            platform_digest = _first_platform_digest(manifest["manifests"])
            if platform_digest is not None:
                manifest = await self._manifest(reference, platform_digest)
                labels.read(manifest.get("annotations"))
                created = created or _created_annotation(reference, manifest)
        config_read = more_needed()
        config = manifest.get("config")
        config_digest = config.get("digest") if isinstance(config, dict) else None
        if config_read and isinstance(config_digest, str) and is_digest(config_digest):
            image_config = await self._blob(reference, config_digest)
            created = created or _parse_created(reference, image_config.get("created"))
            inner = image_config.get("config")
            labels.read(inner.get("Labels") if isinstance(inner, dict) else None)
            if pairs is None:  # a single image: its config's platform, with its own digest
                pairs = _index_platforms([{"platform": image_config, "digest": digest}])
        # A source is settled when it and its revision were found, or every place they may be
        # said was read ("": the image does not say); else it is not known yet (None), and a
        # table that shows sources has the digest looked up again. Platforms likewise.
        settled = config_read or bool(labels.source and labels.revision)
        fetch.facts[digest] = DigestFacts(
            created=created,
            platforms=tuple(platform for platform, _ in pairs or ()),
            platform_digests=pairs if pairs is not None or not config_read else (),
            source=labels.source if settled else None,
            revision=labels.revision if settled else None,
            referrers=_known_referrers(fetch, digest),
        )

    async def _manifest(self, reference: ImageReference, digest: str) -> dict[str, Any]:
        url = f"{self.session.base_url(reference)}/manifests/{digest}"
        response, body = await self.session.registry(
            reference,
            "GET",
            url,
            headers={"Accept": MANIFEST_ACCEPT},
            max_bytes=MAX_DOCUMENT_BYTES,
        )
        if response.status_code != 200:
            raise status_error(response, f"reading manifest {digest}")
        return _verified_object(digest, body, f"manifest {digest}")

    async def _blob(self, reference: ImageReference, digest: str) -> dict[str, Any]:
        url = f"{self.session.base_url(reference)}/blobs/{digest}"
        # Blobs are often served from a storage host by redirect, which registry() follows
        # without the registry's credentials.
        response, body = await self.session.registry(
            reference, "GET", url, max_bytes=MAX_DOCUMENT_BYTES
        )
        if response.status_code != 200:
            raise status_error(response, f"reading config {digest}")
        return _verified_object(digest, body, f"config {digest}")


def _refuse_web_page(response: Any, what: str) -> None:
    """A web page where a manifest was due: a captive portal's or a proxy's, not the image's."""
    content_type = response.headers.get("Content-Type", "").lower()
    if content_type.startswith("text/"):
        raise RegistryError(
            f"{response.url.netloc.decode()} answered for {what} with a web page "
            f"({content_type.split(';')[0]}; {PORTAL_HINT})",
            transient=True,
        )


def _verified_object(digest: str, body: bytes, what: str) -> dict[str, Any]:
    """Content-addressed JSON: its bytes must hash to its digest, and it must be an object.

    Bytes that are not even JSON are someone else's answer (a portal's page), not a registry
    lying about content: that is transient.
    """
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        parse_json(body, what)
        raise RegistryError(f"the content of {digest} does not match its digest", transient=True)
    document = parse_json(body, what)
    if not isinstance(document, dict):
        raise RegistryError(f"the {what} is not a JSON object", transient=True)
    return document


def _parse_created(reference: ImageReference, value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        logger.warning("%s: dropping invalid creation time %r", reference.name, value)
        return None
    try:
        created = parse_timestamp(value)
    except ValueError:
        logger.warning("%s: dropping invalid creation time %r", reference.name, value)
        return None
    return None if is_epoch_placeholder(created) else created


def _created_annotation(reference: ImageReference, document: Mapping[str, Any]) -> datetime | None:
    annotations = document.get("annotations")
    if not isinstance(annotations, dict):
        return None
    return _parse_created(reference, annotations.get(CREATED_ANNOTATION))


def _index_platforms(entries: list[Any]) -> tuple[tuple[str, str], ...]:
    """``os/architecture[/variant]`` of each entry of an index (or of an image's config) with
    its digest, in order, once each, without the ``unknown/unknown`` of attestations."""
    found: dict[str, str] = {}
    for entry in entries:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if not isinstance(platform, dict) or not is_digest(str(entry.get("digest"))):
            continue
        parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
        text = "/".join(part for part in parts if isinstance(part, str) and part)
        if text and is_platform(text) and not text.startswith("unknown"):
            found.setdefault(text, str(entry["digest"]))
    return tuple(found.items())


def _shown(fetch: ImageFetch, tag: str) -> bool:
    return fetch.demand is None or fetch.demand.wants(tag)


def _known_referrers(fetch: ImageFetch, digest: str) -> tuple[str, ...] | None:
    """What an earlier fetch found referring to ``digest``: kept until the referrers stage
    (run when a table shows them) asks again."""
    known = fetch.known.get(digest)
    return known.referrers if known is not None else None


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


class HostedApiVendor(OciVendor):
    """A vendor whose own API lives apart from its registry (Docker Hub, Quay, GitHub,
    Harbor); the generic path it inherits still reads the registry, when the API cannot."""

    api_on_registry: ClassVar[bool] = False
