"""How the tables look, checked in a real browser: Debian's Chromium, driven by Playwright.

The example site is built (default theme and Material), and its Sphinx twin (Sphinx's default
theme, Alabaster), served on loopback and opened at a
phone's width (390 px) and a desktop's (1280 px): the page never scrolls sideways, no tag or
digest is broken across lines, and a copy button copies. Screenshots go to tests/artifacts/
(ignored by git) for a person to look at.
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, sync_playwright

from tests.support.site import copy_example, mkdocs_build
from tests.support.sphinx_project import copy_example_sphinx, sphinx_build

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTHS = (390, 1280)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def built_example(tmp_path: Path, theme: str) -> tuple[Path, str]:
    """The example site built in ``theme`` (or the Sphinx twin, in Sphinx's default theme):
    the output folder, and the rust page's path in it."""
    if theme == "sphinx":
        sphinx = sphinx_build(copy_example_sphinx(tmp_path), "-W")
        assert sphinx.returncode == 0, sphinx.output
        return sphinx.out_dir, "rust.html"
    config_path = copy_example(tmp_path)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["theme"] = {"name": theme}
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    build = mkdocs_build(config_path)
    assert build.returncode == 0, build.output
    return build.site_dir, "rust/"


@pytest.mark.parametrize("theme", ["mkdocs", "material", "sphinx"])
def test_tables_fit_a_phone_and_a_desktop_and_copy_buttons_copy(
    browser: Browser, tmp_path: Path, theme: str
) -> None:
    folder, rust_page = built_example(tmp_path, theme)
    server, url = serve(folder)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{url}/{rust_page}")
            page.wait_for_load_state("load")
            page.screenshot(path=str(ARTIFACTS / f"rust-{theme}-{width}.png"), full_page=True)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"
            broken = page.evaluate(
                "[...document.querySelectorAll('.taghistory code')]"
                ".filter(code => code.getClientRects().length > 1).map(code => code.textContent)"
            )
            assert broken == [], f"broken across lines at {width} px: {broken}"
        button = page.locator(".taghistory-copy").first
        expected = button.get_attribute("data-copy")
        assert expected is not None and expected.startswith("sha256:")
        button.click()
        page.wait_for_function("document.querySelector('.taghistory-copied') !== null")
        assert page.evaluate("navigator.clipboard.readText()") == expected
        context.close()
    finally:
        server.shutdown()
        server.server_close()
