"""The model: what a registry said about an image's tags, and its grouping by digest. No I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from mkdocs_taghistory.patterns import PatternTooSlowError, TagPattern

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
# A tag as the OCI distribution spec allows it; anything else is dropped, never rendered.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
MAX_SIGHTINGS_PER_TAG = 10_000
"""Runs of a tag on a digest the ledger keeps (the newest): decades of daily moves."""

_PLATFORM = re.compile(r"[a-z0-9]{1,32}/[a-z0-9_]{1,32}(?:/[a-z0-9.]{1,16})?")
_NUMBER_OR_TEXT = re.compile(r"(\d+)|(\D+)")
# Tags that signing and attestation tools push beside an image (cosign's sha256-<hex>.sig,
# .att and .sbom, and the referrers fallback's bare sha256-<hex>): noise on a tag page.
_SIGNATURE_TAG = re.compile(r"sha256-[a-f0-9]{64}(?:\.(?:sig|att|sbom))?")
# Chainguard's per-build tags: a package epoch (1.77.0-r1) or a build date (latest-20240318).
_BUILD_TAG = re.compile(r"-(?:r\d+|\d{8})$")


def is_digest(text: str) -> bool:
    """True when ``text`` is a ``sha256:`` digest with 64 lowercase hex digits."""
    return _DIGEST.fullmatch(text) is not None


def is_platform(text: str) -> bool:
    """True for an OCI platform as tables show it: ``os/architecture[/variant]``."""
    return _PLATFORM.fullmatch(text) is not None


def is_valid_tag(text: str) -> bool:
    """True when ``text`` is a tag name the OCI distribution spec allows."""
    return _TAG.fullmatch(text) is not None


@dataclass(frozen=True)
class TagState:
    """Where one tag points and since when.

    Attributes:
        digest: the manifest or index digest the tag points at.
        changed: when the tag last changed (for a generic registry, when the image it points
            at was created); None when the registry gives no time.
    """

    digest: str
    changed: datetime | None


@dataclass(frozen=True)
class Sighting:
    """A digest a tag was first seen pointing at, and when.

    Attributes:
        digest: the digest.
        first_seen: the fetch that first saw the tag point at it.
    """

    digest: str
    first_seen: datetime


@dataclass(frozen=True)
class TagSnapshot:
    """Everything one fetch learned about one image.

    Attributes:
        image: the full image reference, e.g. ``cgr.dev/chainguard/rust``.
        fetched_at: when the registry answered.
        tags: each tag's state.
        digest_created: the creation time of each digest seen (None where the image has none).
            Content-addressed, so it holds for good and spares later fetches a request.
        source: the vendor whose API gave the data (``oci`` for the generic path).
        ledger: per tag, every digest it has been seen pointing at, oldest first, kept across
            fetches: what this plugin observed itself, whatever the registry can tell.
        origin: the address the data was read from (the registry's or the vendor API's).
        missing: the registry said it has no such repository (``tags`` is then empty).
        digest_platforms: per digest, the platforms its index lists (``linux/arm64``), where
            they were read; content-addressed, so kept for good like creation times.
        skipped: tags the registry listed that were not read, as no table showed them (a
            later table that shows one of them has the image fetched again).
    """

    image: str
    fetched_at: datetime
    tags: Mapping[str, TagState]
    digest_created: Mapping[str, datetime | None]
    source: str = "oci"
    ledger: Mapping[str, tuple[Sighting, ...]] = field(default_factory=dict)
    digest_platforms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    origin: str = ""
    missing: bool = False
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestGroup:
    """One row of a tag table: a digest and every tag that points at it.

    Attributes:
        digest: the digest the tags share.
        tags: the tags, in natural (version-aware) order.
        changed: the latest change among the tags, or None when no time is known.
        platforms: the platforms of a multi-arch index (``linux/amd64``); empty when unknown.
    """

    digest: str
    tags: tuple[str, ...]
    changed: datetime | None
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class TagFilter:
    """Which tags a table shows.

    Attributes:
        hide_signatures: hide cosign and referrer tags (``sha256-<hex>[.sig|.att|.sbom]``).
        hide_builds: hide Chainguard's per-build tags (``-r<N>`` epochs, ``-<YYYYMMDD>`` dates).
        include: show only tags in which every one of these patterns is found.
        exclude: hide tags in which any of these patterns is found.
    """

    hide_signatures: bool = True
    hide_builds: bool = False
    include: tuple[TagPattern, ...] = ()
    exclude: tuple[TagPattern, ...] = ()

    def shows(self, tag: str) -> bool:
        """True when ``tag`` belongs in the table.

        Raises:
            PatternTooSlowError: when a pattern's search does not end in time.
        """
        if self.hide_signatures and _SIGNATURE_TAG.fullmatch(tag):
            return False
        if self.hide_builds and _BUILD_TAG.search(tag):
            return False
        if not all(pattern.found_in(tag) for pattern in self.include):
            return False
        return not any(pattern.found_in(tag) for pattern in self.exclude)

    def narrowed(self, include: TagPattern | None, exclude: TagPattern | None) -> TagFilter:
        """This filter with a directive's own patterns added to the site's."""
        return replace(
            self,
            include=self.include + ((include,) if include else ()),
            exclude=self.exclude + ((exclude,) if exclude else ()),
        )


@dataclass(frozen=True)
class TagDemand:
    """Which tags of an image some table shows: what a fetch must read, and may skip.

    Attributes:
        filters: the filter of each table of the image (the site's, narrowed by the
            directive's own patterns); a tag one of them shows is wanted.
        tags: tags whose history a table shows (``tag=``), wanted whatever the filters say.
    """

    filters: tuple[TagFilter, ...] = ()
    tags: frozenset[str] = frozenset()

    def wants(self, tag: str) -> bool:
        """True when some table of the image shows ``tag``, or may: a pattern that runs too
        long is read as showing it, so the table reports the pattern at its directive."""
        if tag in self.tags:
            return True
        try:
            return any(tag_filter.shows(tag) for tag_filter in self.filters)
        except PatternTooSlowError:
            return True

    def covers(self, snapshot: TagSnapshot) -> bool:
        """True when ``snapshot`` read every tag this demand wants."""
        return not any(self.wants(tag) for tag in snapshot.skipped)

    def joined(self, other: TagDemand) -> TagDemand:
        """What this and ``other`` want together."""
        return TagDemand(
            tuple(dict.fromkeys((*self.filters, *other.filters))), self.tags | other.tags
        )


def natural_key(tag: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders ``1.9`` before ``1.10`` and ``1`` before ``1-dev``."""
    return tuple(
        (0, int(number), "") if number else (1, 0, text)
        for number, text in _NUMBER_OR_TEXT.findall(tag)
    )


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
    groups = [
        DigestGroup(
            digest=digest,
            tags=tuple(sorted(tags, key=natural_key)),
            changed=changed_by_digest[digest],
            platforms=tuple(snapshot.digest_platforms.get(digest, ())),
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
    newest = previous if previous is not None and previous.fetched_at > fresh.fetched_at else fresh
    tags = dict(newest.tags)
    for tag, state in newest.tags.items():
        sightings = ledger.get(tag, ())
        if newest.source == "oci" and len(sightings) > 1 and sightings[-1].digest == state.digest:
            tags[tag] = TagState(state.digest, sightings[-1].first_seen)
    return replace(newest, tags=tags, ledger=ledger)


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
