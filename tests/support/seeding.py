"""Push multi-arch OCI images into a registry through the OCI push API, as a build tool would."""

from __future__ import annotations

import hashlib
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from mkdocs_taghistory.history import DigestFacts, TagSnapshot
from mkdocs_taghistory.reference import ImageReference

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CREATED_ANNOTATION = "org.opencontainers.image.created"


def sha256(data: bytes) -> str:
    """The OCI digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(document: object) -> bytes:
    """Stable JSON bytes, so the same document always has the same digest."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class PushedImage:
    """An index pushed under some tags, and what a correct reader must find for it."""

    digest: str
    created: datetime
    tags: tuple[str, ...]


class Pusher:
    """Pushes blobs and manifests to one repository of a registry."""

    def __init__(self, client: httpx.Client, repository: str) -> None:
        self.client = client
        self.repository = repository
        self._pushed_blobs: set[str] = set()

    def blob(self, data: bytes) -> str:
        """Upload ``data`` (POST then monolithic PUT) and return its digest."""
        digest = sha256(data)
        if digest in self._pushed_blobs:
            return digest
        started = self.client.post(f"/v2/{self.repository}/blobs/uploads/")
        started.raise_for_status()
        location = started.headers["Location"]
        separator = "&" if "?" in location else "?"
        done = self.client.put(
            f"{location}{separator}digest={digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        done.raise_for_status()
        self._pushed_blobs.add(digest)
        return digest

    def manifest(self, reference: str, body: bytes, media_type: str) -> str:
        """PUT a manifest or index under a tag or digest; return its digest."""
        response = self.client.put(
            f"/v2/{self.repository}/manifests/{reference}",
            content=body,
            headers={"Content-Type": media_type},
        )
        response.raise_for_status()
        return sha256(body)

    def platform_manifest(self, created: datetime, arch: str, salt: str) -> tuple[str, int]:
        """A single-platform image whose config holds ``created``; return digest and size."""
        layer = self.blob(f"layer {salt} {arch}".encode())
        config = canonical(
            {
                "architecture": arch,
                "os": "linux",
                # Nine fraction digits, as Go writes them; readers keep six.
                "created": created.strftime("%Y-%m-%dT%H:%M:%S.%f") + "789Z",
                "rootfs": {"type": "layers", "diff_ids": [layer]},
                "config": {"Labels": {"salt": salt}},
            }
        )
        config_digest = self.blob(config)
        manifest = canonical(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
                "layers": [{"mediaType": OCI_LAYER, "digest": layer, "size": len(salt) + 12}],
            }
        )
        return self.manifest(sha256(manifest), manifest, OCI_MANIFEST), len(manifest)

    def multi_arch_index(
        self, created: datetime, salt: str, *, annotate: bool = False
    ) -> tuple[str, bytes]:
        """An index over amd64 and arm64 images; with ``annotate``, it carries ``created``."""
        entries = []
        for arch in ("amd64", "arm64"):
            digest, size = self.platform_manifest(created, arch, salt)
            entries.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": size,
                    "platform": {"architecture": arch, "os": "linux"},
                }
            )
        index: dict[str, object] = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": entries,
        }
        if annotate:
            index["annotations"] = {CREATED_ANNOTATION: created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        body = canonical(index)
        return sha256(body), body


def seed_image(
    registry_url: str,
    repository: str,
    *,
    digests: int,
    tags_per_digest: int,
    start: datetime = datetime(2024, 3, 1, 8, 0, 0, 123456, tzinfo=UTC),
    auth: tuple[str, str] | None = None,
    verify: ssl.SSLContext | bool = True,
) -> list[PushedImage]:
    """Push ``digests`` multi-arch indexes, each under ``tags_per_digest`` tags.

    Each index is created an hour after the one before; every third carries the created
    annotation, the others leave it to the config, so both paths of the reader are exercised.
    """
    pushed = []
    with httpx.Client(base_url=registry_url, timeout=30, auth=auth, verify=verify) as client:
        pusher = Pusher(client, repository)
        for number in range(digests):
            created = start + timedelta(hours=number)
            digest, body = pusher.multi_arch_index(
                created, f"{repository}-{number}", annotate=number % 3 == 0
            )
            tags = tuple(f"1.{number}.{variant}" for variant in range(tags_per_digest - 1))
            tags += ("latest",) if number == digests - 1 else (f"1.{number}",)
            for tag in tags:
                pusher.manifest(tag, body, OCI_INDEX)
            pushed.append(PushedImage(digest=digest, created=created, tags=tags))
    return pushed


def known_digests(
    reference: ImageReference, created: Mapping[str, datetime | None]
) -> dict[ImageReference, TagSnapshot]:
    """An earlier fetch of ``reference`` that knew these digests' creation times (and their
    platforms, none): a fetch given it asks for none of their manifests again."""
    return {
        reference: TagSnapshot(
            image=reference.name,
            fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
            tags={},
            digests={digest: DigestFacts(created=time) for digest, time in created.items()},
        )
    }
