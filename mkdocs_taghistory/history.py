"""The model: what a registry said about an image's tags and digests, and its grouping by
digest into rows. No I/O."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from mkdocs_taghistory.facts import (
    ATTACHED_KINDS,
    FACTS,
    GROWING,
    WANTED_FACTS,
    Codec,
    DigestFacts,
    is_digest,
    is_label,
    is_platform,
)
from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.records import Record

__all__ = [
    "ATTACHED_KINDS",
    "FACTS",
    "GROWING",
    "WANTED_FACTS",
    "Codec",
    "DigestFacts",
    "is_digest",
    "is_label",
    "is_platform",
]

# A tag as the OCI distribution spec allows it ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}); anything
# else is dropped, never rendered. Its characters as sets: every tag is checked at every build.
_TAG_FIRST = frozenset(string.ascii_letters + string.digits + "_")
_TAG_CHARACTERS = _TAG_FIRST | {".", "-"}
MAX_SIGHTINGS_PER_TAG = 10_000
"""Runs of a tag on a digest the ledger keeps (the newest): decades of daily moves."""
MAX_TAGS = 50_000
"""The most tags an image may have, from a registry or a cache file alike. Each tag costs a
request or more on the generic path: past this many, a build would take hours, and the answer
is more likely a broken registry than a real image."""
MAX_LEDGER_SIGHTINGS = 2 * MAX_TAGS
"""Sightings the ledger of one image keeps in all, as many records as a registry's listing may
hold: tags no longer listed, seen longest ago, give theirs up first."""

_NUMBER_OR_TEXT = re.compile(r"(\d+)|(\D+)")
# Its source, compiled at the first such tag (most tag lists have none).
_COSIGN_TAG = r"sha256-(?P<hex>[a-f0-9]{64})\.(?P<kind>sig|att|sbom)"
_COSIGN_KINDS = {"sig": "signature", "att": "attestation", "sbom": "sbom"}


def is_valid_tag(text: str) -> bool:
    """True when ``text`` is a tag name the OCI distribution spec allows."""
    return 0 < len(text) <= 128 and text[0] in _TAG_FIRST and _TAG_CHARACTERS.issuperset(text)


class TagState(Record):
    """Where one tag points and since when.

    Attributes:
        digest: the manifest or index digest the tag points at.
        changed: when the tag last changed (for a generic registry, when the image it points
            at was created); None when the registry gives no time.
    """

    digest: str
    changed: datetime | None


class Sighting(Record):
    """A digest a tag was first seen pointing at, and when.

    Attributes:
        digest: the digest.
        first_seen: the fetch that first saw the tag point at it.
    """

    digest: str
    first_seen: datetime


NOTHING: Mapping[Any, Any] = MappingProxyType({})
"""An empty mapping that is no one's to change: the default of a record's mapping fields."""


class TagSnapshot(Record):
    """Everything one fetch learned about one image.

    Attributes:
        image: the full image reference, e.g. ``cgr.dev/chainguard/rust``.
        fetched_at: when the registry answered.
        tags: each tag's state.
        digests: what is known of each digest looked up (see :class:`DigestFacts`).
        source: the vendor whose API gave the data (``oci`` for the generic path).
        ledger: per tag, every digest it has been seen pointing at, oldest first, kept across
            fetches: what this plugin observed itself, whatever the registry can tell.
        origin: the address the data was read from (the registry's or the vendor API's).
        missing: the registry said it has no such repository (``tags`` is then empty).
        skipped: tags the registry listed that were not read, as no table showed them (a
            later table that shows one of them has the image fetched again).
    """

    image: str
    fetched_at: datetime
    tags: Mapping[str, TagState]
    digests: Mapping[str, DigestFacts] = NOTHING
    source: str = "oci"
    ledger: Mapping[str, tuple[Sighting, ...]] = NOTHING
    origin: str = ""
    missing: bool = False
    skipped: tuple[str, ...] = ()


class DigestGroup(Record):
    """One row of a tag table: a digest and every tag that points at it.

    Attributes:
        digest: the digest the tags share.
        tags: the tags, in natural (version-aware) order.
        changed: the latest change among the tags, or None when no time is known.
        facts: what is known of the digest (its platforms, say).
        attached: what cosign's tags say is attached to it (``signature`` for its
            ``sha256-<hex>.sig`` tag, ``attestation`` for ``.att``, ``sbom`` for ``.sbom``).
    """

    digest: str
    tags: tuple[str, ...]
    changed: datetime | None
    facts: DigestFacts = DigestFacts()
    attached: tuple[str, ...] = ()


# A build sorts the same tags several times (each table, the JSON document, the moves). The
# cache lives as long as the process (mkdocs serve) and tags come from outside: kept small,
# so a registry's longest tags cannot hold more than a few tens of MiB.
@functools.lru_cache(maxsize=4096)
def natural_key(tag: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders ``1.9`` before ``1.10`` and ``1`` before ``1-dev``."""
    return tuple(
        (0, int(number), "") if number else (1, 0, text)
        for number, text in _NUMBER_OR_TEXT.findall(tag)
    )


def cosign_attachments(tags: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Per digest, what cosign's tags beside it say is attached (``sha256-<hex>.sig`` a
    signature, ``.att`` an attestation, ``.sbom`` an SBOM): read from the tag list itself,
    so it costs no request."""
    found: dict[str, set[str]] = {}
    for tag in tags:
        match = re.fullmatch(_COSIGN_TAG, tag) if tag.startswith("sha256-") else None
        if match:
            found.setdefault(f"sha256:{match['hex']}", set()).add(_COSIGN_KINDS[match["kind"]])
    return {
        digest: tuple(kind for kind in ATTACHED_KINDS if kind in kinds)
        for digest, kinds in found.items()
    }


def group_by_digest(
    snapshot: TagSnapshot, tag_filter: TagFilter | None = None
) -> list[DigestGroup]:
    """Group an image's tags by digest, newest change first.

    Rows whose time is unknown come last; rows changed at the same moment are ordered by their
    first tag, so that the same snapshot always gives the same table. Tags the filter hides
    are left out, and so is a digest left with no tag.
    """
    shown = tag_filter or TagFilter()
    tags_by_digest: dict[str, list[str]] = {}
    changed_by_digest: dict[str, datetime | None] = {}
    for tag, state in snapshot.tags.items():
        if not shown.shows(tag):
            continue
        tags_by_digest.setdefault(state.digest, []).append(tag)
        known = changed_by_digest.get(state.digest)
        if state.changed is not None and (known is None or state.changed > known):
            changed_by_digest[state.digest] = state.changed
        else:
            changed_by_digest.setdefault(state.digest, known)
    attached = cosign_attachments((*snapshot.tags, *snapshot.skipped))
    groups = [
        DigestGroup(
            digest=digest,
            tags=tuple(sorted(tags, key=natural_key)),
            changed=changed_by_digest[digest],
            facts=snapshot.digests.get(digest, DigestFacts()),
            attached=attached.get(digest, ()),
        )
        for digest, tags in tags_by_digest.items()
    ]
    groups.sort(key=lambda group: natural_key(group.tags[0]))
    groups.sort(
        key=lambda group: group.changed.timestamp() if group.changed else float("-inf"),
        reverse=True,
    )
    return groups


def record_sightings(fresh: TagSnapshot, previous: TagSnapshot | None) -> TagSnapshot:
    """``fresh`` with the ledger carried over from ``previous`` and this fetch's sightings added.

    On the generic path the registry knows only when an image was created, not when a tag
    moved to it. A tag seen on one digest and later on another moved in between, so from the
    second sighting on its "Last Changed" is when this plugin saw the move, which is true from
    the first build on.

    ``previous`` may be newer than ``fresh`` (another build that shares the cache fetched later
    and wrote first): its tags then stand, as the newest fetch, and ``fresh`` only adds its
    sightings to the ledger, in the order they were made, so no build's observation is lost.
    """
    ledger = dict(previous.ledger) if previous is not None else {}
    for tag, state in fresh.tags.items():
        ledger[tag] = with_sighting(ledger.get(tag, ()), Sighting(state.digest, fresh.fetched_at))
    ledger = _bounded(ledger, fresh.tags)
    newest = previous if previous is not None and previous.fetched_at > fresh.fetched_at else fresh
    tags = dict(newest.tags)
    for tag, state in newest.tags.items():
        sightings = ledger.get(tag, ())
        if newest.source == "oci" and len(sightings) > 1 and sightings[-1].digest == state.digest:
            tags[tag] = TagState(state.digest, sightings[-1].first_seen)
    return newest._replace(tags=tags, ledger=ledger)


def _bounded(
    ledger: dict[str, tuple[Sighting, ...]], listed: Mapping[str, object]
) -> dict[str, tuple[Sighting, ...]]:
    """``ledger`` within :data:`MAX_LEDGER_SIGHTINGS`, as a cache file must be to be read back
    (else the whole ledger would be lost with it): the tags no longer listed go first, those
    seen longest ago first, then the older runs of listed tags, each keeping its newest."""
    total = sum(map(len, ledger.values()))
    if total <= MAX_LEDGER_SIGHTINGS:
        return ledger
    kept = {tag: runs for tag, runs in ledger.items() if runs}
    order = sorted(kept, key=lambda tag: (tag in listed, kept[tag][-1].first_seen))
    for tag in order:
        if total <= MAX_LEDGER_SIGHTINGS:
            break
        keep = kept[tag][-1:] if tag in listed else ()
        total -= len(kept[tag]) - len(keep)
        if keep:
            kept[tag] = keep
        else:
            del kept[tag]
    return kept


def with_sighting(sightings: tuple[Sighting, ...], seen: Sighting) -> tuple[Sighting, ...]:
    """``sightings`` (oldest first) with ``seen`` added in time order.

    The ledger holds runs: each entry is when a tag was first seen on a digest after being
    seen on another. A sighting inside a run of its digest adds nothing; one that starts a run
    earlier than known moves the run's start back.
    """
    merged = sorted((*sightings, seen), key=lambda sighting: sighting.first_seen)
    runs: list[Sighting] = []
    for sighting in merged:
        if runs and runs[-1].digest == sighting.digest:
            continue  # the same run: its start is the earlier one, already kept
        runs.append(sighting)
    # The newest runs, as many as a cache file may hold: one that kept more could not be read
    # back, and the whole ledger would be lost with it.
    return tuple(runs[-MAX_SIGHTINGS_PER_TAG:])


def arrange(
    groups: list[DigestGroup],
    *,
    sort: str = "newest",
    max_age: timedelta | None = None,
    limit: int | None = None,
    now: datetime,
) -> list[DigestGroup]:
    """Order rows and cut them down as a directive asks.

    Args:
        groups: rows, newest first, as :func:`group_by_digest` gives them.
        sort: ``newest``, ``oldest`` (unknown times still last) or ``tag``.
        max_age: drop rows whose last change is older than this before ``now`` (rows with no
            known time are kept: their age is unknown, not great).
        limit: keep at most this many rows, after sorting.
        now: what ``max_age`` counts back from; the fetch time, so that the same snapshot
            always gives the same table.
    """
    rows = list(groups)
    if max_age is not None:
        rows = [row for row in rows if row.changed is None or now - row.changed <= max_age]
    if sort == "oldest":
        known = [row for row in rows if row.changed is not None]
        rows = known[::-1] + [row for row in rows if row.changed is None]
    elif sort == "tag":
        rows.sort(key=lambda row: natural_key(row.tags[0]))
    return rows[:limit] if limit is not None else rows
