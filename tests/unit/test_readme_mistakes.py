"""README's "Common mistakes" says what the code says, word for word: each message there is made
here by the code that makes it in a build, and compared, so the section never drifts.

Each item of the section opens with the mistake as written, in a code span, and shows what the
user is told in a ``text`` block under it. Every item has its case here and every case its item.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.history import TagSnapshot, TagState, record_sightings
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.site import SitePlan, plan_site
from mkdocs_taghistory.site_options import settings_from_options
from mkdocs_taghistory.sphinx.config_values import unknown_values
from mkdocs_taghistory.sphinx.sources import quoted_image, scan_rst

README = Path(__file__).resolve().parents[2] / "README.md"
PAGE = "docs/index.md"
ABOVE = "# Widget\n\nWhat it is.\n\n"
"""What stands above the mistake in its page: it is on line 5."""
FETCHED = datetime(2024, 3, 22, 12, tzinfo=UTC)
SECTIONS = [
    {"title": "Public", "registry": "cgr.dev/chainguard"},
    {"title": "Private", "registry": "cgr.dev/chainguard-private"},
]


def plan(written: str, **options: object) -> SitePlan:
    pages = [(PAGE, ABOVE + written + "\n"), ("docs/widget.md", '<< tag_history "widget" >>\n')]
    return plan_site(pages, settings_from_options(options, Path.cwd()))


def near_miss(written: str) -> list[str]:
    return [str(plan(written).near_misses[0])]


def error(written: str) -> list[str]:
    with pytest.raises(DirectiveError) as raised:
        plan(written)
    return str(raised.value).splitlines()


def shown(name: str) -> ImageResult:
    """The image ``name`` with the tags ``latest``, ``latest-dev`` and ``1.2``."""
    tags = {tag: TagState("sha256:" + "a" * 64, FETCHED) for tag in ("latest", "latest-dev", "1.2")}
    return ImageResult(record_sightings(TagSnapshot(name, FETCHED, tags), None))


def doubt(written: str, **options: object) -> list[str]:
    planned = plan(written, **options)
    results = {
        reference: shown(reference.name)
        if reference.name.endswith("/widget")
        else ImageResult(None, problem="no such repository", not_found=True)
        for reference in planned.references
    }
    return [str(found) for found in planned.doubts(results)]


def sphinx(level: str, reason: str, where: str = "") -> list[str]:
    """A line as Sphinx prints it (``where`` is ``FILE:LINE: `` or nothing)."""
    return [f"{where}{level}: {reason} [taghistory]"]


def rst_near_miss(written: str) -> list[str]:
    (found,) = scan_rst("Widget\n======\n\n" + written + "\n").near_misses
    return sphinx("WARNING", found.reason, f"index.rst:{found.line}: ")


CASES: dict[str, Callable[[], list[str]]] = {
    '<< tag_histroy "widget" >>': lambda: near_miss('<< tag_histroy "widget" >>'),
    '< tag_history "widget" >>': lambda: near_miss('< tag_history "widget" >>'),
    "<< tag_history 'widget' >>": lambda: error("<< tag_history 'widget' >>"),
    '<< tag_history "widget" limt=2 srot=tag >>': lambda: error(
        '<< tag_history "widget" limt=2 srot=tag >>'
    ),
    '<< tag_history "widget" tag=lates >>': lambda: doubt('<< tag_history "widget" tag=lates >>'),
    '<< tag_history "widgit" >>': lambda: doubt('<< tag_history "widgit" >>', registries=SECTIONS),
    'taghistory_tll = "6h"': lambda: sphinx("WARNING", *unknown_values({"taghistory_tll": "6h"})),
    '.. tag-history:: "widget"': lambda: sphinx(
        "ERROR", quoted_image('"widget"', myst=False) or "", "index.rst:4: "
    ),
    ".. taghistory:: widget": lambda: rst_near_miss(".. taghistory:: widget"),
}

_ITEM = re.compile(
    r"^- `(?P<written>[^`]+)`.*?\n\n  ```text\n(?P<told>.*?)\n  ```$", re.MULTILINE | re.DOTALL
)


def readme_items() -> dict[str, list[str]]:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Common mistakes\n")
    section = text[start : text.index("\n## ", start + 1)]
    return {
        item.group("written"): [line.removeprefix("  ") for line in item.group("told").split("\n")]
        for item in _ITEM.finditer(section)
    }


def test_every_common_mistake_in_the_readme_has_its_case_and_every_case_its_item() -> None:
    assert sorted(readme_items()) == sorted(CASES)


@pytest.mark.parametrize("written", sorted(CASES))
def test_the_readme_says_what_the_code_says(written: str) -> None:
    told = CASES[written]()
    assert readme_items().get(written) == told, "\n".join(["README should say:", *told])
