"""The settings shared by the MkDocs plugin and the Python-Markdown extension."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mkdocs_taghistory.reference import DEFAULT_REGISTRY
from mkdocs_taghistory.registry.client import ClientSettings

DEFAULT_CACHE_DIR = ".cache/plugin/taghistory"
OFFLINE_ENVIRONMENT_VARIABLE = "TAGHISTORY_OFFLINE"


def offline_from_environment() -> bool:
    """True when ``TAGHISTORY_OFFLINE`` asks for an offline build (``1``, ``true``, ``yes``)."""
    return os.environ.get(OFFLINE_ENVIRONMENT_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class Settings:
    """Everything that decides where tables come from.

    Attributes:
        registry: ``HOST/NAMESPACE`` that a bare image name resolves against.
        cache_dir: where snapshots are kept; None for no on-disk cache.
        offline: never ask a registry; serve every table from the cache.
        strict: log a table served from the cache after a failed fetch as a warning (which
            fails ``mkdocs build --strict``) instead of an info line.
        client: how registries are reached.
    """

    registry: str = DEFAULT_REGISTRY
    cache_dir: Path | None = Path(DEFAULT_CACHE_DIR)
    offline: bool = False
    strict: bool = False
    client: ClientSettings = field(default_factory=ClientSettings)
