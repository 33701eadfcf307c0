"""How the tables look to readers, checked in a real browser: Debian's Chromium, driven by
Playwright.

The example site (and its Sphinx twin) is built in each theme people use — MkDocs' default
and readthedocs themes, Material light and dark (``slate``), Zensical (the extension alone,
its assets inline), Sphinx with Alabaster, Furo and the Read the Docs theme — with a second
page that puts tables where authors put them: in an admonition, a collapsible block and tabs,
with the ``pull`` and ``architectures`` columns, a ``tag=`` table, and a table of each
platform's digest, signatures and source. Each page is opened at a
phone's width (390 px), a tablet's (768) and a laptop's (1280), and what a reader would see is
asserted: the page never scrolls sideways, no table needs its scroll box, every copy button is
on screen (not clipped, not covered) when its row is, tags and dates are whole, a click and a
keyboard's Enter copy the full value. axe-core checks the tables for accessibility problems.
Screenshots go to tests/artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page, sync_playwright

from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.history import Sighting
from tests.support.seed import ROOT
from tests.support.site import EXAMPLE, copy_example, mkdocs_build
from tests.support.sphinx_project import copy_example_sphinx, sphinx_build

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTHS = (390, 768, 1280)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PRIVATE_RUST = "cgr.dev/chainguard-private/rust"
# The example sites' demonstration image, cached with each platform's digest, what is attached
# to it and its source (scripts/example_registry.py).
WIDGET = "localhost:5000/acme/widget"

# The page of tables where authors put them, in Markdown (MkDocs, Zensical) and MyST (Sphinx).
LAYOUTS_MD = f"""# Tables in context

!!! note "In an admonition"

    << tag_history "{PRIVATE_RUST}" limit=3 columns="tags,last_changed,pull,architectures" >>

??? info "In a collapsible block"

    << tag_history "{PRIVATE_RUST}" limit=3 >>

=== "In a tab"

    << tag_history "{PRIVATE_RUST}" limit=3 >>

=== "Another tab"

    Nothing here.

## One tag's history

<< tag_history "{PRIVATE_RUST}" tag=latest >>

## Pinning columns

!!! tip "Each platform's digest, signatures, the source"

    << tag_history "{WIDGET}" columns="tags,platforms,signatures,source" >>
"""
LAYOUTS_MYST = f"""# Tables in context

```{{note}}
In an admonition:

:::{{tag-history}} {PRIVATE_RUST}
:limit: 3
:columns: tags,last_changed,pull,architectures
:::
```

## One tag's history

```{{tag-history}} {PRIVATE_RUST}
:tag: latest
```

## Pinning columns

```{{tip}}
:::{{tag-history}} {WIDGET}
:columns: tags,platforms,signatures,source
:::
```
"""
MARKDOWN_EXTENSIONS: list[Any] = [
    "admonition",
    "pymdownx.details",
    "pymdownx.superfences",
    {"pymdownx.tabbed": {"alternate_style": True}},
]


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


@pytest.fixture(scope="module")
def axe_script() -> str:
    """axe-core from the npm registry, as scripts/test installs it."""
    path = ROOT / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        pytest.fail("axe-core is needed for the accessibility checks: run scripts/test")
    return path.read_text(encoding="utf-8")


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def add_history(cache_folder: Path) -> None:
    """Give the cached private rust image a ledger for ``latest``: three digests it pointed
    at, a week apart (the example's cache has seen each tag once)."""
    cache = SnapshotCache(cache_folder)
    snapshot = cache.load(PRIVATE_RUST)
    assert snapshot is not None
    digests = list(snapshot.digests)[:3]
    moment = snapshot.fetched_at
    sightings = tuple(
        Sighting(digest, moment - timedelta(days=7 * (len(digests) - number)))
        for number, digest in enumerate(digests)
    )
    cache.store(snapshot._replace(ledger={**snapshot.ledger, "latest": sightings}))


def build_mkdocs(tmp_path: Path, theme: dict[str, Any]) -> Path:
    config_path = copy_example(tmp_path)
    (config_path.parent / "docs" / "layouts.md").write_text(LAYOUTS_MD, encoding="utf-8")
    add_history(config_path.parent / ".cache" / "plugin" / "taghistory")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["theme"] = theme
    config["markdown_extensions"] = [*config.get("markdown_extensions", []), *MARKDOWN_EXTENSIONS]
    config["nav"] = [*config["nav"], {"Layouts": "layouts.md"}]
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    build = mkdocs_build(config_path)
    assert build.returncode == 0, build.output
    return build.site_dir


def build_zensical(tmp_path: Path) -> Path:
    """The example site as Zensical builds it: no plugins, the extension under
    ``markdown_extensions`` with the plugin's options, its stylesheet and script inline.

    The cache moves out of ``.cache/``, which is Zensical's own: ``zensical build --clean``
    (the way to see a changed table, as Zensical keeps rendered pages) empties it.
    """
    config_path = copy_example(tmp_path)
    site = config_path.parent
    (site / "docs" / "layouts.md").write_text(LAYOUTS_MD, encoding="utf-8")
    shutil.move(site / ".cache" / "plugin" / "taghistory", site / "taghistory-cache")
    add_history(site / "taghistory-cache")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    options = next(
        plugin["taghistory"] for plugin in config.pop("plugins") if isinstance(plugin, dict)
    )
    options["cache_dir"] = "taghistory-cache"
    config["markdown_extensions"] = [
        *config.get("markdown_extensions", []),
        *MARKDOWN_EXTENSIONS,
        {"mkdocs_taghistory.extension": options},
    ]
    config["nav"] = [*config["nav"], {"Layouts": "layouts.md"}]
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    zensical = shutil.which("zensical", path=str(Path(sys.executable).parent))
    assert zensical is not None, "zensical is in the test group: scripts/test installs it"
    completed = subprocess.run(
        [zensical, "build", "--clean"],
        cwd=site,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return site / "site"


def build_sphinx(tmp_path: Path, theme: str) -> Path:
    project = copy_example_sphinx(tmp_path)
    (project / "layouts.md").write_text(LAYOUTS_MYST, encoding="utf-8")
    index = project / "index.rst"
    text = index.read_text(encoding="utf-8")
    index.write_text(text.replace("   options\n", "   options\n   layouts\n", 1), encoding="utf-8")
    with (project / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(f"html_theme = {theme!r}\nmyst_enable_extensions = ['colon_fence']\n")
    add_history(project / ".cache" / "taghistory")
    built = sphinx_build(project, "-W")
    assert built.returncode == 0, built.output
    return built.out_dir


SITES: dict[str, Callable[[Path], Path]] = {
    "mkdocs": lambda tmp: build_mkdocs(tmp, {"name": "mkdocs"}),
    "readthedocs": lambda tmp: build_mkdocs(tmp, {"name": "readthedocs"}),
    "material": lambda tmp: build_mkdocs(tmp, {"name": "material"}),
    "material-slate": lambda tmp: build_mkdocs(
        tmp, {"name": "material", "palette": {"scheme": "slate"}}
    ),
    "zensical": build_zensical,
    "sphinx-alabaster": lambda tmp: build_sphinx(tmp, "alabaster"),
    "sphinx-furo": lambda tmp: build_sphinx(tmp, "furo"),
    "sphinx-rtd": lambda tmp: build_sphinx(tmp, "sphinx_rtd_theme"),
}


def page_paths(theme: str) -> tuple[str, str]:
    """The rust page's and the layouts page's paths in the built site."""
    if theme.startswith("sphinx"):
        return "rust.html", "layouts.html"
    return "rust/", "layouts/"


# What a reader sees of each table, measured in the page: every problem as a sentence.
_PROBLEMS = """() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const overflow = document.documentElement.scrollWidth - width;
  if (overflow > 0) problems.push(`the page scrolls sideways by ${overflow} px`);
  const tables = [...document.querySelectorAll('.taghistory table')];
  if (tables.length === 0) problems.push('no table on the page');
  for (const table of tables) {
    // Every box between the table and the page that could scroll it sideways.
    for (let box = table; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (['auto', 'scroll', 'hidden'].includes(style.overflowX)
          && box.scrollWidth > box.clientWidth + 1) {
        problems.push(`a table's box (${box.className || box.tagName}) scrolls sideways by `
          + `${box.scrollWidth - box.clientWidth} px`);
      }
    }
  }
  for (const code of document.querySelectorAll('.taghistory td:not(.taghistory-copyable) code')) {
    if (code.getClientRects().length > 1) problems.push(`broken: ${code.textContent}`);
    const cell = code.closest('td').getBoundingClientRect();
    const box = code.getBoundingClientRect();
    if (box.right > cell.right + 1) problems.push(`sticks out of its cell: ${code.textContent}`);
  }
  for (const time of document.querySelectorAll('.taghistory time')) {
    if (time.getClientRects().length > 1) problems.push(`date wrapped: ${time.textContent}`);
  }
  const buttons = [...document.querySelectorAll('.taghistory-copy')];
  for (const button of buttons) {
    const value = button.closest('.taghistory-value').querySelector('code');
    const whole = value.getAttribute('title') || value.textContent;
    if (whole !== button.dataset.copy) {
      problems.push(`copies ${button.dataset.copy}, shows ${whole}`);
    }
    // Hidden in a closed block or an inactive tab: checked when opened, below.
    if (!button.checkVisibility({visibilityProperty: true})) continue;
    // Instant: themes that scroll smoothly (MkDocs' own) would still be on their way.
    button.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});
    const box = button.getBoundingClientRect();
    if (box.width < 8 || box.height < 8) problems.push(`a copy button is ${box.width} px wide`);
    if (box.left < 0 || box.right > width) {
      problems.push(`a copy button is off screen (${Math.round(box.left)} px)`);
      continue;
    }
    const seen = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (seen !== button) problems.push(`a copy button is covered or clipped by `
      + `${seen ? seen.className || seen.tagName : 'nothing'}`);
  }
  window.scrollTo({top: 0, behavior: 'instant'});
  return {problems, buttons: buttons.length,
          shown: buttons.filter(button => button.checkVisibility()).length};
}"""

# Open what hides tables until a reader asks: collapsible blocks, the other tabs.
_OPEN_ALL = """() => {
  for (const details of document.querySelectorAll('details')) details.open = true;
}"""


def _assert_reader_sees_everything(page: Page, label: str) -> None:
    measured = page.evaluate(_PROBLEMS)
    assert measured["problems"] == [], f"{label}: {measured['problems']}"
    assert measured["shown"] > 0, f"{label}: no copy button shown"


def _copy_checks(page: Page, label: str) -> None:
    """A click copies the full value; so does Enter on a button reached by the keyboard, whose
    focus ring shows."""
    buttons = page.locator(".taghistory-copy:visible")
    for index in (0, buttons.count() - 1):
        button = buttons.nth(index)
        expected = button.get_attribute("data-copy")
        assert expected is not None and "sha256:" in expected
        page.evaluate("navigator.clipboard.writeText('')")
        button.click()
        page.wait_for_function("document.querySelector('.taghistory-copied') !== null")
        assert page.evaluate("navigator.clipboard.readText()") == expected, label
        page.wait_for_function("document.querySelector('.taghistory-copied') === null")
    # The keyboard: Tab to the first button from the element before it.
    first = buttons.first
    name = first.get_attribute("aria-label") or ""
    assert name.startswith(("Copy digest sha256:", "Copy pull reference")), name
    page.evaluate(
        "() => { const b = document.querySelector('.taghistory-copy');"
        " const before = document.createElement('a'); before.href = '#'; before.id = 'before';"
        " before.textContent = 'x'; b.closest('.taghistory').before(before); before.focus(); }"
    )
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('taghistory-copy')"):
            break
    else:
        raise AssertionError(f"{label}: Tab never reaches a copy button")
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement.closest('.taghistory-value'));"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
    )
    assert ring[0] != "none" and ring[1] >= 2, f"{label}: no focus ring ({ring})"
    page.evaluate("navigator.clipboard.writeText('')")
    page.keyboard.press("Enter")
    expected = page.evaluate("document.activeElement.dataset.copy")
    page.wait_for_function("document.querySelector('.taghistory-copied') !== null")
    assert page.evaluate("navigator.clipboard.readText()") == expected, label


def _axe(page: Page, axe_script: str, label: str) -> None:
    # Colours as they settle: a theme that fades its colours in when its script picks the
    # scheme (furo) would otherwise be measured half-way.
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
    page.add_script_tag(content=axe_script)
    result = page.evaluate(
        "async () => { const r = await axe.run({include: [['.taghistory']]},"
        " {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']});"
        " return r.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))"
        ".slice(0, 3), summary: v.nodes.length ? v.nodes[0].failureSummary : ''})); }"
    )
    assert result == [], f"{label}: {json.dumps(result, indent=1)}"


@pytest.mark.parametrize("theme", list(SITES))
def test_every_row_tags_date_and_a_copyable_digest_in_view_in_every_theme(
    browser: Browser, tmp_path: Path, theme: str, axe_script: str
) -> None:
    folder = SITES[theme](tmp_path)
    server, url = serve(folder)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        for path in page_paths(theme):
            name = path.strip("/").removesuffix(".html")
            for width in WIDTHS:
                label = f"{theme} {name} at {width} px"
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"{url}/{path}")
                page.wait_for_load_state("load")
                page.screenshot(path=str(ARTIFACTS / f"{name}-{theme}-{width}.png"), full_page=True)
                _assert_reader_sees_everything(page, label)
                if (theme, name, width) == ("material", "rust", 1280):
                    # README's picture (assets/readme/example-rust-page.png is a copy): the
                    # page as a reader first scrolls to its tables.
                    page.evaluate(
                        "window.scrollTo({top: document.querySelector('h2').offsetTop - 60,"
                        " behavior: 'instant'})"
                    )
                    page.screenshot(path=str(ARTIFACTS / "readme-example-rust-page.png"))
                if name == "layouts":
                    page.evaluate(_OPEN_ALL)
                    for tab in page.locator(".tabbed-labels label, .tabbed-set > label").all():
                        if tab.is_visible():
                            tab.click()
                            _assert_reader_sees_everything(page, f"{label}, {tab.inner_text()}")
                    _assert_reader_sees_everything(page, f"{label}, opened")
                if width in (390, 1280):
                    _axe(page, axe_script, label)
            _copy_checks(page, f"{theme} {name}")
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def test_the_example_site_is_built_in_material() -> None:
    """README shows the example site in Material: it is built in Material."""
    config = yaml.safe_load((EXAMPLE / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["theme"]["name"] == "material"
