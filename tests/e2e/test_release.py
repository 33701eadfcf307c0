"""The release as people meet it: one version everywhere, the name registries see, and the
command reading a MkDocs site when only ProperDocs is installed."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mkdocs_taghistory
from mkdocs_taghistory.cli import main
from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.client import RegistryClient
from mkdocs_taghistory.settings import ClientSettings
from tests.support.fixtures import GADGET, SeededRegistry
from tests.support.site import write_site


def test_one_version_in_the_metadata_the_package_and_the_command() -> None:
    assert mkdocs_taghistory.__version__ == version("mkdocs-taghistory")
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"taghistory, version {mkdocs_taghistory.__version__}\n"


class _Recorder(ThreadingHTTPServer):
    """A registry that knows no repository, as the distribution spec answers for one it does
    not hold (404, NAME_UNKNOWN), and keeps the User-Agent of every request."""

    daemon_threads = True

    def __init__(self) -> None:
        self.agents: list[str | None] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                recorder.agents.append(self.headers.get("User-Agent"))
                body = json.dumps(
                    {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}
                ).encode()
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET  # noqa: N815 (http.server's name)

            def log_message(self, format: str, *args: Any) -> None:
                """Say nothing: the test reads the recorder."""

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_registries_see_the_release_in_the_user_agent(recorder: _Recorder) -> None:
    reference = parse_reference(f"127.0.0.1:{recorder.server_address[1]}/acme/widget")
    result = RegistryClient(ClientSettings(timeout=10)).fetch_many([reference])[reference]
    assert isinstance(result, RegistryError)
    assert recorder.agents
    assert set(recorder.agents) == {f"mkdocs-taghistory/{mkdocs_taghistory.__version__}"}


# Runs the command with some top-level packages hidden, as if they were not installed.
_WITHOUT = """
import importlib.abc, sys
hidden = set(sys.argv.pop(1).split(","))
class Hidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in hidden:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Hidden())
from mkdocs_taghistory.cli import main
sys.argv[0] = "taghistory"
main()
"""


def taghistory_without(hidden: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT, hidden, *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_command_reads_mkdocs_yml_with_only_properdocs_installed(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    image = f"{seeded_registry.server.host}/{GADGET}"
    site = write_site(tmp_path, {"index.md": f'<< tag_history "{image}" >>\n'}, {"cache_dir": "c"})
    refreshed = taghistory_without("mkdocs", "refresh", "-f", str(site))
    assert refreshed.returncode == 0, refreshed.stderr
    assert len(list((tmp_path / "c").glob("*.json"))) == 1
    listed = taghistory_without("mkdocs", "cache", "-f", str(site))
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith(f"{image} ") for line in listed.stdout.splitlines())


def test_with_neither_mkdocs_nor_properdocs_the_command_says_what_to_install(
    tmp_path: Path,
) -> None:
    site = write_site(tmp_path, {"index.md": "# No tables\n"}, {})
    result = taghistory_without("mkdocs,properdocs", "cache", "-f", str(site))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: reading mkdocs.yml needs MkDocs or ProperDocs: pip install mkdocs (or properdocs)"
    )
