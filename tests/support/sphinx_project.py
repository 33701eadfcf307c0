"""Real `sphinx-build` runs of throwaway projects, and reading what they wrote."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from tests.support.seed import ROOT

EXAMPLE_SPHINX = ROOT / "example_sphinx"


@dataclass(frozen=True)
class SphinxBuild:
    """The outcome of one `sphinx-build`."""

    returncode: int
    output: str
    out_dir: Path

    def page(self, docname: str) -> BeautifulSoup:
        """The built HTML of ``docname`` (``rust`` for ``rust.md``)."""
        path = self.out_dir / f"{docname}.html"
        return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")

    def text(self, name: str) -> str:
        """A file the build wrote (``rust.txt`` of the text builder)."""
        return (self.out_dir / name).read_text(encoding="utf-8")


def write_project(
    root: Path, pages: Mapping[str, str], conf: Mapping[str, object], *, myst: bool = True
) -> Path:
    """Write ``conf.py`` (the extension, MyST, and ``conf``'s values) and the pages under
    ``root``; ``index.rst`` gets a toctree of the other pages unless given. Returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    extensions = (
        ["myst_parser", "mkdocs_taghistory.sphinx"] if myst else ["mkdocs_taghistory.sphinx"]
    )
    lines = ['project = "Tag history test"', f"extensions = {extensions!r}"]
    lines += [f"{name} = {value!r}" for name, value in conf.items()]
    (root / "conf.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, text in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    if "index.rst" not in pages and "index.md" not in pages:
        docs = "\n".join(
            f"   {Path(name).with_suffix('').as_posix()}"
            for name in sorted(pages)
            if name.endswith((".rst", ".md"))
        )
        (root / "index.rst").write_text(f"Home\n====\n\n.. toctree::\n\n{docs}\n", encoding="utf-8")
    return root


def sphinx_build(
    project: Path,
    *extra: str,
    builder: str = "html",
    env: Mapping[str, str] | None = None,
    prefix: tuple[str, ...] = (),
    out_dir: Path | None = None,
) -> SphinxBuild:
    """Run a real `sphinx-build` in a child process (doctrees kept beside the output, so a
    second run is incremental) and return its outcome."""
    out = out_dir or project / "_build" / builder
    # The tests decide whether a build is offline, not the shell they were started from; and
    # whether its output is coloured: a CI runner's FORCE_COLOR would otherwise put Sphinx's
    # escape codes around every line the tests read.
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TAGHISTORY_OFFLINE", "FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE"}
    }
    environment["NO_COLOR"] = "1"
    environment.update(env or {})
    completed = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            builder,
            "--no-color",
            "-d",
            str(out.parent / f".doctrees-{out.name}"),
            *extra,
            str(project),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    return SphinxBuild(completed.returncode, completed.stdout + completed.stderr, out)


def copy_example_sphinx(tmp_path: Path, **conf: object) -> Path:
    """A copy of example_sphinx/ under ``tmp_path``, with these configuration values added
    (``taghistory_`` is put before each name)."""
    project = tmp_path / "example_sphinx"
    shutil.copytree(EXAMPLE_SPHINX, project, ignore=shutil.ignore_patterns("_build"))
    with (project / "conf.py").open("a", encoding="utf-8") as conf_file:
        for name, value in conf.items():
            conf_file.write(f"taghistory_{name} = {value!r}\n")
    return project
