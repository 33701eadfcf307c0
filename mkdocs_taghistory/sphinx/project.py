"""A Sphinx project's directives as a site plan: scanned from the sources, for the fetch
before reading; read as Sphinx reads them, for ``taghistory refresh -c conf.py``.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError, FiletypeNotFoundError, SphinxError
from sphinx.util import get_filetype
from sphinx.util.console import strip_colors
from sphinx.util.docutils import docutils_namespace, patch_docutils

from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.frontend import LoadedSite, SiteError
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site import Finder, PageDirective, SitePlan, plan_site
from mkdocs_taghistory.sphinx.build import build_of, collect_directives
from mkdocs_taghistory.sphinx.logs import stop_forwarding
from mkdocs_taghistory.sphinx.sources import scan_myst, scan_rst

# By the parser Sphinx reads a source with; other kinds (notebooks) are fetched as they are read.
FINDERS: dict[str, Finder] = {
    "restructuredtext": scan_rst,
    "markdown": scan_myst,
}


def plan_documents(env: BuildEnvironment, docnames: Iterable[str], settings: Settings) -> SitePlan:
    """The plan of the documents ``docnames``, scanned in their own markup, with the lines
    most likely meant as directives (``near_misses``, by docname and line).

    What cannot be read or planned is left out: Sphinx reports it, at its place, when it reads
    the document.
    """
    directives: list[PageDirective] = []
    near_misses: list[DirectiveError] = []
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
        directives += plan.directives
        near_misses += plan.near_misses
    return SitePlan(tuple(directives), tuple(near_misses))


EXTENSION = "mkdocs_taghistory.sphinx"


def load_project(conf: Path) -> tuple[Settings, SitePlan, list[str]]:
    """A Sphinx project's settings and every directive of its sources, read as a build reads
    them (its configuration and extensions, MyST among them, on every document, includes too),
    with no fetch: on a build of its own that writes only to a folder then deleted.

    ``conf`` is ``conf.py`` or the folder that holds it, which is taken as the source folder.

    Returns:
        the settings, the plan, and what the extension reported while reading (one line each).

    Raises:
        FileNotFoundError: when there is no ``conf.py`` there.
        SphinxError: when the configuration cannot be loaded (an error in ``conf.py``, an
            extension that cannot be imported, a configuration value that cannot be used), or
            does not use this extension.
    """
    confdir = (conf if conf.is_dir() else conf.parent).resolve()
    if not (confdir / "conf.py").is_file():
        raise FileNotFoundError(f"{conf}: no conf.py there")
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
            if EXTENSION not in app.extensions:
                raise ConfigError(
                    f"{confdir / 'conf.py'} does not use the extension: add {EXTENSION!r} "
                    "to its extensions"
                )
            build = build_of(app.config)
            if build.misconfigured is not None:
                raise ConfigError(build.misconfigured)
            collected = collect_directives(app.config)
            app.build(force_all=True)
        finally:
            # The command reports for itself from here on, not into Sphinx's streams.
            stop_forwarding()
    said = strip_colors(warnings.getvalue()).splitlines()
    # Only what this extension said (a damaged directive): the rest is the project's own.
    ours = [line for line in said if line.rstrip().endswith("[taghistory]")]
    return build.settings, SitePlan(tuple(collected)), ours


def read_site(conf: Path, pages: bool = True) -> LoadedSite:
    """A Sphinx project as the ``taghistory`` command reads it (the front end's
    :data:`~mkdocs_taghistory.frontend.SiteReader`): always with its documents, as Sphinx
    reads them.

    Raises:
        SiteError: when it cannot be read, does not use the extension, or a document holds a
            directive that cannot be read (every such line is in the message).
    """
    try:
        settings, plan, said = load_project(conf)
    except SphinxError as error:
        raise SiteError(f"{conf}: {error}") from None
    except OSError as error:
        raise SiteError(str(error)) from None  # it names the path
    errors = [line for line in said if ": ERROR: " in line]
    if errors:
        # As for a MkDocs site: a damaged directive is fixed before the cache is filled.
        count = f"{len(errors)} tag-history directive{'s' * (len(errors) > 1)} cannot be read"
        raise SiteError("\n".join([f"{count}:", *errors]))
    return LoadedSite(settings, plan, conf)
