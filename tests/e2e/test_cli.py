"""The `taghistory` command, through click's runner and as a real process."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from mkdocs_taghistory.cache import SnapshotCache, snapshot_from_json
from mkdocs_taghistory.cli import main
from mkdocs_taghistory.history import TagSnapshot, TagState
from tests.support.fixtures import GADGET, WIDGET, SeededRegistry
from tests.support.registry_server import free_port
from tests.support.site import mkdocs_build, write_site

TAGHISTORY = str(Path(sys.executable).parent / "taghistory")


def site_for(tmp_path: Path, *images: str, **options: object) -> Path:
    pages = {
        f"p{n}.md": f'# {n}\n\n<< tag_history "{image}" >>\n' for n, image in enumerate(images)
    }
    return write_site(tmp_path, pages, {"cache_dir": "cache", "retries": 0, **options})


def test_refresh_fills_the_cache_for_an_offline_build(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    config = site_for(tmp_path, f"{host}/{GADGET}", f"{host}/{WIDGET}")
    result = CliRunner().invoke(main, ["refresh", "-f", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Refresh of 2 images into")
    assert ": 2 fetched, 0 failed (" in result.output
    cached = sorted(
        snapshot_from_json(p.read_text()).image for p in (tmp_path / "cache").glob("*.json")
    )
    assert cached == [f"{host}/{GADGET}", f"{host}/{WIDGET}"]
    # The workflow the README gives: refresh with network, then build with none.
    build = mkdocs_build(config, "--strict", env={"TAGHISTORY_OFFLINE": "1"})
    assert build.returncode == 0, build.output


def test_refresh_names_the_images_that_failed_and_exits_non_zero(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    dead = f"127.0.0.1:{free_port()}/acme/gone"
    config = site_for(tmp_path, f"{seeded_registry.server.host}/{GADGET}", dead)
    result = CliRunner().invoke(main, ["refresh", "-f", str(config)])
    assert result.exit_code == 1
    assert f"failed: {dead}: cannot reach" in result.output
    assert f"Error: 1 of 2 images could not be refreshed: {dead}" in result.output


def test_refresh_reports_a_damaged_directive_with_page_and_line(tmp_path: Path) -> None:
    config = write_site(tmp_path, {"bad.md": 'x\n\n<< tag_history "rust >>\n'}, {})
    result = CliRunner().invoke(main, ["refresh", "-f", str(config)])
    assert result.exit_code == 1
    assert (
        result.output.strip() == "Error: docs/bad.md:3: unterminated quote in tag_history directive"
    )


def test_refresh_of_a_site_without_the_plugin_says_so(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: plain\n")
    (tmp_path / "docs").mkdir()
    result = CliRunner().invoke(main, ["refresh", "-f", str(tmp_path / "mkdocs.yml")])
    assert result.exit_code == 1
    assert "does not use the taghistory plugin" in result.output


def test_show_prints_markdown_or_json(seeded_registry: SeededRegistry, tmp_path: Path) -> None:
    image = f"{seeded_registry.server.host}/{GADGET}"
    runner = CliRunner()
    markdown = runner.invoke(main, ["show", image, "--cache-dir", str(tmp_path)])
    assert markdown.exit_code == 0, markdown.output
    lines = markdown.output.splitlines()
    assert lines[0].startswith("| Tag (s)") and len(lines) == 2 + 3
    as_json = runner.invoke(
        main, ["show", image, "--json", "--limit", "2", "--offline", "--cache-dir", str(tmp_path)]
    )
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    newest = sorted(seeded_registry.gadget, key=lambda pushed: pushed.created)[-2:][::-1]
    assert [row["digest"] for row in document["rows"]] == [pushed.digest for pushed in newest]
    assert document["from_cache"] is False  # a fresh cached copy needs no note


def test_show_offline_without_cache_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["show", "rust", "--offline", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 1
    # In show's words, not a build's.
    assert result.output.startswith(
        "Error: cgr.dev/chainguard/rust: 'taghistory show' is offline and there is no cached copy"
    )
    assert "run it once with network (without --offline" in result.output
    assert "Traceback" not in result.output


def test_cache_lists_images_with_age_and_freshness(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    config = site_for(tmp_path, f"{host}/{GADGET}")
    assert CliRunner().invoke(main, ["refresh", "-f", str(config)]).exit_code == 0
    (tmp_path / "cache" / "broken.json").write_text("{")
    result = CliRunner().invoke(main, ["cache", "-f", str(config)])
    assert result.exit_code == 0, result.output
    header, image, damaged, totals = result.output.splitlines()
    assert header.split() == ["IMAGE", "FETCHED", "TAGS", "STATE"]
    assert image.startswith(f"{host}/{GADGET}  ") and image.split()[-2:] == ["6", "fresh"]
    assert damaged.startswith("broken.json ") and "damaged (" in damaged
    assert totals == "2 files: 1 fresh, 0 stale, 0 not found, 1 damaged"


def test_real_process_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    completed = subprocess.run(
        [TAGHISTORY, "refresh", "-f", str(tmp_path / "missing.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'missing.yml'}: no such file"
    ]


def test_real_process_draws_a_progress_bar_on_a_terminal(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    config = site_for(tmp_path, f"{seeded_registry.server.host}/{WIDGET}")
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [TAGHISTORY, "refresh", "-f", str(config)],
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
    )
    os.close(secondary)
    output = process.communicate(timeout=120)[0]
    terminal = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(primary)
    assert process.returncode == 0, output
    drawn = terminal.decode(errors="replace")
    assert "tag lists" in drawn and "tags" in drawn and "100%" in drawn
    assert output.startswith("Refresh of 1 image into")
    assert shutil.which("taghistory", path=str(Path(sys.executable).parent))


def test_refresh_that_cannot_write_the_cache_fails(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    (tmp_path / "blocked").write_text("a file where the cache folder should be")
    config = site_for(
        tmp_path, f"{seeded_registry.server.host}/{GADGET}", cache_dir="blocked/cache"
    )
    result = CliRunner().invoke(main, ["refresh", "-f", str(config)])
    assert result.exit_code == 1
    assert "Error: cannot write the cache in" in result.output


def test_show_resolves_a_bare_name_as_a_directive_does(tmp_path: Path) -> None:
    # registries take precedence over registry for a bare name, on a page and in show alike.
    fetched = datetime(2024, 3, 22, 12, tzinfo=UTC)
    sections = [
        {"title": "Public", "registry": "registry.example/acme"},
        {"title": "Private", "registry": "registry.example/private"},
    ]
    config = write_site(
        tmp_path,
        {"w.md": '<< tag_history "widget" >>\n'},
        {"cache_dir": "cache", "registry": "registry.example/elsewhere", "registries": sections},
    )
    cache = SnapshotCache(tmp_path / "cache")
    cache.store(
        TagSnapshot(
            image="registry.example/acme/widget",
            fetched_at=fetched,
            tags={"latest": TagState("sha256:" + "a" * 64, fetched)},
        )
    )
    cache.store(
        TagSnapshot(
            image="registry.example/private/widget",
            fetched_at=fetched,
            tags={},
            missing=True,
        )
    )
    result = CliRunner().invoke(main, ["show", "widget", "-f", str(config), "--offline"])
    assert result.exit_code == 0, result.output
    assert result.output.index("## Public") < result.output.index("`latest`")
    assert "## Private" in result.output and "no versions of this image" in result.output
    build = mkdocs_build(config, env={"TAGHISTORY_OFFLINE": "1"})
    assert build.returncode == 0, build.output
    assert [heading.get_text().strip("¶ ") for heading in build.page("w").select("h3")] == [
        "Public",
        "Private",
    ]


def test_show_writes_the_table_a_page_would_short_digests_labels_and_time_zone(
    tmp_path: Path,
) -> None:
    # The same pipeline as a page: the site's short_digests, labels and timezone hold in show.
    digest = "sha256:" + "b" * 64
    fetched = datetime(2024, 3, 22, 23, 30, tzinfo=UTC)  # March 23rd in Tokyo
    config = write_site(
        tmp_path,
        {"w.md": '<< tag_history "registry.example/acme/widget" >>\n'},
        {
            "cache_dir": "cache",
            "short_digests": True,
            "labels": {"tags": "Tags", "digest": "SHA"},
            "timezone": "Asia/Tokyo",
        },
    )
    SnapshotCache(tmp_path / "cache").store(
        TagSnapshot(
            image="registry.example/acme/widget",
            fetched_at=fetched,
            tags={"latest": TagState(digest, fetched)},
        )
    )
    runner = CliRunner()
    image = "registry.example/acme/widget"
    shown = runner.invoke(main, ["show", image, "-f", str(config), "--offline"])
    assert shown.exit_code == 0, shown.output
    header, _, row = shown.stdout.splitlines()[:3]
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "Tags",
        "Last Changed",
        "SHA",
    ]
    assert "`sha256:bbbbbbbbbbbb\u2026`" in row and digest not in row
    assert "March 23rd" in row
    as_json = runner.invoke(main, ["show", image, "-f", str(config), "--offline", "--json"])
    rows = json.loads(as_json.stdout)["rows"]
    # Data, not text: the whole digest, the time in UTC.
    assert rows == [{"tags": ["latest"], "last_changed": "2024-03-22T23:30:00Z", "digest": digest}]
