"""A Sphinx project's sources as a site plan: for the fetch before reading, and for
``taghistory refresh -c conf.py``.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError, FiletypeNotFoundError
from sphinx.util import get_filetype
from sphinx.util.console import strip_colors
from sphinx.util.docutils import docutils_namespace, patch_docutils

from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site import Finder, Placement, SitePlan, page_label, plan_site
from mkdocs_taghistory.sphinx.build import build_of
from mkdocs_taghistory.sphinx.logs import stop_forwarding
from mkdocs_taghistory.sphinx.sources import find_myst_directives, find_rst_directives

# By the parser Sphinx reads a source with; other kinds (notebooks) are fetched as they are read.
FINDERS: dict[str, Finder] = {
    "restructuredtext": find_rst_directives,
    "markdown": find_myst_directives,
}


def plan_documents(env: BuildEnvironment, docnames: Iterable[str], settings: Settings) -> SitePlan:
    """The plan of the documents ``docnames``, scanned in their own markup.

    What cannot be read or placed is left out: Sphinx reports it, at its place, when it reads
    the document.
    """
    placements: list[Placement] = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        try:
            find = FINDERS.get(get_filetype(env.config.source_suffix, path))
            if find is None:
                continue
            text = path.read_text(encoding=env.config.source_encoding)
        except (FiletypeNotFoundError, OSError, UnicodeDecodeError):
            continue
        plan = plan_site([(docname, text)], settings, find=find, skip_damaged=True)
        placements += plan.placements
    return SitePlan(tuple(placements))


def load_project(conf: Path) -> tuple[Settings, SitePlan, list[str]]:
    """A Sphinx project's settings and the plan of its sources, as a build would see them.

    ``conf`` is ``conf.py`` or the folder that holds it, which is taken as the source folder.
    The project's configuration runs (with its extensions, MyST among them), on a build that
    writes only to a folder of its own, then deleted.

    Returns:
        the settings, the plan, and what Sphinx warned of while loading the project.

    Raises:
        FileNotFoundError: when there is no ``conf.py`` there.
        SphinxError: when the configuration cannot be loaded (an error in ``conf.py``, an
            extension that cannot be imported, a configuration value that cannot be used).
    """
    confdir = (conf if conf.is_dir() else conf.parent).resolve()
    if not (confdir / "conf.py").is_file():
        raise FileNotFoundError(f"{page_label(confdir / 'conf.py', Path.cwd())}: no such file")
    warnings = io.StringIO()
    # As sphinx-build runs an application: docutils' registries as they were, afterwards.
    with (
        tempfile.TemporaryDirectory(prefix="taghistory-") as scratch,
        patch_docutils(confdir),
        docutils_namespace(),
    ):
        try:
            app = Sphinx(
                str(confdir),
                str(confdir),
                str(Path(scratch, "out")),
                str(Path(scratch, "doctrees")),
                "dummy",
                status=None,
                warning=warnings,
                freshenv=True,
            )
            app.env.find_files(app.config, app.builder)
            build = build_of(app.config)
            if build.misconfigured is not None:
                raise ConfigError(build.misconfigured)
            settings = build.settings
            plan = plan_documents(app.env, sorted(app.env.found_docs), settings)
        finally:
            # The command reports for itself from here on, not into Sphinx's streams.
            stop_forwarding()
    said = strip_colors(warnings.getvalue())
    return settings, plan, [line for line in said.splitlines() if line.strip()]
