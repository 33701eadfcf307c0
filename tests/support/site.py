"""Real `mkdocs build` runs of throwaway sites, and reading their HTML."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterable, Mapping
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
    in_process: bool | None = None,
) -> Build:
    """Run a real ``mkdocs build`` of ``config_path`` and return its outcome.

    By default MkDocs' own command runs in this process (its click command, logging and exit
    codes, without the second or so a new interpreter costs); in a child process when asked
    (``in_process=False``: what is under test is the process, its imports, its exit) and
    always for ``generator``'s build (ProperDocs') or a ``prefix`` (``unshare -n``).
    """
    site_dir = config_path.parent / "site"
    arguments = ["build", "-f", str(config_path), "-d", str(site_dir), *extra]
    # The tests decide whether a build is offline, not the shell they were started from.
    # FORCE_COLOR and its kin are the CI runner's, not the test's: output is read as plain text.
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TAGHISTORY_OFFLINE", "FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE"}
    }
    environment["NO_COLOR"] = "1"
    environment.update(env or {})
    if in_process is None:
        in_process = not prefix and generator == "mkdocs"
    if in_process:
        return _in_process(arguments, env, site_dir)
    completed = subprocess.run(
        [*prefix, sys.executable, "-m", generator, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    return Build(completed.returncode, completed.stdout + completed.stderr, site_dir)


def _in_process(arguments: list[str], env: Mapping[str, str] | None, site_dir: Path) -> Build:
    """MkDocs' command, run by click's test runner: stdout, stderr and the exit code as the
    command line has them, and an unexpected exception's traceback in the output, where a
    real process would print it."""
    from click.testing import CliRunner  # noqa: PLC0415
    from mkdocs.__main__ import cli  # noqa: PLC0415
    from mkdocs.config import config_options  # noqa: PLC0415
    from mkdocs.config.defaults import MkDocsConfig  # noqa: PLC0415
    from mkdocs.utils import DuplicateFilter  # noqa: PLC0415

    # MkDocs keeps plugins that have on_startup for the whole process, as `mkdocs serve` does:
    # a build of its own starts with new ones, as a new process would.
    for _, option in MkDocsConfig._schema:
        if isinstance(option, config_options.Plugins):
            option.plugin_cache.clear()
    # It also drops a message it logged before, once per process: each build says its own.
    for log_filter in logging.getLogger("mkdocs.commands.build").filters:
        if isinstance(log_filter, DuplicateFilter):
            log_filter.msgs.clear()
    environment: dict[str, str | None] = {"TAGHISTORY_OFFLINE": None, **(env or {})}
    result = CliRunner().invoke(cli, arguments, env=environment)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    return Build(result.exit_code, output, site_dir)


def modules_loaded_by_build(
    config_path: Path, names: Iterable[str], *, site_dir: Path | None = None, then: str = ""
) -> list[str]:
    """Of the modules ``names`` (each with its submodules), those a real ``mkdocs build`` of
    ``config_path``, in an interpreter of its own, leaves loaded; ``then`` is Python run after
    the build (an import whose cost is also in question)."""
    site = "" if site_dir is None else f", site_dir={str(site_dir)!r}"
    script = (
        "import json, sys\n"
        "from mkdocs.commands.build import build\n"
        "from mkdocs.config import load_config\n"
        f"build(load_config({str(config_path)!r}{site}))\n"
        f"{then}\n"
        f"names = {sorted(names)!r}\n"
        "print(json.dumps(sorted(module for module in sys.modules if any(\n"
        "    module == name or module.startswith(name + '.') for name in names))))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    loaded: list[str] = json.loads(completed.stdout.splitlines()[-1])
    return loaded


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
