"""The history as data: each image's moves, its JSON document and its Atom feed. In-process,
on snapshots made here."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import pytest

from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.feeds import (
    FEED_SCHEMA_VERSION,
    MAX_FEED_ENTRIES,
    Published,
    SiteInfo,
    atom_feed,
    feed_paths,
    image_document,
    publish,
)
from mkdocs_taghistory.history import DigestFacts, Sighting, TagSnapshot, TagState, record_sightings
from mkdocs_taghistory.moves import tag_moves
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site_options import settings_from_options

ATOM = "{http://www.w3.org/2005/Atom}"
IMAGE = "registry.example/acme/widget"
D1, D2, D3 = ("sha256:" + digit * 64 for digit in "123")
SIGNATURE = "sha256-" + "1" * 64 + ".sig"


def moment(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, tzinfo=UTC)


def snapshot() -> TagSnapshot:
    """``latest`` went D1 (3rd) → D2 (10th) → D1 (20th); ``1.0`` has stayed on D1; ``0.9`` is
    gone; a signature tag stands beside them."""
    return TagSnapshot(
        image=IMAGE,
        fetched_at=moment(21),
        tags={
            "latest": TagState(D1, moment(20)),
            "1.0": TagState(D1, None),
            SIGNATURE: TagState(D3, moment(19)),
        },
        digests={D1: DigestFacts(platforms=("linux/amd64", "linux/arm64"))},
        ledger={
            "latest": (Sighting(D1, moment(3)), Sighting(D2, moment(10)), Sighting(D1, moment(20))),
            "1.0": (Sighting(D1, moment(3)),),
            "0.9": (Sighting(D3, moment(1)),),
        },
    )


def settings(tmp_path: Path, **options: object) -> Settings:
    return settings_from_options(options, tmp_path)


def published(snap: TagSnapshot, page: str | None = "widget/") -> Published:
    return Published(parse_reference(snap.image, "x.example"), ImageResult(snap), page)


def test_moves_come_from_the_ledger_newest_first_and_a_return_is_a_move_of_its_own() -> None:
    moves = [
        (move.tag, move.digest, move.at, move.until, move.current, move.occurrence)
        for move in tag_moves(snapshot())
    ]
    assert moves == [
        ("latest", D1, moment(20), None, True, 2),
        (SIGNATURE, D3, moment(19), None, True, 1),
        ("latest", D2, moment(10), moment(20), False, 1),
        ("1.0", D1, moment(3), None, True, 1),
        ("latest", D1, moment(3), moment(10), False, 1),
        ("0.9", D3, moment(1), None, False, 1),
    ]


def test_a_cache_without_a_ledger_still_gives_each_tags_current_move() -> None:
    bare = snapshot()._replace(ledger={})
    moves = [(move.tag, move.at, move.current) for move in tag_moves(bare)]
    # 1.0's time is unknown: it comes last.
    assert moves == [
        ("latest", moment(20), True),
        (SIGNATURE, moment(19), True),
        ("1.0", None, True),
    ]


def test_the_feed_is_valid_atom_newest_first_without_the_tags_the_tables_hide(
    tmp_path: Path,
) -> None:
    text = atom_feed(settings(tmp_path), published(snapshot()), SiteInfo("Docs"))
    parsed = feedparser.parse(text)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    titles = [entry.title for entry in parsed.entries]
    assert titles == [
        "latest \u2192 sha256:111111111111\u2026 on March 20th, 2024",
        "latest \u2192 sha256:222222222222\u2026 on March 10th, 2024",
        "1.0 \u2192 sha256:111111111111\u2026 on March 3rd, 2024",
        "latest \u2192 sha256:111111111111\u2026 on March 3rd, 2024",
        "0.9 \u2192 sha256:333333333333\u2026 on March 1st, 2024",
    ]
    assert len({entry.id for entry in parsed.entries}) == len(titles)
    # RFC 4287's required elements, read with an XML parser rather than a forgiving one.
    feed = ET.fromstring(text.encode())
    for element in ("id", "title", "updated", "author/name"):
        assert feed.find(ATOM + element.replace("/", "/" + ATOM)) is not None, element
    for entry in feed.findall(ATOM + "entry"):
        assert all(entry.find(ATOM + name) is not None for name in ("id", "title", "updated"))
    assert feed.findtext(ATOM + "updated") == "2024-03-20T00:00:00Z"
    newest = parsed.entries[0]
    assert f"Pull: {IMAGE}@{D1}" in newest.summary
    assert "Platforms: linux/amd64, linux/arm64" in newest.summary
    assert newest.link == "../../../widget/"


def test_a_new_move_adds_one_entry_on_top_and_every_earlier_entry_keeps_its_id(
    tmp_path: Path,
) -> None:
    site = SiteInfo("Docs")
    before = feedparser.parse(atom_feed(settings(tmp_path), published(snapshot()), site))
    # The next fetch sees latest on D3: a move, with its own entry.
    moved = TagSnapshot(
        IMAGE, moment(25), {"latest": TagState(D3, moment(24)), "1.0": TagState(D1, None)}
    )
    after_snapshot = record_sightings(moved, snapshot())
    after = feedparser.parse(atom_feed(settings(tmp_path), published(after_snapshot), site))
    assert after.entries[0].title.startswith("latest \u2192 sha256:333333333333")
    assert [entry.id for entry in after.entries[1:]] == [entry.id for entry in before.entries]


def test_the_feed_keeps_the_newest_entries_only(tmp_path: Path) -> None:
    many = TagSnapshot(
        IMAGE,
        moment(28),
        {f"v{n}": TagState(D1, moment(1) + timedelta(minutes=n)) for n in range(150)},
    )
    parsed = feedparser.parse(atom_feed(settings(tmp_path), published(many), SiteInfo("Docs")))
    assert len(parsed.entries) == MAX_FEED_ENTRIES
    assert parsed.entries[0].title.startswith("v149 ")


def test_the_json_document_holds_every_column_of_the_table_and_the_moves(tmp_path: Path) -> None:
    document = image_document(settings(tmp_path), published(snapshot()), SiteInfo("Docs"))
    assert document["schema"] == FEED_SCHEMA_VERSION
    assert document["image"] == IMAGE
    assert document["fetched_at"] == "2024-03-21T00:00:00Z"
    assert document["from_cache"] is False
    assert document["columns"] == [
        "tags",
        "last_changed",
        "digest",
        "pull",
        "architectures",
        "platforms",
        "signatures",
        "source",
    ]
    assert document["rows"] == [
        {
            "tags": ["1.0", "latest"],
            "last_changed": "2024-03-20T00:00:00Z",
            "digest": D1,
            "pull": f"{IMAGE}@{D1}",
            "architectures": ["linux/amd64", "linux/arm64"],
            # cosign's .sig tag beside the digest (hidden from the tags) says it is signed.
            "signatures": ["signature"],
            # What the fetch did not learn (no table asked): empty, or null for one value.
            "platforms": [],
            "source": None,
        }
    ]
    assert document["moves"][0] == {
        "tag": "latest",
        "digest": D1,
        "at": "2024-03-20T00:00:00Z",
        "until": None,
        "current": True,
    }
    assert document["page"] == "../../../widget/"
    assert document["feed"] == "widget.atom"


def test_with_the_sites_address_every_link_is_absolute(tmp_path: Path) -> None:
    site = SiteInfo("Docs", "https://docs.example/product/")
    document = image_document(settings(tmp_path), published(snapshot()), site)
    assert document["page"] == "https://docs.example/product/widget/"
    assert document["feed"] == (
        "https://docs.example/product/taghistory/registry.example/acme/widget.atom"
    )


def test_published_files_are_the_same_bytes_each_time_and_only_for_images_with_tags(
    tmp_path: Path,
) -> None:
    images = [published(snapshot()), published(snapshot()._replace(image="registry.example/a/b"))]
    images.append(Published(parse_reference("registry.example/gone", "x"), ImageResult(None)))
    first = publish(tmp_path / "one", settings(tmp_path), images, SiteInfo("Docs"))
    second = publish(tmp_path / "two", settings(tmp_path), images, SiteInfo("Docs"))
    assert [path.relative_to(tmp_path / "one") for path in first] == [
        Path("taghistory/registry.example/acme/widget.json"),
        Path("taghistory/registry.example/acme/widget.atom"),
        Path("taghistory/registry.example/a/b.json"),
        Path("taghistory/registry.example/a/b.atom"),
    ]
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes()
    json.loads(first[0].read_text(encoding="utf-8"))


def test_site_documents_skip_the_disk_flush_a_cache_file_pays_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A built site is written again by the next build: waiting for the disk on each of its
    # files is build time for nothing. A cache file must survive a crash, so it waits.
    flushed: list[int] = []
    monkeypatch.setattr(os, "fsync", flushed.append)
    written = publish(tmp_path / "site", settings(tmp_path), [published(snapshot())], SiteInfo("D"))
    assert len(written) == 2 and all(path.is_file() for path in written)
    assert flushed == []
    SnapshotCache(tmp_path / "cache").store(snapshot())
    assert len(flushed) == 1
    assert [path.name for path in (tmp_path / "site" / "taghistory").rglob(".*")] == []


def test_the_feeds_option_off_publishes_nothing(tmp_path: Path) -> None:
    off = settings(tmp_path, feeds=False)
    assert publish(tmp_path / "site", off, [published(snapshot())], SiteInfo("Docs")) == []
    assert not (tmp_path / "site").exists()


def test_a_registry_port_never_reaches_a_file_name() -> None:
    paths = feed_paths(parse_reference("127.0.0.1:5000/acme/widget", "x"))
    assert paths.atom == "taghistory/127.0.0.1_5000/acme/widget.atom"
    assert feed_paths(parse_reference("[::1]:5000/a", "x")).json == "taghistory/___1__5000/a.json"
