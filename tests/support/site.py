"""Real `mkdocs build` runs of throwaway sites, and reading their HTML."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup, Tag


@dataclass(frozen=True)
class Build:
    """The outcome of one `mkdocs build`."""

    returncode: int
    output: str
    site_dir: Path

    def page(self, name: str) -> BeautifulSoup:
        """The built HTML of page ``name`` (``rust`` for ``docs/rust.md``)."""
        path = self.site_dir / name / "index.html"
        return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def write_site(
    root: Path, pages: Mapping[str, str], plugin_options: Mapping[str, Any], **config: Any
) -> Path:
    """Write ``mkdocs.yml`` and ``docs/`` under ``root``; return the config path."""
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = {
        "site_name": "Tag history test",
        "plugins": [{"taghistory": dict(plugin_options)}],
        **config,
    }
    config_path = root / "mkdocs.yml"
    config_path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config_path


def mkdocs_build(
    config_path: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
    prefix: tuple[str, ...] = (),
    generator: str = "mkdocs",
) -> Build:
    """Run a real `mkdocs build` (or ``generator``'s, as ProperDocs') in a child process and
    return its outcome."""
    site_dir = config_path.parent / "site"
    # The tests decide whether a build is offline, not the shell they were started from.
    environment = {k: v for k, v in os.environ.items() if k != "TAGHISTORY_OFFLINE"}
    environment.update(env or {})
    completed = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            generator,
            "build",
            "-f",
            str(config_path),
            "-d",
            str(site_dir),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    return Build(completed.returncode, completed.stdout + completed.stderr, site_dir)


def table_rows(soup: BeautifulSoup, index: int = 0) -> list[tuple[list[str], str, str]]:
    """The rows of the ``index``-th tag table: (tags, last changed datetime, digest)."""
    block = soup.select("div.taghistory")[index]
    rows = []
    for row in block.select("tbody tr"):
        cells = row.find_all("td")
        assert isinstance(cells[1], Tag)
        time = cells[1].find("time")
        rows.append(
            (
                [code.get_text() for code in cells[0].find_all("code")],
                str(time["datetime"]) if isinstance(time, Tag) else "",
                cells[2].get_text(),
            )
        )
    return rows


EXAMPLE = Path(__file__).resolve().parents[2] / "example_site"


def copy_example(tmp_path: Path, **plugin_options: object) -> Path:
    """A copy of the example site under ``tmp_path``, with these plugin options changed."""
    site = tmp_path / "example_site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("site"))
    config_path = site / "mkdocs.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["plugins"][1]["taghistory"].update(plugin_options)
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return config_path
