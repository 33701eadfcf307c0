"""A MkDocs site as the ``taghistory`` command reads it: ``mkdocs.yml``, the plugin's options
and the documentation pages, with no build. The front end's :data:`~.frontend.SiteReader`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from pathlib import Path
from typing import Any

from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.frontend import LoadedSite, SiteError
from mkdocs_taghistory.settings import ConfigurationError
from mkdocs_taghistory.site import SitePlan, page_label, plan_site
from mkdocs_taghistory.site_options import DEFAULT_OPTIONS, settings_from_options

try:
    importlib.import_module("mkdocs")
except ModuleNotFoundError:
    # ProperDocs alone, the maintained MkDocs 1.x fork: it answers for `mkdocs.*` once this is
    # imported, as `properdocs build` does, so the plugin's own imports find it too. With
    # neither, the imports below fail, and the command says what to install (frontend.py).
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module("properdocs.replacement")

# Only once the stand-in is set up.
from mkdocs.config import load_config
from mkdocs.exceptions import ConfigurationError as MkDocsConfigurationError
from mkdocs.structure.files import get_files

from mkdocs_taghistory.mkdocs_schema import theme_language


def read_site(config_file: Path, pages: bool = True) -> LoadedSite:
    """The site of ``config_file``: its settings, and the plan of its pages when ``pages``.

    Raises:
        SiteError: when it cannot be read, does not use the plugin, has an option that
            cannot be used, or a page holds a damaged directive.
    """
    if not config_file.is_file():
        raise SiteError(f"{config_file}: no such file")
    # The command reports for itself; MkDocs' info lines about loading a config would only
    # be noise. Warnings still show.
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    try:
        config = load_config(str(config_file))
    except MkDocsConfigurationError as error:
        raise SiteError(f"{config_file}: {error}") from None
    plugin: Any = config.plugins.get("taghistory")
    if plugin is None:
        raise SiteError(f"{config_file} does not use the taghistory plugin")
    site_dir = config_file.resolve().parent
    try:
        # Only the options of today: MkDocs moved a renamed one's value already.
        given = {name: plugin.config[name] for name in DEFAULT_OPTIONS}
        settings = settings_from_options(given, site_dir, site_language=theme_language(config))
        if not pages:
            return LoadedSite(settings, SitePlan(), config_file)
        texts = (
            (page_label(Path(file.abs_src_path or file.src_uri), site_dir), file.content_string)
            for file in get_files(config).documentation_pages()
        )
        return LoadedSite(settings, plan_site(texts, settings), config_file)
    except (ConfigurationError, DirectiveError) as error:
        raise SiteError(str(error)) from None
