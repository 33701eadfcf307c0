"""Refresh the example sites' cache of ``localhost:5000/acme/widget``, the image their
"Pinning" pages show: a local registry (Debian's docker-registry) on port 5000 with the images
the columns tests push (tests/support/pinning.py), fetched once with every column asked for,
and the cache file copied to the Sphinx twin.

    .venv/bin/python scripts/example_registry.py

The cgr.dev images' cache is not touched. The sites build from what this writes, offline.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pinning import REPOSITORY, push_images  # noqa: E402
from tests.support.registry_server import RegistryServer  # noqa: E402

PORT = 5000
CACHE = ROOT / "example_site" / ".cache" / "plugin" / "taghistory"
SPHINX_CACHE = ROOT / "example_sphinx" / ".cache" / "taghistory"
COLUMNS = "tags,last_changed,platforms,signatures,source"


def main() -> None:
    """Start the registry, push the images, fetch them into the example site's cache."""
    with tempfile.TemporaryDirectory() as folder:
        registry = RegistryServer(Path(folder), PORT).start()
        try:
            push_images(registry.url)
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "taghistory"),
                    "show",
                    f"localhost:{PORT}/{REPOSITORY}",
                    *("--cache-dir", str(CACHE), "--columns", COLUMNS),
                ],
                check=True,
            )
            for written in CACHE.glob(f"localhost_{PORT}_*.json"):
                shutil.copy2(written, SPHINX_CACHE / written.name)
        finally:
            registry.stop()


if __name__ == "__main__":
    main()
