"""End to end: real `mkdocs build` runs against a real registry, read back as HTML."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.fixtures import WIDGET, SeededRegistry
from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import seed_image
from tests.support.site import mkdocs_build, table_rows, write_site

PAGE = '# Widget\n\nThe tags of our widget image:\n\n<< tag_history "{image}" >>\n\nThe end.\n'


def test_directive_becomes_a_table_of_every_tag_grouped_by_digest_newest_first(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    config = write_site(
        tmp_path,
        {"widget.md": PAGE.format(image=seeded_registry.widget_reference)},
        {"cache_dir": "cache"},
    )
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output

    soup = build.page("widget")
    headers = [th.get_text() for th in soup.select("div.taghistory thead th")]
    assert headers == ["Tag (s)", "Last Changed", "Digest"]
    rows = table_rows(soup)
    expected = sorted(seeded_registry.widget, key=lambda image: image.created, reverse=True)
    assert [digest for _, _, digest in rows] == [image.digest for image in expected]
    for (tags, changed, _), image in zip(rows, expected, strict=False):
        assert sorted(tags) == sorted(image.tags)
        assert changed == image.created.strftime("%Y-%m-%dT%H:%M:%SZ")  # shown to the second
    all_tags = [tag for tags, _, _ in rows for tag in tags]
    assert len(all_tags) == len(set(all_tags)) == 300
    assert "The end." in soup.get_text()
    assert "tag_history" not in soup.get_text()


def test_offline_build_reuses_last_fetch_then_fails_without_cache(
    own_registry: RegistryServer, tmp_path: Path
) -> None:
    pushed = seed_image(own_registry.url, WIDGET, digests=4, tags_per_digest=2)
    config = write_site(
        tmp_path / "site",
        {"index.md": "# Home\n", "widget.md": PAGE.format(image=f"{own_registry.host}/{WIDGET}")},
        # ttl 0: every build asks the registry, so the second one meets it stopped.
        {"cache_dir": "cache", "ttl": 0, "retries": 1},
    )
    online = mkdocs_build(config)
    assert online.returncode == 0, online.output
    online_rows = table_rows(online.page("widget"))
    assert len(online_rows) == len(pushed)
    assert not online.page("widget").select(".taghistory-as-of")
    assert list((tmp_path / "site" / "cache").glob("*.json"))

    own_registry.stop()
    offline = mkdocs_build(config)
    assert offline.returncode == 0, offline.output
    assert table_rows(offline.page("widget")) == online_rows
    note = offline.page("widget").select_one(".taghistory-as-of")
    assert note is not None and "could not be reached; tags as of" in note.get_text()
    assert f"{own_registry.host}/{WIDGET}" in offline.output
    assert "Tag history from the cache after a failed fetch, for 1 image" in offline.output

    shutil.rmtree(tmp_path / "site" / "cache")
    failed = mkdocs_build(config)
    assert failed.returncode != 0
    assert f"docs/widget.md:5: cannot show the tag history of {own_registry.host}/{WIDGET}" in (
        failed.output
    )
    assert "Traceback" not in failed.output


def test_a_switched_off_plugin_leaves_placeholders_and_asks_nothing(tmp_path: Path) -> None:
    # No cache and an address nothing listens on: any fetch would fail the build.
    image = f"127.0.0.1:{free_port()}/acme/widget"
    page = f'# Widget\n\n<< tag_history "{image}" >>\n'
    config = write_site(tmp_path, {"w.md": page}, {"enabled": False, "cache_dir": "cache"})
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    placeholder = build.page("w").select_one(".taghistory-disabled")
    assert placeholder is not None and image in placeholder.get_text()
    assert "tag_history" not in build.page("w").get_text()
    assert not (tmp_path / "cache").exists()
