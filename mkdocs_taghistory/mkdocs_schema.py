"""The plugin's options in ``mkdocs.yml``: MkDocs' schema, made from ``SITE_OPTIONS``.

The options are declared once, in :data:`mkdocs_taghistory.settings.SITE_OPTIONS` (which the
Python-Markdown extension reads too, without MkDocs); here each becomes the MkDocs config
option of its kind, so that MkDocs checks the types and names a wrong one as it does for
every plugin. What the values mean is checked in :func:`settings_from_options`.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config import config_options as opt
from mkdocs.config.base import BaseConfigOption, Config

from mkdocs_taghistory.site_options import RENAMED_OPTIONS, SITE_OPTIONS, Renamed, SiteOption


def config_option(option: SiteOption) -> BaseConfigOption[Any]:
    """The MkDocs config option that holds ``option``."""
    default = option.default
    made: BaseConfigOption[Any]
    if option.kind == "strings":
        made = opt.ListOfItems(opt.Type(str), default=default)
    elif option.text_or_none:
        made = opt.Optional(opt.Type(str))
    else:
        # One type alone, so that MkDocs' message names it rather than a tuple of one.
        types = option.types[0] if len(option.types) == 1 else option.types
        made = opt.Type(types, default=default)
    return made


def schema(renamed: tuple[Renamed, ...] = RENAMED_OPTIONS) -> dict[str, Any]:
    """Every option's MkDocs config option; a renamed one's old name moves its value to the
    new, with MkDocs' own deprecation message (as Material's plugins rename theirs)."""
    options: dict[str, Any] = {option.name: config_option(option) for option in SITE_OPTIONS}
    for rename in renamed:
        options[rename.old] = opt.Deprecated(moved_to=rename.new)
    options["__doc__"] = "Options of the ``taghistory`` plugin (see ``SITE_OPTIONS``)."
    return options


# Made with type() so that MkDocs' Config collects the options as it does for a class body
# (in __init_subclass__); the declaration itself stays in one place.
TagHistoryConfig: type[Config] = type("TagHistoryConfig", (Config,), schema())


def theme_language(config: Any) -> str | None:
    """The language a MkDocs site's theme is set to: Material's ``theme.language``, or the
    ``locale`` of MkDocs' own themes (a Babel locale there, so it is read as text)."""
    theme = config.theme
    language = theme.get("language") or theme.get("locale")
    return str(language) if language else None
