"""What an image says it was built from: the ``org.opencontainers.image.source`` and
``revision`` of its annotations or its config's labels (OCI image-spec, "Pre-Defined
Annotation Keys"; Docker's and buildkit's labels use the same keys)."""

from __future__ import annotations

from mkdocs_taghistory.facts import is_label, without_credentials

SOURCE_LABEL = "org.opencontainers.image.source"
REVISION_LABEL = "org.opencontainers.image.revision"


class Labels:
    """The source and revision an image says it was built from: the first document read
    that names each (the index's annotations, a platform manifest's, the config's labels)."""

    def __init__(self) -> None:
        """Nothing read yet."""
        self.source = ""
        self.revision = ""

    def read(self, values: object) -> None:
        """Take what ``values`` (annotations or labels) says and was not said before; a value
        that is not short text on one line is left out, never shown."""
        if not isinstance(values, dict):
            return
        source, revision = values.get(SOURCE_LABEL), values.get(REVISION_LABEL)
        if not self.source and isinstance(source, str) and is_label(source):
            self.source = without_credentials(source.strip())
        if not self.revision and isinstance(revision, str) and is_label(revision):
            self.revision = revision.strip()
