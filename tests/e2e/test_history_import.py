"""History from earlier pages, through the command: the seed page, the site's own built HTML
and a page at a (loopback) address imported into the cache, and which tags point at a digest
after it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from click.testing import CliRunner

from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.cli import main
from mkdocs_taghistory.history import Sighting, TagSnapshot, TagState
from tests.support.seed import SEED
from tests.support.site import copy_example, mkdocs_build

PUBLIC, PRIVATE = "cgr.dev/chainguard/rust", "cgr.dev/chainguard-private/rust"
D72 = "sha256:72bc1c12c021490164a7c20efc17ae14249559c2550edbb00c1583584ef55751"
NEW = "sha256:" + "e" * 64


def run(*arguments: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(argument) for argument in arguments])
    return result.exit_code, result.output


def later_fetch(cache: SnapshotCache) -> None:
    """What a fetch of April 2nd finds of the private image: latest moved to a new digest on
    April 1st, 1.77 stayed. Its ledger knows only what this fetch saw."""
    april = datetime(2024, 4, 2, tzinfo=UTC)
    cache.store(
        TagSnapshot(
            PRIVATE,
            april,
            {
                "latest": TagState(NEW, datetime(2024, 4, 1, tzinfo=UTC)),
                "1.77": TagState(D72, datetime(2024, 3, 22, 0, 20, tzinfo=UTC)),
            },
            ledger={"latest": (Sighting(NEW, april),), "1.77": (Sighting(D72, april),)},
        )
    )


def test_the_seed_pages_history_joins_the_example_sites_cache_once(tmp_path: Path) -> None:
    config = copy_example(tmp_path)
    cache_dir = config.parent / ".cache" / "plugin" / "taghistory"
    code, output = run("import", SEED, "--image", "rust", "-f", config)
    assert code == 0, output
    assert f"{PUBLIC} (the table under 'Public Registry'): 2 observations added" in output
    assert f"{PRIVATE} (the table under 'Private/Dedicated Registry'): 12 observations" in output
    files = {path: path.read_bytes() for path in cache_dir.glob("*.json")}
    code, output = run("import", SEED, "--image", "rust", "-f", config)
    assert code == 0 and "0 observations added, 12 already known" in output, output
    assert {path: path.read_bytes() for path in cache_dir.glob("*.json")} == files
    # The registry moves on; the seed's history says where latest was before.
    later_fetch(SnapshotCache(cache_dir))
    code, output = run("import", SEED, "--image", "rust", "-f", config)
    # Every row comes before what the April fetch knows: latest's, 1.77's, the gone tags'.
    assert "Registry'): 12 observations added" in output, output
    code, output = run("show", "rust", "-f", config, "--offline", "--digest", "72bc1c12c021")
    assert code == 0, output
    assert output.splitlines()[0] == f"{PRIVATE}@{D72}"
    assert output.splitlines()[2:] == [
        "| Tag      | Points at It | Since      | Until     |",
        "|----------|--------------|------------|-----------|",
        "| `1.77`   | now          | March 22nd |           |",
        # Gone from the April fetch: when they left is not known.
        "| `1`      | before       | March 22nd | unknown   |",
        "| `1.77.0` | before       | March 22nd | unknown   |",
        "| `latest` | before       | March 22nd | April 2nd |",
    ]


def test_the_sites_own_built_html_restores_a_lost_history(tmp_path: Path) -> None:
    config = copy_example(tmp_path)
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    cache = SnapshotCache(config.parent / ".cache" / "plugin" / "taghistory")
    later_fetch(cache)  # a cache that lost the March fetch, as a new clone without it would
    code, output = run(
        "import", build.site_dir / "rust" / "index.html", "--image", "rust", "-f", config
    )
    assert code == 0, output
    restored = cache.load(PRIVATE)
    assert restored is not None
    # The page's exact times: latest on D72 from March 22nd 00:20, until the fetch saw NEW.
    assert restored.ledger["latest"] == (
        Sighting(D72, datetime(2024, 3, 22, 0, 20, tzinfo=UTC)),
        Sighting(NEW, datetime(2024, 4, 2, tzinfo=UTC)),
    )
    assert restored.tags["latest"] == TagState(NEW, datetime(2024, 4, 1, tzinfo=UTC))


def test_a_page_at_an_address_is_read_and_a_page_with_several_tables_asks_which(
    tmp_path: Path,
) -> None:
    config = copy_example(tmp_path)
    cache_dir = config.parent / ".cache" / "plugin" / "taghistory"
    handler = partial(SimpleHTTPRequestHandler, directory=str(SEED.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{SEED.name}"
        code, output = run("import", url, "--image", PUBLIC, "--cache-dir", cache_dir)
        assert code == 1 and "2 tag tables (under 'Public Registry', " in output, output
        arguments = ("import", url, "--image", PUBLIC, "--cache-dir", cache_dir)
        code, output = run(*arguments, "--section", "Public Registry")
        assert code == 0 and "2 observations added" in output, output
        code, output = run("import", url + "x", "--image", PUBLIC, "--cache-dir", cache_dir)
        assert code == 1 and "the server answered HTTP 404" in output, output
    finally:
        server.shutdown()
        server.server_close()
    code, output = run(
        "import",
        SEED,
        "--image",
        "acme/none",
        "--cache-dir",
        cache_dir,
        "--section",
        "Public Registry",
    )
    assert code == 1 and "no cached fetch of cgr.dev/chainguard/acme/none" in output, output
