"""No mistake passes silently, every count adds up: the wiring of what the unit tests check
(tests/unit/test_mistakes.py, test_counts.py) into real builds and the command."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.cli import main
from mkdocs_taghistory.history import TagSnapshot, TagState
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.site_options import settings_from_options
from mkdocs_taghistory.timestamps import utc_now
from tests.support.registry_server import free_port
from tests.support.site import mkdocs_build, write_site
from tests.support.sphinx_project import sphinx_build, write_project

DIGEST = "sha256:" + "a" * 64


def test_a_near_miss_fails_a_strict_build_and_code_stays_as_written(tmp_path: Path) -> None:
    page = (
        "# Widget\n\n"
        '<< tag_histroy "widget" >>\n\n'
        '```markdown\n<< tag_histroy "widget" >>\n```\n\n'
        'Inline: `< tag_history "widget" >>`.\n'
    )
    # Without -q: MkDocs drops warnings it does not print before --strict counts them.
    build = mkdocs_build(write_site(tmp_path, {"index.md": page}, {"offline": True}), "--strict")
    assert build.returncode != 0
    warnings = [line for line in build.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1, build.output
    assert "docs/index.md:3: 'tag_histroy' is not the directive's name" in warnings[0]
    assert 'write << tag_history "widget" >>' in warnings[0]
    assert "Aborted with 1 warnings in strict mode" in build.output
    # The page was written: the line is there as text, the code as code.
    html = (build.site_dir / "index.html").read_text(encoding="utf-8")
    assert "&lt;&lt; tag_histroy" in html and 'class="taghistory' not in html


SECTIONS = [
    {"title": "Public", "registry": "registry.example/acme"},
    {"title": "Private", "registry": "registry.example/private"},
]


def test_sphinx_warns_of_a_misspelt_value_and_near_misses_and_names_every_problem(
    tmp_path: Path,
) -> None:
    project = write_project(
        tmp_path / "docs",
        {
            "near.rst": "Near\n====\n\n.. taghistory:: widget\n\n.. tag-history: widget\n",
            "near_md.md": "# Near\n\n```tag-history widget\n```\n",
            "quoted.rst": 'Quoted\n======\n\n.. tag-history:: "widget"\n   :limt: 2\n',
            "widget.rst": "Widget\n======\n\n.. tag-history:: widget\n",
            "typo.rst": "Typo\n====\n\n.. tag-history:: widgit\n",
        },
        {
            "taghistory_tll": "6h",
            "taghistory_offline": True,
            "taghistory_cache_dir": "cache",
            "taghistory_registries": SECTIONS,
        },
    )
    # What the cache knows: both registries have widget, neither has widgit.
    cache, now = SnapshotCache(project / "cache"), utc_now()
    for section in SECTIONS:
        registry = section["registry"]
        cache.store(TagSnapshot(f"{registry}/widget", now, {"latest": TagState(DIGEST, now)}))
        cache.store(TagSnapshot(f"{registry}/widgit", now, {}, missing=True))
    build = sphinx_build(project, "-W", "--keep-going")
    assert build.returncode != 0
    said = build.output
    assert (
        "WARNING: unknown configuration value 'taghistory_tll' in conf.py, ignored; "
        "did you mean 'taghistory_ttl'?"
    ) in said
    assert "near.rst:4: WARNING: unknown directive 'taghistory'; write .. tag-history:: widget" in (
        said
    )
    assert "near.rst:6: WARNING: '.. tag-history: widget' is a comment" in said
    assert "near_md.md:3: WARNING: a code block, not a directive" in said
    assert (
        "quoted.rst:4: ERROR: the image is written without quotes in a Sphinx directive: "
        ".. tag-history:: widget"
    ) in said
    assert "quoted.rst:4: ERROR: unknown option 'limt'; did you mean 'limit'?" in said
    # A directive is planned alone in Sphinx; the suggestion comes from the whole build's scan.
    (typo,) = [line for line in said.splitlines() if "typo.rst:4: WARNING" in line]
    assert "none of the registries sections has 'widgit'" in typo
    assert typo.endswith("; did you mean 'widget'? [taghistory]")
    assert "Traceback" not in said


def test_every_image_that_failed_without_a_cache_is_named_in_one_message(
    tmp_path: Path,
) -> None:
    host = f"127.0.0.1:{free_port()}"
    pages = {f"{name}.md": f'# {name}\n\n<< tag_history "{host}/acme/{name}" >>\n' for name in "ab"}
    build = mkdocs_build(write_site(tmp_path, pages, {"retries": 0, "cache_dir": "cache"}))
    assert build.returncode != 0
    assert "2 problems with tag_history directives:" in build.output
    for name in "ab":
        assert (
            f"docs/{name}.md:3: cannot show the tag history of {host}/acme/{name}: cannot reach"
        ) in build.output


def cache_with_a_not_found(cache_dir: Path, host: str, images: int) -> list[str]:
    """``images`` cached two hours ago, the last a registry's "no such image"."""
    cache = SnapshotCache(cache_dir)
    then = utc_now() - timedelta(hours=2)
    names = [f"{host}/acme/image{number}" for number in range(images)]
    for name in names[:-1]:
        cache.store(TagSnapshot(name, then, {"latest": TagState(DIGEST, then)}))
    cache.store(TagSnapshot(names[-1], then, {}, missing=True))
    return names


def test_a_build_with_its_registry_down_counts_every_stand_in_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    host = f"127.0.0.1:{free_port()}"
    names = cache_with_a_not_found(tmp_path, host, 5)
    settings = settings_from_options({"cache_dir": str(tmp_path), "ttl": 0, "retries": 0}, tmp_path)
    references = [parse_reference(name, host) for name in names]
    with caplog.at_level(logging.INFO, logger="mkdocs_taghistory"):
        TagHistoryService(settings).results_for(references)
    # The service's own records (an earlier in-process build may forward them to MkDocs too).
    summary, stand_ins = (
        record.getMessage() for record in caplog.records if record.name.startswith("mkdocs_tag")
    )
    assert summary.startswith(
        "Tag history of 5 images: 5 from the cache after a failed fetch, 0 failed (4 tags, "
    )
    assert stand_ins.startswith("Tag history from the cache after a failed fetch, for 5 images:")
    assert all(name in stand_ins for name in names)


def test_refresh_with_its_registry_down_says_this_attempts_failure(tmp_path: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    gadget, gone = cache_with_a_not_found(tmp_path / "cache", host, 2)
    pages = {f"{n}.md": f'<< tag_history "{name}" >>\n' for n, name in enumerate([gadget, gone])}
    pages["near.md"] = '# Near\n\n<< taghistory "widget" >>\n'
    config = write_site(tmp_path, pages, {"cache_dir": "cache", "retries": 0})
    refresh = CliRunner().invoke(main, ["refresh", "-f", str(config)])
    assert refresh.exit_code == 1
    assert "Warning: docs/near.md:3: 'taghistory' is not the directive's name" in refresh.output
    assert f"Refresh of 2 images into {tmp_path / 'cache'}: 2 from the cache after a " in (
        refresh.output
    )
    assert f"from the cache after a failed fetch: {gone}: cannot reach {host}" in refresh.output
    assert f"{gone}: no such repository" not in refresh.output  # never the stale reason first
    assert f"Error: 2 of 2 images could not be refreshed: {gadget}, {gone}" in refresh.output
    listing = CliRunner().invoke(main, ["cache", "-f", str(config)])
    assert listing.exit_code == 0, listing.output
    header, *rows, totals = listing.output.splitlines()
    assert header.split() == ["IMAGE", "FETCHED", "TAGS", "STATE"]
    assert [row.split()[3:] for row in sorted(rows)] == [
        ["1", "stale"],
        ["-", "not", "found,", "stale"],
    ]
    assert totals == "2 files: 0 fresh, 1 stale, 1 not found"
