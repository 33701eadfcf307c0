"""The Sphinx configuration values, made from ``SITE_OPTIONS``: ``taghistory_<option>``.

Every site option of the MkDocs plugin is a configuration value of the same meaning and
default (the cache folder aside, which sits beside ``conf.py``), checked by the same
:func:`~mkdocs_taghistory.settings.settings_from_options`, with its messages naming the
configuration value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.util import logging

from mkdocs_taghistory.settings import ConfigurationError, Settings
from mkdocs_taghistory.site_options import RENAMED_OPTIONS, SITE_OPTIONS, settings_from_options
from mkdocs_taghistory.suggest import did_you_mean

PREFIX = "taghistory_"
DEFAULT_CACHE_DIR = ".cache/taghistory"
"""Where the cache is kept, relative to the folder of ``conf.py``."""
SPHINX_DEFAULTS = {"cache_dir": DEFAULT_CACHE_DIR}

# What only says how registries are reached changes no document: Sphinx need not read them all
# again when it changes. Credentials are among them, and so never decide a rebuild.
_TRANSPORT_OPTIONS = frozenset(option.name for option in SITE_OPTIONS if option.part == "client")
_REDACTED = "(given in conf.py; not kept)"
logger = logging.getLogger(__name__)
_OPTION_IN_MESSAGE = re.compile(r"option '(?P<name>\w+)'")


def add_config_values(app: Sphinx) -> None:
    """Declare ``taghistory_<option>`` for every site option, and for the old name of every
    renamed one (None: not given)."""
    for option in SITE_OPTIONS:
        app.add_config_value(
            PREFIX + option.name,
            SPHINX_DEFAULTS.get(option.name, option.default),
            "" if option.name in _TRANSPORT_OPTIONS else "env",
            types=frozenset(option.types),
            description=option.help,
        )
    for rename in RENAMED_OPTIONS:
        app.add_config_value(
            PREFIX + rename.old, None, "env", description=f"now {PREFIX}{rename.new}"
        )
    given: Any = getattr(app.config, PREFIX + "auth")
    if isinstance(given, dict) and given:
        # Sphinx logs its whole configuration at -vv as it emits config-inited, before any
        # handler could take the credentials out: until then, they are shown redacted.
        setattr(app.config, PREFIX + "auth", _Credentials(given))


class _Credentials(dict[Any, Any]):
    """``taghistory_auth`` as ``conf.py`` gives it, whose ``repr`` hides the secrets."""

    def __repr__(self) -> str:
        return repr(_redacted(self))


DECLARED = frozenset(
    [PREFIX + option.name for option in SITE_OPTIONS]
    + [PREFIX + rename.old for rename in RENAMED_OPTIONS]
)
"""Every configuration value this extension declares."""


def unknown_values(given: Mapping[str, object]) -> list[str]:
    """A warning for each value ``conf.py`` sets (``given``) that starts with ``taghistory_``
    but is none of this extension's, which Sphinx would ignore in silence, with the declared
    one nearest to it: among those that take a value of its type first (``taghistory_tll =
    "6h"`` is as near to ``tls`` as to ``ttl``, but only ``ttl`` takes a string)."""
    return [
        f"unknown configuration value {name!r} in conf.py, ignored{_nearest(name, value)}"
        for name, value in given.items()
        if name.startswith(PREFIX) and name not in DECLARED
    ]


def _nearest(name: str, value: object) -> str:
    # Compared without the prefix, which every name shares and which would make any two close.
    word = name.removeprefix(PREFIX)
    fitting = [option.name for option in SITE_OPTIONS if isinstance(value, option.types)]
    hint = did_you_mean(word, fitting) or did_you_mean(word, [o.name for o in SITE_OPTIONS])
    return hint.replace("'", f"'{PREFIX}", 1)


def unknown_in(config: Config) -> list[str]:
    """:func:`unknown_values` of what ``conf.py`` set (Sphinx keeps it apart from the values
    it declares)."""
    raw: Any = getattr(config, "_raw_config", {})
    return unknown_values(dict(sorted(raw.items()))) if isinstance(raw, dict) else []


def settings_from_config(config: Config, confdir: Path) -> Settings:
    """Check the configuration values and turn them into settings; relative paths
    (``taghistory_cache_dir``, ``taghistory_tls``) are relative to the folder of ``conf.py``,
    as Sphinx's own paths are.

    Raises:
        ConfigError: naming the configuration value that cannot be used.
    """
    values = {option.name: getattr(config, PREFIX + option.name) for option in SITE_OPTIONS}
    for rename in RENAMED_OPTIONS:
        old = getattr(config, PREFIX + rename.old, None)
        if old is not None:
            values[rename.old] = old
            if values[rename.new] == _default(rename.new):
                del values[rename.new]  # not given: the old name's value takes its place
    try:
        return settings_from_options(
            values, confdir, warn=_warn_renamed, site_language=config.language
        )
    except ConfigurationError as error:
        message = _OPTION_IN_MESSAGE.sub(
            lambda match: f"configuration value '{PREFIX}{match.group('name')}'", str(error)
        )
        raise ConfigError(f"taghistory: {message}") from None


def _default(name: str) -> Any:
    return next(
        SPHINX_DEFAULTS.get(option.name, option.default)
        for option in SITE_OPTIONS
        if option.name == name
    )


def _warn_renamed(message: str) -> None:
    logger.warning(
        _OPTION_IN_MESSAGE.sub(
            lambda match: f"configuration value '{PREFIX}{match.group('name')}'", message
        ).replace("' is now '", f"' is now '{PREFIX}"),
        type="taghistory",
    )


def forget_credentials(config: Config) -> None:
    """Replace the credentials in ``config`` by a note, once they are in the settings.

    Sphinx pickles the configuration into its environment (``.doctrees``, which CI jobs cache
    and upload): a password left there would be on disk, outside the user's control.
    """
    given: Any = getattr(config, PREFIX + "auth")
    if given:
        setattr(config, PREFIX + "auth", _redacted(given))


def _redacted(given: Any) -> Any:
    # Whatever its shape (a wrong one too, which is an error, but may hold a password).
    if isinstance(given, dict):
        return {host: {"username": _REDACTED, "password": _REDACTED} for host in given}
    return _REDACTED
