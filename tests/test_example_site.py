"""The example site builds with no network from its committed cache and shows the seed's rows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.support.site import Build, mkdocs_build, table_rows

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example_site"
# ../shared/seed/rust-tags-history.md, the page this product replaces, kept beside the tests.
SEED = Path(__file__).parent / "data" / "rust-tags-history.md"
_SEED_ROW = re.compile(
    r"^\|\s*(?P<tags>(?:`[^`]+`\s*)+)\|\s*(?P<day>[^|]+?)\s*\|\s*`(?P<digest>sha256:[a-f0-9]{64})`"
)


def seed_tables() -> list[list[tuple[list[str], str, str]]]:
    """The seed page's tables: per table, rows of (tags, day as shown, digest)."""
    tables: list[list[tuple[list[str], str, str]]] = []
    in_table = False
    for line in SEED.read_text(encoding="utf-8").splitlines():
        match = _SEED_ROW.match(line)
        if match is None:
            in_table = in_table and line.startswith("|")
            continue
        if not in_table:
            tables.append([])
            in_table = True
        tags = re.findall(r"`([^`]+)`", match.group("tags"))
        tables[-1].append((tags, match.group("day"), match.group("digest")))
    return tables


def shown_tables(build: Build) -> list[list[tuple[list[str], str, str]]]:
    """The rust page's tables as built: per table, rows of (tags, day as shown, digest)."""
    tables = []
    for block in build.page("rust").select("div.taghistory"):
        rows = []
        for row in block.select("tbody tr"):
            tags, day, digest = row.find_all("td")
            rows.append(
                (
                    [code.get_text() for code in tags.find_all("code")],
                    day.get_text(),
                    digest.get_text(),
                )
            )
        tables.append(rows)
    return tables


def copy_example(tmp_path: Path, **plugin_options: object) -> Path:
    site = tmp_path / "example_site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("site"))
    config_path = site / "mkdocs.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["plugins"][0]["taghistory"].update(plugin_options)
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return config_path


def assert_same_rows_as_seed(build: Build) -> None:
    shown, seed = shown_tables(build), seed_tables()
    assert len(shown) == len(seed) == 2
    for shown_rows, seed_rows in zip(shown, seed, strict=True):
        assert [(sorted(tags), day, digest) for tags, day, digest in shown_rows] == [
            (sorted(tags), day, digest) for tags, day, digest in seed_rows
        ]


def test_example_site_builds_strict_and_shows_the_seed_rows(tmp_path: Path) -> None:
    build = mkdocs_build(copy_example(tmp_path), "--strict")
    assert build.returncode == 0, build.output
    assert_same_rows_as_seed(build)
    # The home page documents the directive; code keeps it as written.
    home = (build.site_dir / "index.html").read_text(encoding="utf-8")
    assert (
        home.count("&lt;&lt; tag_history &quot;rust&quot; &gt;&gt;")
        + home.count('&lt;&lt; tag_history "rust" &gt;&gt;')
        == 2
    )


def test_example_site_builds_with_no_network_at_all(tmp_path: Path) -> None:
    """With `offline` off, in a network namespace with no interfaces: the cache carries it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("util-linux's unshare is needed for the no-network build test")
    config_path = copy_example(tmp_path, offline=False)
    build = mkdocs_build(config_path, "--strict", prefix=(unshare, "-rn"))
    assert build.returncode == 0, build.output
    assert "cannot reach cgr.dev" in build.output
    assert_same_rows_as_seed(build)
    # Each time is in the page to the second, for readers who hover over the day.
    times = [changed for _, changed, _ in table_rows(build.page("rust"), 1)]
    assert times == [
        "2024-03-22T00:20:00Z",
        "2024-03-22T00:10:00Z",
        "2024-03-18T13:00:00Z",
        "2024-03-18T12:00:00Z",
    ]
