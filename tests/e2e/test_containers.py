"""Directives wherever an author can put Markdown: every block container of Python-Markdown and
pymdown-extensions, nested, with Material's extension set, in a real build; code stays code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from mkdocs_taghistory.cache import cache_file_name, snapshot_to_json
from mkdocs_taghistory.history import TagSnapshot, TagState
from tests.support.site import Build, mkdocs_build, write_site

IMAGE = "registry.example/acme/widget"
FETCHED = datetime(2024, 3, 22, 12, tzinfo=UTC)
DIRECTIVE = f'<< tag_history "{IMAGE}" >>'
MATERIAL = {
    "theme": {"name": "material"},
    "markdown_extensions": [
        "admonition",
        "footnotes",
        "md_in_html",
        "attr_list",
        {"toc": {"permalink": True}},
        "pymdownx.details",
        "pymdownx.superfences",
        {"pymdownx.tabbed": {"alternate_style": True}},
    ],
}

PAGE = f"""# Containers

!!! note "An admonition"

    {DIRECTIVE}

??? info "A collapsible block"

    {DIRECTIVE}

=== "amd64"

    {DIRECTIVE}

=== "arm64"

    !!! tip "Nested in a tab"

        {DIRECTIVE}

> A quote:
>
> {DIRECTIVE}

- A list item

    {DIRECTIVE}

<div markdown>

{DIRECTIVE}

</div>

Text with a footnote.[^1]

[^1]: The footnote's table:

    {DIRECTIVE}

!!! example "Code inside stays code"

    ```markdown
    {DIRECTIVE}
    ```

        {DIRECTIVE}
"""


def build(tmp_path: Path, page: str, *extra: str) -> Build:
    (tmp_path / "cache").mkdir()
    snapshot = TagSnapshot(
        image=IMAGE,
        fetched_at=FETCHED,
        tags={
            "latest": TagState("sha256:" + "a" * 64, FETCHED),
            "1.0": TagState("sha256:" + "b" * 64, FETCHED),
        },
    )
    (tmp_path / "cache" / cache_file_name(IMAGE)).write_text(snapshot_to_json(snapshot))
    options = {"cache_dir": "cache", "offline": True, "ttl": "1w"}
    config = write_site(tmp_path, {"page.md": page}, options, **MATERIAL)
    return mkdocs_build(config, *extra)


def containing(table: Tag) -> list[str]:
    """The classes of the containers a table stands in, innermost first."""
    found: list[str] = []
    for parent in table.parents:
        if not isinstance(parent, Tag):
            continue
        classes: list[str] = list(parent.get("class") or [])
        for name in ("admonition", "tabbed-block", "footnote"):
            if name in classes:
                found.append(name)
        if parent.name in {"details", "blockquote", "li"}:
            found.append(parent.name)
    return found


def test_a_directive_expands_in_every_block_container_and_code_stays_code(tmp_path: Path) -> None:
    result = build(tmp_path, PAGE, "--strict")
    assert result.returncode == 0, result.output
    soup: BeautifulSoup = result.page("page")
    tables = soup.select("div.taghistory")
    places = [containing(table) for table in tables]
    assert places == [
        ["admonition"],
        ["details"],
        ["tabbed-block"],
        ["admonition", "tabbed-block"],
        ["blockquote"],
        ["li"],
        [],  # md_in_html: a plain div
        ["li", "footnote"],  # footnotes are list items of the footnote block
    ], places
    for table in tables:
        assert [code.get_text() for code in table.select("tbody code")][:1] == ["1.0"]
    # Nothing left raw on the page but the two code examples.
    codes = [code.get_text().strip() for code in soup.select("pre code")]
    assert codes == [DIRECTIVE, DIRECTIVE]
    text_outside_code = soup.get_text().replace(DIRECTIVE, "", 2)
    assert "tag_history" not in text_outside_code


def test_a_mistake_inside_a_container_is_named_at_its_true_line(tmp_path: Path) -> None:
    page = f'# Page\n\n!!! note\n\n    > quoted\n    >\n    > << tag_history "{IMAGE}" limt=3 >>\n'
    result = build(tmp_path, page)
    assert result.returncode != 0
    assert "docs/page.md:7: unknown option 'limt'; did you mean 'limit'?" in result.output


def test_a_tag_history_of_a_tag_never_seen_fails_strict_at_its_line(tmp_path: Path) -> None:
    page = f'# Page\n\n<< tag_history "{IMAGE}" tag=lastest >>\n'
    result = build(tmp_path, page, "--strict")
    assert result.returncode != 0
    assert f"docs/page.md:3: tag 'lastest' of {IMAGE} has never been seen" in result.output


def test_an_image_no_registries_section_has_fails_strict_at_its_line(tmp_path: Path) -> None:
    # Two sections, and the cache knows that neither registry has "widgit".
    sections = [
        {"title": "Public", "registry": "registry.example/acme"},
        {"title": "Private", "registry": "registry.example/private"},
    ]
    (tmp_path / "cache").mkdir()
    for registry in ("registry.example/acme", "registry.example/private"):
        image = f"{registry}/widgit"
        missing = TagSnapshot(image=image, fetched_at=FETCHED, tags={}, missing=True)
        (tmp_path / "cache" / cache_file_name(image)).write_text(snapshot_to_json(missing))
    options = {"cache_dir": "cache", "offline": True, "ttl": "1w", "registries": sections}
    config = write_site(tmp_path, {"page.md": '# Page\n\n<< tag_history "widgit" >>\n'}, options)
    result = mkdocs_build(config, "--strict")
    assert result.returncode != 0
    assert "docs/page.md:3: none of the registries sections has 'widgit'" in result.output
