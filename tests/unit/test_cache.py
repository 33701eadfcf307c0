"""The on-disk cache: stable files, safe names, atomic writes, damaged files treated as missing."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mkdocs_taghistory.cache import (
    CacheFormatError,
    SnapshotCache,
    cache_file_name,
    snapshot_from_json,
    snapshot_to_json,
)
from mkdocs_taghistory.files import write_atomically
from mkdocs_taghistory.history import FACTS, DigestFacts, TagSnapshot, TagState

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def snapshot(image: str = "cgr.dev/chainguard/rust") -> TagSnapshot:
    created = datetime(2024, 3, 18, 12, 0, 0, 500, tzinfo=UTC)
    return TagSnapshot(
        image=image,
        fetched_at=datetime(2024, 3, 22, 0, 34, 55, tzinfo=UTC),
        tags={"latest": TagState(DIGEST_A, created), "old": TagState(DIGEST_B, None)},
        digests={DIGEST_A: DigestFacts(created=created), DIGEST_B: DigestFacts()},
    )


def test_snapshot_survives_a_round_trip_and_serialises_stably() -> None:
    text = snapshot_to_json(snapshot())
    assert snapshot_from_json(text) == snapshot()
    assert snapshot_to_json(snapshot_from_json(text)) == text
    document = json.loads(text)
    assert document["schema"] == 1
    assert list(document) == sorted(document)
    assert text.endswith("}\n")


@pytest.mark.parametrize(
    "image",
    ["cgr.dev/chainguard/rust", "127.0.0.1:5000/a/b", "[::1]:80/x", "docker.io/library/python"],
)
def test_cache_file_name_is_a_plain_name_inside_the_folder(image: str, tmp_path: Path) -> None:
    name = cache_file_name(image)
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_similar_images_get_different_files() -> None:
    assert cache_file_name("h.io/a/b-c") != cache_file_name("h.io/a/b_c")
    assert cache_file_name("h.io/a/b-c") != cache_file_name("h.io/a/b/c")


def test_store_then_load_gives_back_the_snapshot(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path / "cache")
    path = cache.store(snapshot())
    assert path.parent == tmp_path / "cache"
    assert cache.load("cgr.dev/chainguard/rust") == snapshot()
    assert cache.load("cgr.dev/chainguard/go") is None
    # No temporary file is left behind, and the file is readable by others (it is committed).
    assert [entry.name for entry in path.parent.iterdir()] == [path.name]
    assert path.stat().st_mode & 0o044 == 0o044 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"schema": 1, "image": "cgr.dev/chainguard/rust", "tags": {', "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"schema": 99}', "schema 99"),
        ('{"schema": 1, "image": "cgr.dev/chainguard/rust"}', "missing"),
    ],
)
def test_damaged_file_is_reported_and_treated_as_missing(
    tmp_path: Path, content: str, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = SnapshotCache(tmp_path)
    cache.path_for("cgr.dev/chainguard/rust").write_text(content)
    with caplog.at_level(logging.WARNING):
        assert cache.load("cgr.dev/chainguard/rust") is None
    assert problem in caplog.text
    assert cache.path_for("cgr.dev/chainguard/rust").name in caplog.text


def test_bad_digest_or_timestamp_in_the_file_is_damage() -> None:
    good = json.loads(snapshot_to_json(snapshot()))
    good["tags"]["latest"]["digest"] = "sha256:short"
    with pytest.raises(ValueError, match="no valid digest"):
        snapshot_from_json(json.dumps(good))
    good = json.loads(snapshot_to_json(snapshot()))
    good["tags"]["latest"]["changed"] = "March 18th"
    with pytest.raises(ValueError, match="RFC 3339"):
        snapshot_from_json(json.dumps(good))


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("changed", "March 18th", "tag 'latest': not an RFC 3339 timestamp: 'March 18th'"),
        ("changed", 1710720000, "tag 'latest' is not a timestamp"),
        ("first_seen", "yesterday", "ledger of tag 'latest': not an RFC 3339 timestamp"),
        ("first_seen", [], "ledger of tag 'latest' is not a timestamp"),
        ("fetched_at", "now", "fetched_at: not an RFC 3339 timestamp: 'now'"),
    ],
)
def test_a_bad_time_in_the_file_names_where_it_is(where: str, value: object, message: str) -> None:
    document = json.loads(snapshot_to_json(snapshot()))
    if where == "changed":
        document["tags"]["latest"]["changed"] = value
    elif where == "first_seen":
        document["ledger"] = {"latest": [{"digest": "sha256:" + "a" * 64, "first_seen": value}]}
    else:
        document[where] = value
    with pytest.raises(CacheFormatError) as raised:
        snapshot_from_json(json.dumps(document))
    assert str(raised.value).startswith(message)


def test_failed_write_leaves_the_previous_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "image.json"
    write_atomically(target, "old\n")

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, "new\n")
    assert target.read_text() == "old\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["image.json"]


def test_temporaries_abandoned_by_killed_writers_are_cleaned_up(tmp_path: Path) -> None:
    path = SnapshotCache(tmp_path).store(snapshot())
    old = path.with_name(f".{path.name}.999.abc.tmp")
    young = path.with_name(f".{path.name}.998.def.tmp")
    other = path.with_name(f".{cache_file_name('h.io/other')}.997.ghi.tmp")
    for temporary in (old, young, other):
        temporary.write_text("{")
    os.utime(old, (0, 0))
    os.utime(other, (0, 0))
    # The next build's first write sweeps the folder once: old ones of any image go.
    SnapshotCache(tmp_path).store(snapshot("h.io/third"))
    assert not old.exists() and not other.exists() and young.exists()


def test_skipped_tags_are_kept_and_checked_like_every_tag() -> None:

    skipping = snapshot()._replace(skipped=("1.0-r1", "1.0-r2"))
    text = snapshot_to_json(skipping)
    assert snapshot_from_json(text) == skipping
    # A file that skipped nothing is written as before.
    assert "skipped" not in snapshot_to_json(snapshot())
    document = json.loads(text)
    document["skipped"] = ["<script>"]
    with pytest.raises(CacheFormatError, match="'skipped'"):
        snapshot_from_json(json.dumps(document))


def test_every_fact_of_a_digest_has_its_codec() -> None:
    # A new fact is a field of DigestFacts and its codec in FACTS: the cache needs no more.
    assert [name for name, _ in FACTS] == [name for name in DigestFacts._fields if name != "unread"]
