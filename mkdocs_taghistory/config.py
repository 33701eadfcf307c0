"""The plugin's options in ``mkdocs.yml``."""

from __future__ import annotations

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config

from mkdocs_taghistory.reference import DEFAULT_REGISTRY
from mkdocs_taghistory.settings import DEFAULT_CACHE_DIR


class TagHistoryConfig(Config):  # type: ignore[no-untyped-call]  # MkDocs' __init_subclass__
    """Options of the ``taghistory`` plugin."""

    # Where images come from ----------------------------------------------------------

    registry = opt.Type(str, default=DEFAULT_REGISTRY)
    """``HOST/NAMESPACE`` that a bare image name (``"rust"``) resolves against."""

    insecure_registries = opt.ListOfItems(opt.Type(str), default=[])
    """Registry hosts (``host[:port]``) spoken to over plain HTTP; loopback hosts always are."""

    # How they are fetched ------------------------------------------------------------

    concurrency = opt.Type(int, default=16)
    """The most requests in flight at once, across all images of the site."""

    timeout = opt.Type((int, float), default=10)
    """Seconds to wait for a registry to connect or answer."""

    # Cache and offline builds --------------------------------------------------------

    cache_dir = opt.Type(str, default=DEFAULT_CACHE_DIR)
    """Folder of the on-disk cache, relative to the directory of ``mkdocs.yml``."""

    offline = opt.Type(bool, default=False)
    """Never ask a registry; every table comes from the cache. ``TAGHISTORY_OFFLINE=1`` too."""

    strict = opt.Type(bool, default=False)
    """Log a table served from the cache after a failed fetch as a warning, which fails
    ``mkdocs build --strict``; otherwise it is an info line."""
