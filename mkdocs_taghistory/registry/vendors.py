"""Every vendor by name, and where its class lives: the one list a new vendor joins.

Names only, so that checking a site's ``vendors`` option imports no vendor (nor httpx, which
they need): a build whose tables are all fresh never loads them. :mod:`.client` imports the
classes when a fetch is due.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs_taghistory.registry.vendor_base import Vendor

VENDOR_CLASSES: dict[str, str] = {
    "oci": "mkdocs_taghistory.registry.oci:OciVendor",
    "chainguard": "mkdocs_taghistory.registry.chainguard:ChainguardVendor",
    "dockerhub": "mkdocs_taghistory.registry.dockerhub:DockerHubVendor",
    "quay": "mkdocs_taghistory.registry.quay:QuayVendor",
    "ghcr": "mkdocs_taghistory.registry.ghcr:GhcrVendor",
    "google": "mkdocs_taghistory.registry.google:GoogleVendor",
    "acr": "mkdocs_taghistory.registry.acr:AcrVendor",
    "harbor": "mkdocs_taghistory.registry.harbor:HarborVendor",
    "gitlab": "mkdocs_taghistory.registry.gitlab:GitLabVendor",
}
"""Each vendor's name (the ``vendors`` option's ``type``) and its class, ``module:Class``."""

VENDOR_NAMES: tuple[str, ...] = tuple(VENDOR_CLASSES)


def load_vendor(name: str) -> type[Vendor]:
    """The class of the vendor called ``name``."""
    module, _, attribute = VENDOR_CLASSES[name].partition(":")
    vendor: type[Vendor] = getattr(importlib.import_module(module), attribute)
    return vendor
