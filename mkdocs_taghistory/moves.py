"""Each tag's moves: every run of a tag on a digest that this site has seen, from the cache's
ledger and the tags as last fetched. What the Atom feed announces and what ``taghistory show
--digest`` looks up. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.history import Sighting, TagSnapshot, TagState, natural_key
from mkdocs_taghistory.records import Record


class Move(Record):
    """A tag seen pointing at a digest, from one moment to the next move.

    Attributes:
        tag: the tag.
        digest: the digest it pointed at.
        at: when it was first seen there; for the run it is still on, the table's "Last
            Changed" (what the registry says, where it says it). None when nothing is known.
        until: when it was first seen on another digest; None while it points there, or when
            the tag is gone and its end was not seen.
        current: the tag points there now (as last fetched).
        occurrence: 1 for the tag's first run on this digest, 2 when it came back to it, and
            so on: with ``tag`` and ``digest``, what names the move for good.
    """

    tag: str
    digest: str
    at: datetime | None
    until: datetime | None
    current: bool
    occurrence: int


def tag_moves(snapshot: TagSnapshot, tag_filter: TagFilter | None = None) -> list[Move]:
    """Every move of the tags ``tag_filter`` shows (every tag without one), newest first.

    Moves at the same moment are in version order of their tags, then oldest run first, so
    the same snapshot always gives the same list; moves of unknown time come last.

    Raises:
        PatternTooSlowError: when a pattern of ``tag_filter`` runs too long.
    """
    found: list[Move] = []
    for tag in sorted(set(snapshot.tags) | set(snapshot.ledger), key=natural_key):
        if tag_filter is None or tag_filter.shows(tag):
            found += _runs(tag, snapshot.ledger.get(tag, ()), snapshot.tags.get(tag))
    found.sort(key=lambda move: move.at.timestamp() if move.at else float("-inf"), reverse=True)
    return found


def _runs(tag: str, sightings: Sequence[Sighting], state: TagState | None) -> list[Move]:
    """One tag's runs, oldest first: the ledger's, and the current one where the ledger
    lacks it (a cache written before the ledger was kept)."""
    runs: list[tuple[str, datetime | None]] = [
        (sighting.digest, sighting.first_seen) for sighting in sightings
    ]
    current_from_ledger = state is not None and bool(runs) and runs[-1][0] == state.digest
    if state is not None and not current_from_ledger:
        runs.append((state.digest, state.changed))
    seen: dict[str, int] = {}
    moves = []
    for index, (digest, first_seen) in enumerate(runs):
        seen[digest] = seen.get(digest, 0) + 1
        current = state is not None and index == len(runs) - 1
        at = first_seen
        if current and state is not None and state.changed is not None:
            at = state.changed  # the table's Last Changed, from the registry where it has it
        until = runs[index + 1][1] if index + 1 < len(runs) else None
        moves.append(Move(tag, digest, at, until, current, seen[digest]))
    return moves


def digests_starting(snapshot: TagSnapshot, prefix: str) -> list[str]:
    """The digests the tags or the ledger of ``snapshot`` name that start with ``prefix``
    (``sha256:`` may be left out), sorted."""
    wanted = prefix.lower() if prefix.lower().startswith("sha256:") else f"sha256:{prefix.lower()}"
    named = {state.digest for state in snapshot.tags.values()}
    named.update(sighting.digest for runs in snapshot.ledger.values() for sighting in runs)
    return sorted(digest for digest in named if digest.startswith(wanted))
