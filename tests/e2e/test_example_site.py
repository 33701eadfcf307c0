"""The example site: it reproduces the seed page from one directive, builds with no network
from its committed cache, gives the same bytes twice, and builds under Material, ProperDocs
and (through the extension alone) Zensical."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from tests.support.seed import ROOT, assert_reproduces_the_seed
from tests.support.site import copy_example, mkdocs_build, modules_loaded_by_build, table_rows

EXAMPLE = ROOT / "example_site"


def test_one_directive_reproduces_the_seed_page_section_by_section(tmp_path: Path) -> None:
    build = mkdocs_build(copy_example(tmp_path), "--strict")
    assert build.returncode == 0, build.output
    soup = build.page("rust")
    assert_reproduces_the_seed(soup)
    # The section headings are in the table of contents, as hand-written ones would be.
    # (Material's "Table of contents", the secondary navigation.)
    toc = [link.get_text().strip() for link in soup.select("nav.md-nav--secondary a")]
    assert "Public Registry" in toc and "Private/Dedicated Registry" in toc
    # The home page documents the directive; code keeps it as written.
    home = (build.site_dir / "index.html").read_text(encoding="utf-8")
    assert home.count("&lt;&lt; tag_history") == 2
    # A digest's short form, as people paste it from `docker images`, is a word of the search
    # index (which splits on spaces and dashes only), in the section of its table.
    index = json.loads((build.site_dir / "search" / "search_index.json").read_text("utf-8"))
    section = next(
        doc for doc in index["docs"] if doc["location"].endswith("#privatededicated-registry")
    )
    # (Material's index keeps the markup, which its search strips before it splits.)
    text = re.sub(r"<[^>]+>", " ", section["text"])
    words = set(re.split(index["config"]["separator"], text))
    assert {"sha256:72bc1c12c021", "72bc1c12c021"} <= words
    # Built offline by choice: the notes say when, and claim no failure.
    notes = [note.get_text() for note in soup.select(".taghistory-as-of")]
    assert notes and all(note == "Tags as of March 22nd, 2024." for note in notes)


def test_example_site_builds_with_no_network_at_all(tmp_path: Path) -> None:
    """With `offline` off, in a network namespace with no interfaces: the cache carries it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("util-linux's unshare is needed for the no-network build test")
    config_path = copy_example(tmp_path, offline=False, retries=0)
    build = mkdocs_build(config_path, "--strict", prefix=(unshare, "-rn"))
    assert build.returncode == 0, build.output
    assert "cannot reach cgr.dev" in build.output
    assert_reproduces_the_seed(build.page("rust"))
    # Each time is in the page to the second, for readers who hover over the day.
    times = [changed for _, changed, _ in table_rows(build.page("rust"), 1)]
    assert times == [
        "2024-03-22T00:20:00Z",
        "2024-03-22T00:10:00Z",
        "2024-03-18T13:00:00Z",
        "2024-03-18T12:00:00Z",
    ]
    notes = [note.get_text() for note in build.page("rust").select(".taghistory-as-of")]
    assert notes and all(
        note == "The registry could not be reached; tags as of March 22nd, 2024." for note in notes
    )


def test_the_same_cache_gives_byte_identical_pages(tmp_path: Path) -> None:
    config_path = copy_example(tmp_path)
    first = mkdocs_build(config_path)
    assert first.returncode == 0, first.output
    pages = {
        name: (first.site_dir / name / "index.html").read_bytes() for name in ("rust", "options")
    }
    second = mkdocs_build(config_path)
    assert second.returncode == 0, second.output
    for name, content in pages.items():
        assert (second.site_dir / name / "index.html").read_bytes() == content


def test_example_site_builds_strict_with_material(tmp_path: Path) -> None:
    config_path = copy_example(tmp_path)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["theme"] = {"name": "material"}
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    build = mkdocs_build(config_path, "--strict")
    assert build.returncode == 0, build.output
    soup = build.page("rust")
    assert_reproduces_the_seed(soup)
    toc = [link.get_text().strip() for link in soup.select("nav.md-nav--secondary a")]
    assert "Public Registry" in toc


def test_example_site_builds_with_properdocs(tmp_path: Path) -> None:
    config_path = copy_example(tmp_path)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["theme"] = {"name": "mkdocs"}
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    build = mkdocs_build(config_path, "--strict", generator="properdocs")
    assert build.returncode == 0, build.output
    assert_reproduces_the_seed(build.page("rust"))


def test_extension_alone_works_under_zensical(tmp_path: Path) -> None:
    """Zensical runs `markdown_extensions` but no MkDocs plugins: the extension is enough."""
    site = tmp_path / "zensical"
    (site / "docs").mkdir(parents=True)
    shutil.copytree(EXAMPLE / ".cache", site / ".cache")
    (site / "docs" / "index.md").write_text(
        '# rust\n\n<< tag_history "cgr.dev/chainguard-private/rust" limit=2 >>\n'
    )
    (site / "mkdocs.yml").write_text(
        "site_name: zensical\n"
        "markdown_extensions:\n"
        "  - mkdocs_taghistory.extension:\n"
        "      offline: true\n"
    )
    zensical = shutil.which("zensical", path=str(Path(sys.executable).parent))
    assert zensical is not None, "zensical is in the test group: scripts/test installs it"
    completed = subprocess.run(
        [zensical, "build"], cwd=site, capture_output=True, text=True, check=False, timeout=300
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    soup = BeautifulSoup((site / "site" / "index.html").read_text(), "html.parser")
    rows = table_rows(soup)
    assert [digest[:15] for _, _, digest in rows] == ["sha256:72bc1c12", "sha256:086a9a3c"]


def test_a_build_from_the_cache_imports_neither_the_http_code_nor_sphinx(tmp_path: Path) -> None:
    """A build whose tables all come from the cache costs no more than its page without the
    plugin: no httpx, no vendor, no TLS (the pattern engine only for the example's patterns);
    and the MkDocs path never loads the Sphinx extension's dependencies."""
    loaded = modules_loaded_by_build(
        EXAMPLE / "mkdocs.yml",
        [
            *("sphinx", "docutils", "myst_parser", "httpx", "httpcore", "h2", "ssl"),
            *("mkdocs_taghistory.registry.oci", "mkdocs_taghistory.registry.session"),
        ],
        site_dir=tmp_path / "site",
        then="import mkdocs_taghistory.cli, mkdocs_taghistory.extension",
    )
    assert loaded == []
    assert (tmp_path / "site" / "rust" / "index.html").is_file()
