"""`mkdocs serve`: one plugin object across rebuilds keeps fresh results in memory."""

from __future__ import annotations

from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

from tests.support.fixtures import GADGET, SeededRegistry
from tests.support.front import RegistryFront
from tests.support.site import write_site


def rebuild_twice(seeded_registry: SeededRegistry, tmp_path: Path, ttl: int | str) -> list[int]:
    """Build, edit the page, build again with the same config and plugin object, as serve does;
    return how many requests the registry saw after each build."""
    seen = []
    with RegistryFront(seeded_registry.server.url) as front:
        page = f'# Gadget\n\n<< tag_history "{front.host}/{GADGET}" >>\n'
        # No disk cache: only memory can spare the second build its requests.
        config_path = write_site(tmp_path, {"gadget.md": page}, {"cache": False, "ttl": ttl})
        config = load_config(str(config_path), site_dir=str(tmp_path / "site"))
        config.plugins.on_startup(command="serve", dirty=False)
        build(config)
        seen.append(sum(front.requests.values()))
        (tmp_path / "docs" / "gadget.md").write_text(page + "\nEdited.\n")
        build(config)
        seen.append(sum(front.requests.values()))
        config.plugins.on_shutdown()
    assert "Edited." in (tmp_path / "site" / "gadget" / "index.html").read_text()
    return seen


def test_rebuild_of_an_edited_page_makes_no_request_while_fresh(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    first, second = rebuild_twice(seeded_registry, tmp_path, "1h")
    assert first > 0
    assert second == first


def test_rebuild_asks_again_once_results_are_stale(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    first, second = rebuild_twice(seeded_registry, tmp_path, 0)
    assert second > first
