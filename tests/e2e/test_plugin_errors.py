"""A site with a bad directive or a bad option fails its build with a message a user can act on."""

from __future__ import annotations

from pathlib import Path

from mkdocs_taghistory.extension import OPTION_HELP
from mkdocs_taghistory.mkdocs_schema import TagHistoryConfig
from mkdocs_taghistory.site_options import DEFAULT_OPTIONS, SITE_OPTIONS
from mkdocs_taghistory.view import COLUMNS
from tests.support.registry_server import free_port
from tests.support.site import mkdocs_build, write_site

FRONT_MATTER = "---\ntitle: Widget\n---\n\n# Widget\n\n"


def test_a_malformed_directive_fails_the_build_with_page_and_line(tmp_path: Path) -> None:
    # The wiring: what the site plan says of a damaged directive (unit-tested case by case in
    # test_directive.py) stops the build, at the line the author's editor shows: the front
    # matter counts.
    directive = '<< tag_history "rust" limt=3 >>'
    config = write_site(
        tmp_path, {"page.md": FRONT_MATTER + "Text.\n\n" + directive + "\n"}, {"offline": True}
    )
    build = mkdocs_build(config)
    assert build.returncode != 0
    assert "docs/page.md:9: unknown option 'limt'" in build.output, build.output
    assert "Traceback" not in build.output


def test_directives_in_code_are_shown_as_written(tmp_path: Path) -> None:
    page = (
        '# Syntax\n\n```markdown\n<< tag_history "rust" >>\n```\n\n'
        'Inline: `<< tag_history "rust" >>`.\n\n    << tag_history "rust" >>\n'
    )
    # Offline with an empty cache: any directive that were expanded would fail the build.
    build = mkdocs_build(write_site(tmp_path, {"page.md": page}, {"offline": True}), "--strict")
    assert build.returncode == 0, build.output
    codes = [code.get_text() for code in build.page("page").find_all("code")]
    # The inline span, the fenced block and the indented block.
    assert codes == [
        '<< tag_history "rust" >>\n',
        '<< tag_history "rust" >>',
        '<< tag_history "rust" >>\n',
    ]


def test_offline_without_cache_says_how_to_fill_it(tmp_path: Path) -> None:
    config = write_site(tmp_path, {"page.md": '<< tag_history "rust" >>\n'}, {})
    build = mkdocs_build(config, env={"TAGHISTORY_OFFLINE": "1"})
    assert build.returncode != 0
    assert "docs/page.md:1: cannot show the tag history of cgr.dev/chainguard/rust" in build.output
    assert "no cached copy" in build.output and "fill the cache" in build.output


def test_unreachable_registry_without_cache_names_image_page_and_line(tmp_path: Path) -> None:
    image = f"127.0.0.1:{free_port()}/acme/widget"
    config = write_site(
        tmp_path, {"a.md": "# A\n", "b.md": f'x\n\n<< tag_history "{image}" >>\n'}, {"timeout": 2}
    )
    build = mkdocs_build(config)
    assert build.returncode != 0
    assert f"docs/b.md:3: cannot show the tag history of {image}: cannot reach" in build.output
    assert "no cached copy" in build.output


def test_a_bad_plugin_option_stops_the_build_with_its_message(tmp_path: Path) -> None:
    # The wiring: settings_from_options' message (unit-tested case by case) reaches the user.
    options = {"concurrency": 0}
    build = mkdocs_build(write_site(tmp_path, {"index.md": "# Home\n"}, options), "--strict")
    assert build.returncode != 0
    assert "option 'concurrency': must be at least 1" in build.output, build.output
    assert "Traceback" not in build.output


def test_plugin_and_extension_take_the_same_options() -> None:
    plugin_options = {name for name, _ in TagHistoryConfig._schema}
    assert plugin_options == set(DEFAULT_OPTIONS) == set(OPTION_HELP)


def test_readme_lists_every_site_option_with_its_default() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("| option | default | meaning |")
    rows = {}
    for line in readme[start:].splitlines()[2:]:
        if not line.startswith("| `"):
            break
        name, default = (cell.strip() for cell in line.split("|")[1:3])
        rows[name.strip("`")] = default
        if name == "`labels`":  # its meaning lists the default headings, which must not drift
            headings = line.split("|")[3]
            assert all(f'"{column.heading}"' in headings for column in COLUMNS.values()), line
    assert sorted(rows) == sorted(option.name for option in SITE_OPTIONS)
    for option in SITE_OPTIONS:
        if isinstance(option.default, bool):
            assert rows[option.name] == f"`{str(option.default).lower()}`", option.name
        elif (
            isinstance(option.default, (int, float))
            or option.name == "registry"
            or option.default in ([], {})
        ):
            assert rows[option.name] == f"`{option.default}`", option.name


def test_a_misspelt_plugin_option_fails_strict_with_a_did_you_mean(tmp_path: Path) -> None:
    build = mkdocs_build(
        write_site(tmp_path, {"index.md": "# Home\n"}, {"concurency": 4}), "--strict"
    )
    assert build.returncode != 0
    assert "concurency" in build.output and "did you mean 'concurrency'?" in build.output
