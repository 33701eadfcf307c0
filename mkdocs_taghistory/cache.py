"""The on-disk cache: one JSON file per image, written atomically. No HTTP.

The files are meant to be committed and reviewed, so they are written with sorted keys and a
stable layout: the same snapshot always gives the same bytes.

Being committed, they are also untrusted input: a contributor's pull request can change them.
What is read back passes the checks a registry's answer passes (tag grammar, digests,
timestamps a page can show), plus its own: a regular file (not a link to a device), of
bounded size and nesting, fetched in the past. A file that fails is one warning and counts as
missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mkdocs_taghistory.facts import ADDED_LATER, is_graphic_ascii, is_origin_address
from mkdocs_taghistory.files import read_regular_file, write_atomically
from mkdocs_taghistory.history import (
    FACTS,
    MAX_LEDGER_SIGHTINGS,
    MAX_SIGHTINGS_PER_TAG,
    MAX_TAGS,
    DigestFacts,
    Sighting,
    TagSnapshot,
    TagState,
    is_digest,
    is_valid_tag,
)
from mkdocs_taghistory.timestamps import format_timestamp, parse_timestamp, utc_now

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# A temporary file this old was left by a writer that died: writes take milliseconds.
_ABANDONED_AFTER_SECONDS = 600
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# What a fetch may write: 50,000 tags, as many digests, and 100,000 sightings in the ledger take
# about 33 MiB (300 tags with their ledger, about 100 KiB). A file past these caps, or holding
# more JSON items than such a file (each costs memory many times its bytes), is not read.
MAX_FILE_BYTES = 40 * 1024 * 1024
MAX_JSON_ITEMS = 1_000_000
# A clock a little behind the one that wrote the file is no reason to distrust it.
_CLOCK_SKEW = timedelta(minutes=5)
# A vendor's name, as the file gives its source: [a-z0-9_-]{1,32}.
_SOURCE_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + "_-")


class CacheFormatError(ValueError):
    """A cache file that is not a snapshot of this schema."""


def cache_file_name(image: str) -> str:
    """A file name for ``image`` that is readable, unique, and cannot leave the cache folder.

    The readable part keeps only safe characters; the hash keeps two images whose readable
    parts agree (``a/b-c`` and ``a/b/c``) apart.
    """
    readable = _UNSAFE.sub("_", image.replace("/", "_")).strip("._")[:120]
    digest = hashlib.sha256(image.encode()).hexdigest()[:12]
    return f"{readable}.{digest}.json"


def snapshot_to_json(snapshot: TagSnapshot) -> str:
    """Serialise a snapshot in the cache's stable format."""
    document = {
        "schema": SCHEMA_VERSION,
        "image": snapshot.image,
        "fetched_at": format_timestamp(snapshot.fetched_at),
        "tags": {
            tag: {
                "digest": state.digest,
                "changed": format_timestamp(state.changed) if state.changed else None,
            }
            for tag, state in snapshot.tags.items()
        },
        "digests": {digest: _facts_to_json(facts) for digest, facts in snapshot.digests.items()},
        "source": snapshot.source,
        "origin": snapshot.origin,
        "missing": snapshot.missing,
        # Only when some were: a file without it is the same file as before.
        **({"skipped": sorted(snapshot.skipped)} if snapshot.skipped else {}),
        "ledger": {
            tag: [
                {"digest": sighting.digest, "first_seen": format_timestamp(sighting.first_seen)}
                for sighting in sightings
            ]
            for tag, sightings in snapshot.ledger.items()
        },
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _optional_time(value: Any, where: str, tag: str | None = None) -> Any:
    """``value`` as a time, None for null; ``where`` (with ``tag``, formatted only for an
    error: nearly every time of a file is fine) names it in the error."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError as error:
            problem = f": {error}"
    else:
        problem = " is not a timestamp"
    raise CacheFormatError((where if tag is None else f"{where} {tag!r}") + problem)


def snapshot_from_json(text: str, now: datetime | None = None) -> TagSnapshot:
    """Read a snapshot back, checking every field.

    Args:
        text: the file's text.
        now: the current time, which ``fetched_at`` may not be after.

    Raises:
        CacheFormatError: when the text is not a valid snapshot of this schema.
    """
    # Each item but the first of a list or object follows a comma; each opens with a bracket.
    if text.count(",") + text.count("{") + text.count("[") > MAX_JSON_ITEMS:
        raise CacheFormatError(f"it holds more than {MAX_JSON_ITEMS} JSON items")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CacheFormatError(f"not valid JSON ({error})") from None
    except RecursionError:
        raise CacheFormatError("nested too deeply") from None
    if not isinstance(document, dict):
        raise CacheFormatError("not a JSON object")
    if document.get("schema") != SCHEMA_VERSION:
        raise CacheFormatError(
            f"schema {document.get('schema')!r}, this version reads {SCHEMA_VERSION}"
        )
    image, tags, digests = document.get("image"), document.get("tags"), document.get("digests")
    if not isinstance(image, str) or not isinstance(tags, dict) or not isinstance(digests, dict):
        raise CacheFormatError("missing 'image', 'tags' or 'digests'")
    # The caps of a registry's answer: no fetch writes more.
    if len(tags) > MAX_TAGS or len(digests) > MAX_TAGS:
        raise CacheFormatError(f"more than {MAX_TAGS} tags or digests")
    if not is_graphic_ascii(image, 512):
        raise CacheFormatError("'image' is not an image reference")
    fetched_at = _optional_time(document.get("fetched_at"), "fetched_at")
    if fetched_at is None:
        raise CacheFormatError("missing 'fetched_at'")
    if fetched_at > (now or utc_now()) + _CLOCK_SKEW:
        # It would be served as fresh until then, never asking the registry again.
        raise CacheFormatError(f"'fetched_at' is in the future ({format_timestamp(fetched_at)})")
    source, origin = document.get("source", "oci"), document.get("origin", "")
    if not (
        isinstance(source, str) and 0 < len(source) <= 32 and _SOURCE_CHARACTERS.issuperset(source)
    ):
        raise CacheFormatError("'source' is not a vendor name")
    if not isinstance(origin, str) or not (origin == "" or is_origin_address(origin)):
        raise CacheFormatError("'origin' is not an http(s) address")
    return TagSnapshot(
        image=image,
        fetched_at=fetched_at,
        tags=_tag_states(tags),
        digests=_digests(digests),
        source=source,
        ledger=_ledger(document.get("ledger", {})),
        origin=origin,
        missing=document.get("missing") is True,
        skipped=_skipped(document.get("skipped", [])),
    )


def _skipped(entries: Any) -> tuple[str, ...]:
    if (
        not isinstance(entries, list)
        or len(entries) > MAX_TAGS
        or not all(isinstance(tag, str) and is_valid_tag(tag) for tag in entries)
    ):
        raise CacheFormatError("'skipped' is not a list of tag names")
    return tuple(entries)


def _tag_states(entries: dict[Any, Any]) -> dict[str, TagState]:
    states: dict[str, TagState] = {}
    for tag, entry in entries.items():
        if not is_valid_tag(tag):
            raise CacheFormatError(f"invalid tag name {tag[:80]!r}")
        if not isinstance(entry, dict) or not is_digest(str(entry.get("digest"))):
            raise CacheFormatError(f"tag {tag!r} has no valid digest")
        changed = _optional_time(entry.get("changed"), "tag", tag)
        states[tag] = TagState(digest=entry["digest"], changed=changed)
    return states


def _facts_to_json(facts: DigestFacts) -> dict[str, Any]:
    """A digest's facts; only those read, so a file from before a fact was kept stays as it
    was until the digest is looked up again."""
    return {
        name: codec.dump(getattr(facts, name)) for name, codec in FACTS if name not in facts.unread
    }


def _digests(entries: dict[Any, Any]) -> dict[str, DigestFacts]:
    found = {}
    for digest, entry in entries.items():
        if not is_digest(digest) or not isinstance(entry, dict):
            raise CacheFormatError(f"invalid digest entry {digest[:80]!r}")
        values = {}
        for name, codec in FACTS:
            if name in entry:
                try:
                    values[name] = codec.load(entry[name])
                except ValueError as error:
                    raise CacheFormatError(f"digest {digest}: {name}: {error}") from None
        # Facts kept since a later version are None (not read) when missing: an upgrade looks
        # digests up again only for the tables that show them.
        values.update({name: None for name in ADDED_LATER if name not in entry})
        unread = frozenset(name for name, _ in FACTS if name not in entry) - ADDED_LATER
        found[digest] = DigestFacts(**values, unread=unread)
    return found


def _ledger(entries: Any) -> dict[str, tuple[Sighting, ...]]:
    if not isinstance(entries, dict):
        raise CacheFormatError("'ledger' is not an object")
    if sum(len(value) if isinstance(value, list) else 1 for value in entries.values()) > (
        MAX_LEDGER_SIGHTINGS
    ):
        raise CacheFormatError(f"the ledger holds more than {MAX_LEDGER_SIGHTINGS} sightings")
    ledger = {}
    for tag, sightings in entries.items():
        if not is_valid_tag(tag):
            raise CacheFormatError(f"invalid tag name {tag[:80]!r} in the ledger")
        if not isinstance(sightings, list) or len(sightings) > MAX_SIGHTINGS_PER_TAG:
            raise CacheFormatError(f"the ledger of tag {tag!r} is not a list of sightings")
        read = []
        for sighting in sightings:
            if not isinstance(sighting, dict) or not is_digest(str(sighting.get("digest"))):
                raise CacheFormatError(f"the ledger of tag {tag!r} has an invalid digest")
            first_seen = _optional_time(sighting.get("first_seen"), "ledger of tag", tag)
            if first_seen is None:
                raise CacheFormatError(f"the ledger of tag {tag!r} lacks 'first_seen'")
            read.append(Sighting(sighting["digest"], first_seen))
        ledger[tag] = tuple(read)
    return ledger


class SnapshotCache:
    """Snapshots on disk under ``directory``, one file per image."""

    def __init__(self, directory: Path) -> None:
        """Keep snapshots in ``directory``, which is created on the first write."""
        self.directory = directory
        self._swept = False

    def path_for(self, image: str) -> Path:
        """The file that holds ``image``'s snapshot."""
        return self.directory / cache_file_name(image)

    def load(self, image: str, *, warn: bool = True) -> TagSnapshot | None:
        """The last snapshot of ``image``, or None when there is none that can be read.

        A damaged file is reported once and treated as missing: the next successful fetch
        replaces it. ``warn=False`` reads again quietly what was read (and reported) before.
        """
        log = logger.warning if warn else logger.debug
        path = self.path_for(image)
        try:
            text = read_regular_file(path, MAX_FILE_BYTES)
        except (FileNotFoundError, NotADirectoryError):
            # No file, or no folder: a folder problem is reported once, when writing.
            return None
        except (OSError, UnicodeDecodeError) as error:
            log("Ignoring unreadable cache file %s: %s", path, error)
            return None
        try:
            snapshot = snapshot_from_json(text)
        except CacheFormatError as error:
            log("Ignoring damaged cache file %s: %s", path, error)
            return None
        if snapshot.image != image:
            log("Ignoring cache file %s: it holds %s", path, snapshot.image)
            return None
        return snapshot

    def version(self, image: str) -> int | None:
        """What tells one write of ``image``'s file from the next (its modification time in
        nanoseconds; a fetch's own time is to the second); None when there is no file."""
        try:
            return self.path_for(image).stat().st_mtime_ns
        except OSError:
            return None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cache folder's lock: one writer at a time, across processes.

        A lock on the folder itself (``flock`` on its descriptor), so no lock file joins the
        committed cache. Where ``flock`` does not exist (Windows), no lock is taken: the
        atomic replace still keeps every file whole, only a sighting may be lost.

        Raises:
            OSError: when the folder cannot be made or opened.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        # Here: only a fetch writes, and a build from a fresh cache needs no C module for it.
        try:
            import fcntl  # noqa: PLC0415
        except ImportError:  # Windows
            fcntl = None  # type: ignore[assignment]
        if fcntl is None:
            yield
            return
        handle = os.open(self.directory, os.O_RDONLY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    def store(self, snapshot: TagSnapshot) -> Path:
        """Write ``snapshot`` atomically and return its path."""
        path = self.path_for(snapshot.image)
        write_atomically(path, snapshot_to_json(snapshot))
        if not self._swept:
            self._swept = True
            self._remove_abandoned_temporaries()
        return path

    def _remove_abandoned_temporaries(self) -> None:
        """Delete temporary files that a killed writer left in the folder, once a build:
        looked for at the first write (not at each, which costs a listing of the folder
        per image, quadratic on a site of a thousand).

        Only old ones: a young one may belong to a build writing right now.
        """
        cutoff = time.time() - _ABANDONED_AFTER_SECONDS
        for temporary in self.directory.glob(".*.json.*.tmp"):
            try:
                if temporary.stat().st_mtime < cutoff:
                    temporary.unlink()
            except OSError:
                pass  # gone already, or not ours to remove: either way nothing to do
