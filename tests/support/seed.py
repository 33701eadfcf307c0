"""The seed page (Chainguard's rust tag history, ../shared/seed/rust-tags-history.md, kept
beside the tests) and the check that a built page reproduces it, section by section: for the
MkDocs example site and its Sphinx twin alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
# ../shared/seed/rust-tags-history.md, the page this product replaces, kept beside the tests.
SEED = ROOT / "tests" / "data" / "rust-tags-history.md"
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
