"""Which tags a table shows, and which a fetch must read: the site's filters, narrowed by each
directive's own patterns. No I/O."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mkdocs_taghistory.errors import PatternTooSlowError
from mkdocs_taghistory.records import Record

if TYPE_CHECKING:
    from mkdocs_taghistory.history import TagSnapshot
    from mkdocs_taghistory.patterns import TagPattern

# Tags that signing and attestation tools push beside an image (cosign's sha256-<hex>.sig,
# .att and .sbom, and the referrers fallback's bare sha256-<hex>): noise on a tag page.
# Its source, compiled at the first such tag (most tag lists have none).
_SIGNATURE_TAG = r"sha256-[a-f0-9]{64}(?:\.(?:sig|att|sbom))?"
# Chainguard's per-build tags: a package epoch (1.77.0-r1) or a build date (latest-20240318).
# Its source, compiled at first use (the package docstring says why).
_BUILD_TAG = r"-(?:r\d+|\d{8})$"


class TagFilter(Record):
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
        # Every table, feed and fetch asks this of every tag: the common answers first, the
        # pattern engines only where a pattern is given.
        if self.hide_signatures and tag.startswith("sha256-") and re.fullmatch(_SIGNATURE_TAG, tag):
            return False
        if self.hide_builds and re.search(_BUILD_TAG, tag):
            return False
        if self.include and not all(pattern.found_in(tag) for pattern in self.include):
            return False
        return not (self.exclude and any(pattern.found_in(tag) for pattern in self.exclude))

    def narrowed(self, include: TagPattern | None, exclude: TagPattern | None) -> TagFilter:
        """This filter with a directive's own patterns added to the site's."""
        return self._replace(
            include=self.include + ((include,) if include else ()),
            exclude=self.exclude + ((exclude,) if exclude else ()),
        )


class TagDemand(Record):
    """Which tags of an image some table shows: what a fetch must read, and may skip.

    Attributes:
        filters: the filter of each table of the image (the site's, narrowed by the
            directive's own patterns); a tag one of them shows is wanted.
        tags: tags whose history a table shows (``tag=``), wanted whatever the filters say.
        facts: what a table's columns ask of each digest beyond its time (``platforms``,
            ``source``, ``referrers``: see :data:`.facts.WANTED_FACTS`); nothing is asked
            for a column no table shows.
    """

    filters: tuple[TagFilter, ...] = ()
    tags: frozenset[str] = frozenset()
    facts: frozenset[str] = frozenset()

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
        """True when ``snapshot`` read every tag this demand wants, and holds what its tables
        ask of each digest they show."""
        if any(self.wants(tag) for tag in snapshot.skipped):
            return False
        if not self.facts:
            return True
        shown = {state.digest for tag, state in snapshot.tags.items() if self.wants(tag)}
        return all(
            digest in snapshot.digests and snapshot.digests[digest].has(self.facts)
            for digest in shown
        )

    def joined(self, other: TagDemand) -> TagDemand:
        """What this and ``other`` want together."""
        return TagDemand(
            tuple(dict.fromkeys((*self.filters, *other.filters))),
            self.tags | other.tags,
            self.facts | other.facts,
        )
