"""The history as data, through real builds: each image's JSON document and Atom feed
published with a MkDocs site and a Sphinx project, and linked from their pages."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser  # type: ignore[import-untyped]

from tests.support.site import copy_example, mkdocs_build, table_rows
from tests.support.sphinx_project import copy_example_sphinx, sphinx_build

PUBLIC, PRIVATE = "cgr.dev/chainguard/rust", "cgr.dev/chainguard-private/rust"
D72 = "sha256:72bc1c12c021490164a7c20efc17ae14249559c2550edbb00c1583584ef55751"


def feeds_of(root: Path, image: str) -> tuple[dict[str, object], feedparser.FeedParserDict]:
    base = root / "taghistory" / image
    document = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
    return document, feedparser.parse(base.with_suffix(".atom").read_text(encoding="utf-8"))


def test_a_mkdocs_build_publishes_each_images_feeds_and_its_page_links_them(
    tmp_path: Path,
) -> None:
    build = mkdocs_build(copy_example(tmp_path), "--strict")
    assert build.returncode == 0, build.output
    soup = build.page("rust")
    head = [
        str(link["href"])
        for link in soup.select('head link[rel="alternate"][type="application/atom+xml"]')
    ]
    assert head == [f"../taghistory/{PUBLIC}.atom", f"../taghistory/{PRIVATE}.atom"]
    under = [str(link["href"]) for link in soup.select(".taghistory-feeds a")]
    assert len(under) == 4
    for href in head + under:
        assert (build.site_dir / "rust" / href).resolve().is_file(), href
    document, feed = feeds_of(build.site_dir, PRIVATE)
    # The same rows as the page's table, whole values, every column.
    rows = document["rows"]
    assert isinstance(rows, list)
    shown = table_rows(soup, 1)
    assert [(row["tags"], row["last_changed"]) for row in rows] == [
        (tags, changed) for tags, changed, _ in shown
    ]
    assert all(
        text.startswith(row["digest"]) for row, (_, _, text) in zip(rows, shown, strict=True)
    )
    assert rows[0]["pull"] == f"{PRIVATE}@{D72}"
    assert document["from_cache"] is True
    assert feed.bozo == 0 and feed.version == "atom10"
    assert [entry.title for entry in feed.entries[:2]] == [
        "1 \u2192 sha256:72bc1c12c021\u2026 on March 22nd, 2024",
        "1.77 \u2192 sha256:72bc1c12c021\u2026 on March 22nd, 2024",
    ]
    assert len(feed.entries) == 12
    # The feed links the first page that shows the image (in the site's file order).
    page = build.site_dir / "taghistory" / "cgr.dev" / "chainguard-private" / feed.feed.link
    assert f"taghistory/{PRIVATE}.atom" in (page / "index.html").read_text(encoding="utf-8")


def test_with_feeds_off_a_build_publishes_and_links_nothing(tmp_path: Path) -> None:
    build = mkdocs_build(copy_example(tmp_path, feeds=False), "--strict")
    assert build.returncode == 0, build.output
    assert not (build.site_dir / "taghistory").exists()
    soup = build.page("rust")
    assert not soup.select('link[rel="alternate"]') and not soup.select(".taghistory-feeds")


def test_a_sphinx_html_build_publishes_the_same_data_and_links_it(tmp_path: Path) -> None:
    build = sphinx_build(copy_example_sphinx(tmp_path), "-W")
    assert build.returncode == 0, build.output
    page = build.page("rust")
    head = [str(link["href"]) for link in page.select('link[rel="alternate"]')]
    assert head == [f"taghistory/{PUBLIC}.atom", f"taghistory/{PRIVATE}.atom"]
    under = [str(link["href"]) for link in page.select(".taghistory-feeds a")]
    assert under[:2] == [f"taghistory/{PUBLIC}.atom", f"taghistory/{PUBLIC}.json"]
    mkdocs = mkdocs_build(copy_example(tmp_path / "mkdocs"))
    for image in (PUBLIC, PRIVATE):
        sphinx_document, feed = feeds_of(build.out_dir, image)
        mkdocs_document, _ = feeds_of(mkdocs.site_dir, image)
        assert feed.bozo == 0
        # One cache, one document: only the page it links differs.
        assert {**sphinx_document, "page": ""} == {**mkdocs_document, "page": ""}
