"""Finding directives in Markdown source: what is expanded, what is left alone, what is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from mkdocs_taghistory.directive import find_directives
from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.site import plan_site, read_directives
from mkdocs_taghistory.site_options import settings_from_options


def images(text: str) -> list[tuple[str, int]]:
    return [(directive.image, directive.line) for directive in find_directives(text)]


def test_directive_on_a_line_of_its_own_is_found_with_its_line() -> None:
    text = '# Title\n\nSome text.\n\n<< tag_history "rust" >>\n\n  <<tag_history "go">>\n'
    assert images(text) == [("rust", 5), ("go", 7)]


def test_quoted_image_keeps_escaped_quotes_and_options_are_read() -> None:
    (directive,) = find_directives('<< tag_history "a\\"b" limit=5 title="x y" >>')
    assert directive.image == 'a"b'
    assert dict(directive.options) == {"limit": "5", "title": "x y"}


@pytest.mark.parametrize(
    "text",
    [
        '```\n<< tag_history "rust" >>\n```\n',
        '~~~~ markdown\n<< tag_history "rust" >>\n~~~~\n',
        '- item\n\n    ```md\n    << tag_history "rust" >>\n    ```\n',
        'Text.\n\n    << tag_history "rust" >>\n',
        'Use `<< tag_history "rust" >>` in a page.\n',
        'A span over lines: `x\n<< tag_history "rust" >>\ny` ends here.\n',
        "``` ` ```\n",
        '<!--\n\n<< tag_history "rust" >>\n\n-->\n',
        'Text <!-- << tag_history "rust" >> --> more.\n',
        '- item\n\n        << tag_history "rust" >>\n',
    ],
    ids=[
        "fenced",
        "tilde-fence",
        "fence-in-list",
        "indented",
        "inline",
        "multi-line-span",
        "lone-backticks",
        "comment-block",
        "inline-comment",
        "code-in-list",
    ],
)
def test_directive_inside_code_is_left_alone(text: str) -> None:
    assert find_directives(text) == []


def test_directive_in_a_list_item_is_found_with_its_indentation() -> None:
    (directive,) = find_directives('1. Step one:\n\n    << tag_history "rust" >>\n\n2. Two\n')
    assert (directive.image, directive.line, directive.indent) == ("rust", 3, "    ")


def test_a_list_numbered_in_another_scripts_digits_holds_its_directive() -> None:
    # Python-Markdown's list pattern takes any decimal digit (\d): this is a list item too.
    (directive,) = find_directives('\u0661. Step one\n\n    << tag_history "rust" >>\n')
    assert (directive.line, directive.indent) == (3, "    ")


def test_paragraph_after_a_list_ends_it() -> None:
    text = '- item\n\nParagraph.\n\n    << tag_history "code" >>\n'
    assert find_directives(text) == []


def test_unclosed_fence_is_text_as_python_markdown_renders_it() -> None:
    assert images('```\nnot code after all\n\n<< tag_history "rust" >>\n') == [("rust", 4)]


def test_fence_must_close_with_a_fence_at_least_as_long() -> None:
    text = '````\n```\n<< tag_history "inside" >>\n````\n\n<< tag_history "outside" >>\n'
    assert images(text) == [("outside", 6)]


def test_line_after_indented_code_is_prose_again() -> None:
    text = 'Para.\n\n    code\n\n<< tag_history "rust" >>\n'
    assert images(text) == [("rust", 5)]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('\n\n<< tag_history "rust >>\n', 3, "unterminated quote"),
        ("<< tag_history >>\n", 1, "names no image"),
        (
            "<< tag_history rust >>\n",
            1,
            'double-quoted string: write << tag_history "rust"',
        ),
        ('<< tag_history "" >>\n', 1, "empty image"),
        ('<< tag_history "rust" stray >>\n', 1, "unexpected text 'stray'"),
        ('<< tag_history "rust" >> trailing\n', 1, "unexpected text 'trailing' after"),
        ('<< tag_history "rust"\n', 1, "not closed with '>>'"),
        ('See << tag_history "rust" >> here.\n', 1, "must stand on a line of its own"),
        ('<< tag_history "rust" limit=1 limit=2 >>\n', 1, "given twice"),
        ('<< tag_history "rust"limit=1 >>\n', 1, "expected a space"),
        ('<< tag_history "rust" limit= >>\n', 1, "has no value"),
    ],
)
def test_malformed_directive_names_its_line_and_the_problem(
    text: str, line: int, reason: str
) -> None:
    with pytest.raises(DirectiveError) as caught:
        find_directives(text)
    assert caught.value.line == line
    assert reason in caught.value.reason


def test_similar_words_are_not_directives() -> None:
    assert find_directives('<< tag_historyx "rust" >>\n<< tag_history-old "x" >>\n') == []


def test_read_directives_resolves_images_against_the_default_registry() -> None:
    planned = read_directives(
        '<< tag_history "rust" >>\n\n<< tag_history "ghcr.io/o/i" >>\n', "cgr.dev/chainguard"
    )
    assert [item.targets[0].reference.name for item in planned] == [
        "cgr.dev/chainguard/rust",
        "ghcr.io/o/i",
    ]


def test_unknown_option_is_an_error_with_its_line() -> None:
    with pytest.raises(DirectiveError) as caught:
        read_directives('\n<< tag_history "rust" limt=3 >>\n', "cgr.dev/chainguard")
    assert caught.value.line == 2
    assert "unknown option 'limt'" in caught.value.reason


def test_invalid_image_is_an_error_with_its_line() -> None:
    with pytest.raises(DirectiveError) as caught:
        read_directives('a\n\n<< tag_history "ghcr.io/o/../x" >>\n', "cgr.dev/chainguard")
    assert caught.value.line == 3
    assert "invalid path component '..'" in caught.value.reason


def test_registry_option_with_a_full_reference_is_a_conflict() -> None:
    with pytest.raises(DirectiveError) as caught:
        read_directives('<< tag_history "ghcr.io/a/b" registry="cgr.dev/x" >>', "cgr.dev/c")
    assert "names its registry already" in caught.value.reason


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ("limit=²", "whole number"),
        ("max_age=9999999999w", "not a duration"),
        ("tag=-bad", "not a tag"),
    ],
)
def test_odd_option_values_are_option_errors_not_crashes(options: str, problem: str) -> None:
    with pytest.raises(DirectiveError, match=problem):
        read_directives(f'<< tag_history "rust" {options} >>', "cgr.dev/chainguard")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ("tag=latest columns=tags", "columns cannot be used with tag="),
        ("tag=latest sort=oldest limit=2", "sort, limit cannot be used with tag="),
        ('date_format="%B %Q"', "%Q is not a date code"),
    ],
)
def test_options_that_would_be_ignored_or_printed_literally_are_errors(
    options: str, problem: str
) -> None:
    with pytest.raises(DirectiveError, match=problem):
        read_directives(f'<< tag_history "rust" {options} >>', "cgr.dev/chainguard")


def test_glibc_date_codes_are_date_codes() -> None:
    (planned,) = read_directives('<< tag_history "rust" date_format="%-d %b %Y" >>', "cgr.dev/x")
    assert planned.options.date_format == "%-d %b %Y"


@pytest.mark.parametrize(
    "text",
    [
        # A fence inside a fence of the same length does not close the outer one.
        '```\n!!! note\n    ```\n    << tag_history "alpine" >>\n    ```\n```\n',
        # A fence inside a blockquote is code, directive lines in it too.
        '> ```\n> << tag_history "alpine" >>\n> ```\n',
        # A thematic break is no list item: the indented line after it is code.
        '* * *\n\n    << tag_history "alpine" >>\n',
    ],
)
def test_code_inside_containers_stays_code(text: str) -> None:
    assert find_directives(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # An indented "```" is indented code, not a fence: the directive after it is real.
        'Intro\n\n    ```text\n\n<< tag_history "alpine" >>\n\n    ```\n',
        # A fence left open inside an admonition does not swallow the rest of the page.
        '!!! note\n\n    ```\n    unclosed\n\n<< tag_history "alpine" >>\n\n```\ncode\n```\n',
    ],
)
def test_a_directive_after_fence_lookalikes_is_found(text: str) -> None:
    (directive,) = find_directives(text)
    assert directive.image == "alpine"


@pytest.mark.parametrize(
    ("directive", "message"),
    [
        ('<< tag_history "rust >>', "docs/page.md:9: unterminated quote"),
        ("<< tag_history >>", "docs/page.md:9: tag_history directive names no image"),
        ('<< tag_history "rust" stray >>', "docs/page.md:9: unexpected text 'stray'"),
        ('<< tag_history "ghcr.io/o/../x" >>', "docs/page.md:9: invalid path component '..'"),
    ],
)
def test_a_site_plan_names_the_page_and_the_line_the_authors_editor_shows(
    directive: str, message: str
) -> None:
    # Line 9 of the file: the front matter counts.
    page = "---\ntitle: Widget\n---\n\n# Widget\n\nText.\n\n" + directive + "\n"
    settings = settings_from_options({}, Path.cwd())
    with pytest.raises(DirectiveError) as caught:
        plan_site([("docs/page.md", page)], settings)
    assert str(caught.value).startswith(message)
