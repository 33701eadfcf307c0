"""Images for the columns people pinning images ask for, pushed through the OCI push API
as build tools push them: multi-arch indexes (three platforms, one with a variant), single
images, sources and revisions in annotations and in config labels (a GitHub, a GitLab, a plain
and a hostile address), and cosign's signature, attestation and SBOM tags beside some digests.
The columns tests push them into a fresh registry; scripts/example_registry.py into the one
the example site's widget page was fetched from."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx

from tests.support.seeding import (
    CREATED_ANNOTATION,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
    Pusher,
    canonical,
    sha256,
)

REPOSITORY = "acme/widget"
SOURCE = "org.opencontainers.image.source"
REVISION = "org.opencontainers.image.revision"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass(frozen=True)
class Pushed:
    """The images of the repository, by what each one shows."""

    github: str  # an index, created and source annotated on it, three platforms
    gitlab: str  # an index without annotations: time and labels in the config
    single: str  # one platform, created and source annotated, its revision in the labels
    hostile: str  # one platform, a source that must never become a link


def _config(arch: str, labels: dict[str, str], salt: str, variant: str = "") -> bytes:
    document: dict[str, object] = {
        "architecture": arch,
        "os": "linux",
        # The gitlab index's time, which only its configs give; the others' are annotated.
        "created": "2024-03-15T10:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": []},
        "config": {"Labels": {"salt": salt, **labels}},
    }
    if variant:
        document["variant"] = variant
    return canonical(document)


def _image(
    pusher: Pusher,
    arch: str,
    labels: dict[str, str],
    salt: str,
    *,
    variant: str = "",
    annotations: dict[str, str] | None = None,
) -> tuple[str, int, bytes]:
    layer = pusher.blob(f"layer {salt} {arch}".encode())
    config = _config(arch, labels, salt, variant)
    manifest: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": pusher.blob(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer, "size": 1}],
    }
    if annotations:
        manifest["annotations"] = annotations
    body = canonical(manifest)
    return pusher.manifest(sha256(body), body, OCI_MANIFEST), len(body), body


def _index(pusher: Pusher, platforms: list[tuple[str, str]], labels: dict[str, str],
           salt: str, annotations: dict[str, str] | None = None) -> bytes:  # fmt: skip
    entries = []
    for arch, variant in platforms:
        digest, size, _ = _image(pusher, arch, labels, salt, variant=variant)
        platform = {
            "architecture": arch,
            "os": "linux",
            **({"variant": variant} if variant else {}),
        }
        entries.append(
            {"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": platform}
        )
    index: dict[str, object] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    if annotations:
        index["annotations"] = annotations
    return canonical(index)


def push_images(registry_url: str, verify: ssl.SSLContext | bool = True) -> Pushed:
    """The four images, their tags, and cosign's tags beside two of them."""
    with httpx.Client(base_url=registry_url, timeout=30, verify=verify) as client:
        pusher = Pusher(client, REPOSITORY)
        github = _index(
            pusher,
            [("amd64", ""), ("arm64", "v8"), ("arm", "v7")],
            {},
            "github",
            {
                CREATED_ANNOTATION: "2024-03-20T10:00:00Z",
                SOURCE: "https://github.com/acme/widget",
                REVISION: COMMIT,
            },
        )
        for tag in ("2.0", "latest"):
            pusher.manifest(tag, github, OCI_INDEX)
        gitlab = _index(
            pusher,
            [("amd64", ""), ("arm64", "")],
            {SOURCE: "https://gitlab.com/acme/widget.git", REVISION: "v1.5.0"},
            "gitlab",
        )
        pusher.manifest("1.5", gitlab, OCI_INDEX)
        single, _, single_body = _image(
            pusher,
            "amd64",
            {SOURCE: "https://example.org/src/widget", REVISION: "v1.2.3"},
            "single",
            # The source annotated, its revision only in the labels: a reader must not stop
            # at the annotation and lose the revision.
            annotations={
                CREATED_ANNOTATION: "2024-03-10T10:00:00Z",
                SOURCE: "https://example.org/src/widget",
            },
        )
        pusher.manifest("1.2", single_body, OCI_MANIFEST)
        _, _, hostile_body = _image(
            pusher,
            "amd64",
            {SOURCE: "javascript:alert(1)//<b>x</b>"},
            "hostile",
            annotations={CREATED_ANNOTATION: "2024-03-05T10:00:00Z"},
        )
        pusher.manifest("0.1", hostile_body, OCI_MANIFEST)
        # cosign's tag scheme: a signature of the github image, an attestation and an SBOM of
        # the gitlab one (each a small manifest of its own under sha256-<hex>.<kind>).
        for digest, kind in (
            (sha256(github), "sig"),
            (sha256(gitlab), "att"),
            (sha256(gitlab), "sbom"),
        ):
            _, _, body = _image(pusher, "amd64", {}, f"cosign-{kind}-{digest[-6:]}")
            pusher.manifest(f"sha256-{digest.removeprefix('sha256:')}.{kind}", body, OCI_MANIFEST)
    return Pushed(sha256(github), sha256(gitlab), single, sha256(hostile_body))
