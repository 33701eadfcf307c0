"""A vendor type set for another host never carries docker.io's or ghcr.io's credentials there.

Docker's configuration on the machine holds real docker.io and ghcr.io secrets; each vendor
type is then set for a loopback host of ours that records everything it receives.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import RegistryClient
from mkdocs_taghistory.settings import ClientSettings, Credentials, VendorSetting
from tests.support.vendor_apis import JsonApi, Recorded

HUB_PASSWORD = "docker-hub-password-never-elsewhere"
GHCR_TOKEN = "ghp_token-never-elsewhere"
OWN_PASSWORD = "the-foreign-hosts-own-password"


class Recorder(JsonApi):
    """Answers 404 to everything, and keeps what it was sent."""

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        return 404, {"errors": [{"code": "NAME_UNKNOWN"}]}, {}


def write_docker_config(folder: Path) -> None:
    def auth(user: str, secret: str) -> dict[str, str]:
        return {"auth": base64.b64encode(f"{user}:{secret}".encode()).decode()}

    config = {
        "auths": {
            "https://index.docker.io/v1/": auth("hubuser", HUB_PASSWORD),
            "ghcr.io": auth("ghuser", GHCR_TOKEN),
        }
    }
    (folder / "config.json").write_text(json.dumps(config))


def sent_to_a_foreign_host(vendor: str, own: Credentials | None) -> str:
    """Everything a loopback host set up as ``vendor`` received in one fetch of an image of
    it, with ``own`` as its own credentials."""
    with Recorder() as recorder:
        host = recorder.url.removeprefix("http://")
        settings = ClientSettings(
            credentials={host: own} if own else {},
            vendors={host: VendorSetting(type=vendor)},
            retries=0,
        )
        reference = parse_reference(f"{host}/acme/widget")
        client = RegistryClient(settings)
        client.fetch_many([reference])
    assert recorder.requests, "the foreign host was asked"
    return "\n".join(
        f"{request.method} {request.path} {request.headers} {request.body!r}"
        for request in recorder.requests
    )


@pytest.mark.parametrize("vendor", ["dockerhub", "quay", "ghcr", "chainguard", "oci"])
def test_a_vendor_type_on_another_host_gets_none_of_the_vendors_own_credentials(
    docker_config: Path, vendor: str
) -> None:
    write_docker_config(docker_config)
    sent = sent_to_a_foreign_host(vendor, None)
    for secret in (
        HUB_PASSWORD,
        GHCR_TOKEN,
        base64.b64encode(b"hubuser:" + HUB_PASSWORD.encode()).decode(),
    ):
        assert secret not in sent


@pytest.mark.parametrize("vendor", ["dockerhub", "ghcr"])
def test_a_vendor_type_on_another_host_may_use_that_hosts_own_credentials(
    docker_config: Path, vendor: str
) -> None:
    write_docker_config(docker_config)
    sent = sent_to_a_foreign_host(vendor, Credentials("builder", OWN_PASSWORD))
    assert OWN_PASSWORD in sent
    assert HUB_PASSWORD not in sent and GHCR_TOKEN not in sent
