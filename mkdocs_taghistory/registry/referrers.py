"""What refers to a digest, by the OCI 1.1 referrers API: signatures, attestations, SBOMs.

``GET /v2/<name>/referrers/<digest>`` answers an image index whose ``manifests`` describe each
artifact that names the digest as its subject, with its ``artifactType`` (distribution-spec
1.1, "Listing Referrers"). One request per digest, unfiltered: the ``artifactType`` filter
takes one type a request, and the three kinds a table shows are many types. A registry without
the API answers 404 (the spec forbids a 404 from one that has it); the first such answer
stops the image's other calls of it, and a digest's referrers are then read from the index
under its fallback tag (``sha256-<hex>``) where the tag list has one, as the spec's clients
do; cosign's ``.sig``/``.att``/``.sbom`` tags are read from the tag list itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.facts import ATTACHED_KINDS, FACTS, UNKNOWN_REFERRERS, DigestFacts
from mkdocs_taghistory.registry.listings import next_page
from mkdocs_taghistory.registry.responses import parse_json, status_error
from mkdocs_taghistory.registry.vendor_base import ImageFetch, Vendor

logger = logging.getLogger(__name__)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MAX_REFERRERS_BYTES = 4 * 1024 * 1024
"""An index of a few thousand descriptors: no digest has more referrers than that."""
MAX_REFERRERS_PAGES = 10
"""Pages of one digest's referrers read at most (the API pages by ``Link``)."""
UNSUPPORTED_STATUSES = frozenset({404, 405, 501})
"""Answers that say the registry has no referrers API (GHCR's 303 is followed as a redirect
and ends in one of these or in an index)."""
BUNDLE_PREDICATE = "dev.sigstore.bundle.predicateType"
"""The annotation a Sigstore bundle's descriptor carries: what its statement says."""
SIGNING_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
"""The predicate of a bundle that is a plain signature rather than an attestation."""

# Words found in artifact types, by what a table calls them. Types vary by tool (cosign's
# application/vnd.dev.cosign.artifact.sig.v1+json, Notary's application/vnd.cncf.notary.signature,
# SPDX's and CycloneDX's own, in-toto's and DSSE's for attestations), so words are matched.
_SBOM_WORDS = ("spdx", "cyclonedx", "syft", "sbom")
_SIGNATURE_WORDS = ("notary.signature", "cosign.artifact.sig", "simplesigning", ".sig.")
_ATTESTATION_WORDS = ("in-toto", "intoto", "dsse", "cosign.artifact.att", "provenance", "slsa")


def kind_of(descriptor: Mapping[str, Any]) -> str | None:
    """What one descriptor of a referrers index is: ``signature``, ``attestation`` or
    ``sbom``; None for any other artifact (a scan report, say), which no column shows."""
    artifact_type = descriptor.get("artifactType")
    if not isinstance(artifact_type, str):
        return None
    kind = artifact_type.lower()
    if "sigstore.bundle" in kind:
        return _bundle_kind(descriptor.get("annotations"))
    for words, named in (
        (_SBOM_WORDS, "sbom"),
        (_SIGNATURE_WORDS, "signature"),
        (_ATTESTATION_WORDS, "attestation"),
    ):
        if any(word in kind for word in words):
            return named
    return None


def _bundle_kind(annotations: object) -> str:
    """A Sigstore bundle's kind: one artifact type for every bundle, so its descriptor's
    annotation tells a signature from a statement, and an SBOM statement from others."""
    predicate = annotations.get(BUNDLE_PREDICATE) if isinstance(annotations, dict) else None
    if not isinstance(predicate, str) or predicate == SIGNING_PREDICATE:
        return "signature"
    return "sbom" if any(word in predicate.lower() for word in _SBOM_WORDS) else "attestation"


def kinds_in(descriptors: list[Any]) -> tuple[str, ...]:
    """The kinds among a referrers index's ``manifests``, in the order tables name them."""
    found = {kind_of(entry) for entry in descriptors if isinstance(entry, dict)}
    return tuple(kind for kind in ATTACHED_KINDS if kind in found)


async def look_up_referrers(vendor: Vendor, fetch: ImageFetch, digest: str) -> None:
    """Set ``digest``'s referrers in ``fetch.facts``: from the registry's referrers API, or,
    where it has none, from the index the OCI 1.1 fallback tag (``sha256-<hex>``) holds if the
    tag list has one. On a failure (an answer that is neither an index nor a sign of no API,
    or the fetch out of time), log a line that names the image and keep what an earlier
    fetch found; with nothing found before, the referrers are :data:`.UNKNOWN_REFERRERS`, so
    the table says "unknown" and the next fetch after the ttl asks again."""
    facts = fetch.facts.get(digest)
    if facts is None:
        # Known for its referrers only (a vendor timed its tags and no table asked more): the
        # rest is unread, so the cache never takes an empty value for a fact.
        facts = DigestFacts(unread=frozenset(name for name, _ in FACTS) - {"referrers"})
    try:
        overdue = vendor.session.fetch_overdue(fetch.reference)
        if overdue is not None:
            raise overdue
        kinds = () if fetch.referrers_refused else await _read(vendor, fetch, digest)
        if fetch.referrers_refused:
            kinds = await _fallback_tag(vendor, fetch, digest)
    except RegistryError as error:
        # A column's extra, not the table: the tags and digests stand, and, as for a table
        # shown from the cache after a failed fetch, the build is told but does not fail.
        logger.info("%s: could not read what refers to %s: %s", fetch.reference.name, digest, error)
        earlier = fetch.known.get(digest)
        known = earlier.referrers if earlier is not None else None
        kinds = known if known is not None else UNKNOWN_REFERRERS
    fetch.facts[digest] = facts._replace(referrers=kinds)


async def _fallback_tag(vendor: Vendor, fetch: ImageFetch, digest: str) -> tuple[str, ...]:
    """The kinds in the index under the referrers fallback tag of ``digest``, when the tag
    list names one (so no request is spent on a tag that is not there); else none."""
    tag = "sha256-" + digest.removeprefix("sha256:")
    if tag not in fetch.tags and tag not in fetch.skipped and tag not in fetch.digests:
        return ()
    reference = fetch.reference
    url = f"{vendor.session.base_url(reference)}/manifests/{tag}"
    response, body = await vendor.session.registry(
        reference, "GET", url, headers={"Accept": OCI_INDEX}, max_bytes=MAX_REFERRERS_BYTES
    )
    if response.status_code != 200:
        raise status_error(response, f"reading the referrers tag of {digest}")
    return _kinds_of_index(parse_json(body, f"the referrers tag of {digest}"), digest)


def _kinds_of_index(index: Any, digest: str) -> tuple[str, ...]:
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list):
        raise RegistryError(f"the referrers of {digest} are not an image index", transient=True)
    return kinds_in(manifests)


async def _read(vendor: Vendor, fetch: ImageFetch, digest: str) -> tuple[str, ...]:
    reference = fetch.reference
    session = vendor.session
    url: str | None = f"{session.base_url(reference)}/referrers/{digest}"
    found: set[str] = set()
    seen: set[str] = set()
    while url is not None and url not in seen and len(seen) < MAX_REFERRERS_PAGES:
        seen.add(url)
        response, body = await session.registry(
            reference,
            "GET",
            url,
            headers={"Accept": OCI_INDEX},
            max_bytes=MAX_REFERRERS_BYTES,
        )
        if response.status_code in UNSUPPORTED_STATUSES:
            fetch.referrers_refused = True
            return ()
        if response.status_code != 200:
            raise status_error(response, f"reading the referrers of {digest}")
        found.update(_kinds_of_index(parse_json(body, f"the referrers of {digest}"), digest))
        url = next_page(str(response.url), response.links.get("next", {}).get("url"))
    return tuple(kind for kind in ATTACHED_KINDS if kind in found)


def referred_digests(fetch: ImageFetch) -> list[str]:
    """The digests whose referrers are asked: those of the tags a table shows, when one of
    the image's tables shows signatures; none otherwise."""
    shown = fetch.demand
    if shown is None or "referrers" not in shown.facts:
        return []
    return list(dict.fromkeys(digest for tag, digest in fetch.digests.items() if shown.wants(tag)))
