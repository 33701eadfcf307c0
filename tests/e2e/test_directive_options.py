"""Every directive option and site layout option, in real builds against the real registry;
and every bad value, as a build error with its page and line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from mkdocs_taghistory.cache import cache_file_name, snapshot_to_json
from mkdocs_taghistory.cli import main
from mkdocs_taghistory.history import TagSnapshot, TagState
from tests.support.fixtures import WIDGET, SeededRegistry
from tests.support.site import Build, mkdocs_build, write_site

FETCHED = datetime(2024, 3, 22, 12, tzinfo=UTC)
DIGEST_A, DIGEST_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def tables(soup: BeautifulSoup) -> list[tuple[list[str], list[list[str]]]]:
    """Each tag table: its headings, and its rows as the text of their cells."""
    return [
        (
            [th.get_text() for th in block.select("thead th")],
            [[td.get_text() for td in row.find_all("td")] for row in block.select("tbody tr")],
        )
        for block in soup.select("div.taghistory")
    ]


@pytest.fixture(scope="module")
def options_build(
    seeded_registry: SeededRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Build:
    host = seeded_registry.server.host
    widget = f"{host}/{WIDGET}"
    page = (
        "\n\n".join(
            [
                "# Options",
                f'<< tag_history "{widget}" limit=3 >>',
                f'<< tag_history "{widget}" limit=2 sort=oldest columns="tags,pull" >>',
                f'<< tag_history "{widget}" include="^1\\.5[0-9]\\.0$" sort=tag columns="tags" >>',
                f'<< tag_history "{widget}" exclude="^1\\." columns="tags,last_changed" '
                'date_format="%Y-%m-%d %H:%M" >>',
                f'<< tag_history "{widget}" max_age=5h columns="tags" >>',
                f'<< tag_history "gadget" registry="{host}/acme" columns="digest" >>',
            ]
        )
        + "\n"
    )
    root = tmp_path_factory.mktemp("options")
    build = mkdocs_build(write_site(root, {"options.md": page}, {"cache": False}), "--strict")
    assert build.returncode == 0, build.output
    return build


def test_limit_keeps_the_newest_rows(options_build: Build, seeded_registry: SeededRegistry) -> None:
    _, rows = tables(options_build.page("options"))[0]
    newest = sorted(seeded_registry.widget, key=lambda image: image.created, reverse=True)[:3]
    assert [row[2] for row in rows] == [image.digest for image in newest]


def test_oldest_first_with_a_pull_column(
    options_build: Build, seeded_registry: SeededRegistry
) -> None:
    headings, rows = tables(options_build.page("options"))[1]
    assert headings == ["Tag (s)", "Pull"]
    oldest = seeded_registry.widget[:2]
    assert [row[1] for row in rows] == [
        f"{seeded_registry.widget_reference}@{image.digest}" for image in oldest
    ]


def test_include_and_sort_by_tag(options_build: Build) -> None:
    _, rows = tables(options_build.page("options"))[2]
    assert [row[0] for row in rows] == [f"1.{number}.0" for number in range(50, 60)]


def test_exclude_and_date_format(options_build: Build, seeded_registry: SeededRegistry) -> None:
    headings, rows = tables(options_build.page("options"))[3]
    assert headings == ["Tag (s)", "Last Changed"]
    latest = seeded_registry.widget[-1]
    assert rows == [["latest", latest.created.strftime("%Y-%m-%d %H:%M")]]


def test_max_age_counts_back_from_the_fetch(options_build: Build) -> None:
    # Digests are an hour apart and the fetch is years later: nothing is 5 hours old.
    assert tables(options_build.page("options"))[4] == ([], [])
    # The page says why the table is empty, not that the image has no tags.
    assert "No tag changed in the last 5 hours." in options_build.page("options").get_text()


def test_registry_option_places_a_bare_name(
    options_build: Build, seeded_registry: SeededRegistry
) -> None:
    _, rows = tables(options_build.page("options"))[5]
    assert sorted(row[0] for row in rows) == sorted(
        image.digest for image in seeded_registry.gadget
    )


def test_sections_per_registry_with_headings_in_the_toc_and_an_empty_one(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    config = write_site(
        tmp_path,
        {"gadget.md": '# Gadget\n\n<< tag_history "gadget" >>\n'},
        {
            "cache": False,
            "registries": [
                {"title": "Public", "registry": f"{host}/acme", "description": "For **all**."},
                {"title": "Private", "registry": f"{host}/private"},
            ],
            "empty_message": "Currently, there are no {title} versions of this image available.",
            "heading_level": 2,
        },
    )
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    soup = build.page("gadget")
    assert [h.get_text() for h in soup.find_all("h2")] == ["Public", "Private"]
    strong = soup.find("strong")
    assert strong is not None and strong.get_text() == "all"
    public, private = soup.select("div.taghistory")
    assert len(public.select("tbody tr")) == 3
    assert private.get_text().strip() == (
        "Currently, there are no Private versions of this image available."
    )
    assert {a["href"] for a in soup.select(".bs-sidebar a")} >= {"#public", "#private"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("limit=0", "limit must be a whole number of at least 1, not '0'"),
        ("limt=3", "unknown option 'limt'; did you mean 'limit'?"),
        (
            "max_age=3x",
            "max_age: '3x' is not a duration; write seconds, or a number and s, m, h, d or w",
        ),
        ('include="("', "include='(' is not a regular expression"),
        ('registry="Bad Host/x"', "registry='Bad Host/x'"),
        ('columns="tags,digets"', "unknown column 'digets'; did you mean 'digest'?"),
        ('columns="tags,tags"', "columns='tags,tags' names a column twice"),
        ("sort=random", "sort must be one of newest, oldest, tag, not 'random'"),
        ('date_format=" "', "date format ' ' gives empty text"),
    ],
)
def test_bad_option_fails_the_build_with_page_and_line(
    tmp_path: Path, options: str, message: str
) -> None:
    page = f'# T\n\nText.\n\n<< tag_history "rust" {options} >>\n'
    build = mkdocs_build(write_site(tmp_path, {"p.md": page}, {"offline": True}))
    assert build.returncode != 0
    assert f"docs/p.md:5: {message}" in build.output, build.output


def test_a_section_whose_registry_lacks_the_image_builds_offline_and_refreshes(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    options = {
        "cache_dir": "cache",
        "ttl": 0,
        "registries": [
            {"title": "Public", "registry": f"{host}/acme"},
            {"title": "Private", "registry": f"{host}/private"},
        ],
    }
    config = write_site(tmp_path, {"g.md": '<< tag_history "gadget" >>\n'}, options)
    refreshed = CliRunner().invoke(main, ["refresh", "-f", str(config)])
    assert refreshed.exit_code == 0, refreshed.output
    # The registry's "no such image" was kept: an offline build needs nothing more.
    build = mkdocs_build(config, "--strict", env={"TAGHISTORY_OFFLINE": "1"})
    assert build.returncode == 0, build.output
    public, private = build.page("g").select("div.taghistory")
    assert len(public.select("tbody tr")) == 3
    assert "no versions of this image available in the Private" in private.get_text()


def test_a_catastrophic_include_ends_the_build_at_page_and_line(tmp_path: Path) -> None:
    image = "registry.example/acme/widget"
    tags = {"a" * 40: TagState(DIGEST_A, FETCHED), "latest": TagState(DIGEST_B, FETCHED)}
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / cache_file_name(image)).write_text(
        snapshot_to_json(TagSnapshot(image=image, fetched_at=FETCHED, tags=tags))
    )
    page = f'# Widget\n\n<< tag_history "{image}" include="(a|aa)+\\1c" >>\n'
    config = write_site(tmp_path, {"w.md": page}, {"cache_dir": "cache", "offline": True})
    build = mkdocs_build(config)
    assert build.returncode != 0
    assert "Traceback" not in build.output
    (line,) = [line for line in build.output.splitlines() if "w.md:3" in line]
    assert "took more than" in line
