"""The example site: it reproduces the seed page from one directive, builds with no network
from its committed cache, gives the same bytes twice, and builds under Material, ProperDocs
and (through the extension alone) Zensical."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from tests.support.site import copy_example, mkdocs_build, table_rows

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example_site"
# ../shared/seed/rust-tags-history.md, the page this product replaces, kept beside the tests.
SEED = Path(__file__).resolve().parents[1] / "data" / "rust-tags-history.md"
_SEED_ROW = re.compile(
    r"^\|\s*(?P<tags>(?:`[^`]+`\s*)+)\|\s*(?P<day>[^|]+?)\s*\|\s*`(?P<digest>sha256:[a-f0-9]{64})`"
)
Row = tuple[list[str], str, str]


@dataclass
class Section:
    """A heading of the seed page (or the built page), its description and its table."""

    title: str
    description: str
    rows: list[Row]


def seed_sections() -> list[Section]:
    sections: list[Section] = []
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            sections.append(Section(line[4:].strip(), "", []))
        elif sections and (match := _SEED_ROW.match(line)):
            tags = re.findall(r"`([^`]+)`", match.group("tags"))
            sections[-1].rows.append((tags, match.group("day"), match.group("digest")))
        elif sections and line.strip() and not line.startswith("|") and not sections[-1].rows:
            sections[-1].description += line.strip()
    return sections


def built_sections(soup: BeautifulSoup) -> list[Section]:
    sections = []
    for heading in soup.find_all("h2"):
        description = heading.find_next_sibling("p")
        table = heading.find_next("div", class_="taghistory")
        assert table is not None, f"no table after {heading}"
        rows = [
            ([code.get_text() for code in tags.find_all("code")], day.get_text(), digest.get_text())
            for tags, day, digest in (row.find_all("td") for row in table.select("tbody tr"))
        ]
        title = heading.get_text().rstrip("¶").strip()
        sections.append(Section(title, description.get_text() if description else "", rows))
    return sections


def markdown_text(markdown: str) -> str:
    """What a reader sees of a line of Markdown: emphasis and code marks dropped."""
    return re.sub(r"\*\*|`", "", markdown)


def assert_reproduces_the_seed(soup: BeautifulSoup) -> None:
    seed, built = seed_sections(), built_sections(soup)
    assert (
        [section.title for section in built]
        == [section.title for section in seed]
        == [
            "Public Registry",
            "Private/Dedicated Registry",
        ]
    )
    for shown, expected in zip(built, seed, strict=True):
        assert shown.description == markdown_text(expected.description)
        assert [(sorted(tags), day, digest) for tags, day, digest in shown.rows] == [
            (sorted(tags), day, digest) for tags, day, digest in expected.rows
        ]


def test_one_directive_reproduces_the_seed_page_section_by_section(tmp_path: Path) -> None:
    build = mkdocs_build(copy_example(tmp_path), "--strict")
    assert build.returncode == 0, build.output
    soup = build.page("rust")
    assert_reproduces_the_seed(soup)
    # The section headings are in the table of contents, as hand-written ones would be.
    toc = [link.get_text().strip() for link in soup.select(".bs-sidebar a")]
    assert "Public Registry" in toc and "Private/Dedicated Registry" in toc
    # The home page documents the directive; code keeps it as written.
    home = (build.site_dir / "index.html").read_text(encoding="utf-8")
    assert home.count("&lt;&lt; tag_history") == 2
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
    assert zensical is not None, "zensical is a test extra: pip install -e '.[test]'"
    completed = subprocess.run(
        [zensical, "build"], cwd=site, capture_output=True, text=True, check=False, timeout=300
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    soup = BeautifulSoup((site / "site" / "index.html").read_text(), "html.parser")
    rows = table_rows(soup)
    assert [digest[:15] for _, _, digest in rows] == ["sha256:72bc1c12", "sha256:086a9a3c"]
