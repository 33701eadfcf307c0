"""No mistake passes silently: what authors are told of the mistakes newcomers make, every
problem of a site at once, each located, with a suggestion that is right."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mkdocs_taghistory.directive import scan_markdown
from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.history import TagSnapshot, TagState, record_sightings
from mkdocs_taghistory.near_misses import is_near_name
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site import SitePlan, plan_site
from mkdocs_taghistory.site_options import settings_from_options

FETCHED = datetime(2024, 3, 22, 12, tzinfo=UTC)


def settings(**options: object) -> Settings:
    return settings_from_options({"registry": "registry.example/acme", **options}, Path.cwd())


def near_misses(text: str) -> list[tuple[int, str]]:
    return [(error.line, error.reason) for error in scan_markdown(text).near_misses]


# --- near misses of the directive's name --------------------------------------------------


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('<< tag_histroy "widget" >>', "'tag_histroy' is not the directive's name"),
        ('<< taghistory "widget" >>', "'taghistory' is not the directive's name"),
        ('<< tag-history "widget" >>', "'tag-history' is not the directive's name"),
        ('<< tag history "widget" >>', "'tag history' is not the directive's name"),
        ('<< Tag_History "widget" >>', "'Tag_History' is not the directive's name"),
        ('< tag_history "widget" >>', "a directive opens with '<<'"),
        ('< tag_history "widget" >', "a directive opens with '<<'"),
    ],
)
def test_a_near_miss_of_the_directive_is_a_warning_with_the_right_spelling(
    line: str, said: str
) -> None:
    ((number, reason),) = near_misses(f"# Page\n\nText.\n\n{line}\n")
    assert number == 5
    assert reason.startswith(said)
    assert reason.endswith('stays on the page as text; write << tag_history "widget" >>')


def test_a_near_miss_keeps_its_options_and_gets_its_quotes_mended() -> None:
    ((_, reason),) = near_misses("<< taghistory \u201cwidget\u201d limit=2 >>\n")
    assert reason.endswith('write << tag_history "widget" limit=2 >>')


@pytest.mark.parametrize(
    "text",
    [
        '```\n<< tag_histroy "widget" >>\n```\n',
        'Inline: `<< taghistory "widget" >>`.\n',
        'Text.\n\n    << tag-history "widget" >>\n',
        '<!-- << tag history "widget" >> -->\n',
        "<details>\n<summary>More</summary>\n</details>\n",
        "<history>old</history>, a << b, x <<EOF, <<< tag_history\n",
        '<< tag_history "widget" >>\n',
    ],
    ids=["fence", "inline-code", "indented-code", "comment", "html", "prose", "the-directive"],
)
def test_code_html_and_the_directive_itself_are_no_near_misses(text: str) -> None:
    assert near_misses(text) == []


@pytest.mark.parametrize(
    ("name", "near"),
    [
        ("tag_history", True),
        ("tag-history", True),
        ("TAGHISTORY", True),
        ("tag_histroy", True),  # two letters swapped: one edit
        ("tag_histry", True),
        ("tagz_histroyy", False),  # four edits
        ("history", False),
        ("tags", False),
    ],
)
def test_a_near_name_is_at_most_two_edits_from_either_spelling(name: str, near: bool) -> None:
    assert is_near_name(name) is near


# --- quotes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (
            "<< tag_history 'widget' >>",
            'the image must be in double quotes, not single ones: write << tag_history "widget" >>',
        ),
        (
            "<< tag_history \u201cwidget\u201d limit=2 >>",
            "the image must be in straight double quotes, not curly ones: "
            'write << tag_history "widget" limit=2 >>',
        ),
        (
            "<< tag_history widget >>",
            'the image must be a double-quoted string: write << tag_history "widget" >>',
        ),
        (
            "<< tag_history \"widget\" include='^1' >>",
            "the value of include must be in double quotes, not single ones: "
            'write << tag_history "widget" include="^1" >>',
        ),
    ],
)
def test_quotes_that_are_not_straight_double_ones_get_the_exact_corrected_directive(
    written: str, said: str
) -> None:
    (problem,) = scan_markdown(written + "\n").problems
    assert problem.reason == said


# --- every problem at once ------------------------------------------------------------------


def test_every_problem_of_a_directive_is_reported_at_once_each_at_its_line() -> None:
    page = 'Text.\n\n<< tag_history "widget" limt=2 srot=tag limit=0 >>\n'
    with pytest.raises(DirectiveError) as raised:
        plan_site([("docs/index.md", page)], settings())
    assert [str(error) for error in raised.value.each] == [
        "docs/index.md:3: unknown option 'limt'; did you mean 'limit'?",
        "docs/index.md:3: unknown option 'srot'; did you mean 'sort'?",
        "docs/index.md:3: limit must be a whole number of at least 1, not '0'",
    ]
    assert str(raised.value).startswith("3 problems with tag_history directives:\n")


def test_every_damaged_directive_of_a_site_is_named_before_the_build_stops() -> None:
    pages = [
        ("docs/a.md", '<< tag_history "rust >>\n\n<< tag_history "ok" >>\n'),
        ("docs/b.md", 'x\n\n<< tag_history "ghcr.io/o/../x" >>\n\n<< tag_history "y" sort=up >>\n'),
        ("docs/c.md", '<< tag_histroy "widget" >>\n'),
    ]
    warned: list[str] = []
    with pytest.raises(DirectiveError) as raised:
        plan_site(pages, settings(), warn=lambda near_miss: warned.append(str(near_miss)))
    assert [(error.page, error.line) for error in raised.value.each] == [
        ("docs/a.md", 1),
        ("docs/b.md", 3),
        ("docs/b.md", 5),
    ]
    # The near miss was said before the error stopped the build.
    assert warned == [
        "docs/c.md:1: 'tag_histroy' is not the directive's name, so the line stays on the page "
        'as text; write << tag_history "widget" >>'
    ]


def test_a_single_problem_reads_as_before() -> None:
    with pytest.raises(DirectiveError) as raised:
        plan_site([("docs/a.md", '<< tag_history "a" limt=3 >>\n')], settings())
    assert str(raised.value) == "docs/a.md:1: unknown option 'limt'; did you mean 'limit'?"


def test_every_image_that_cannot_be_shown_is_named_in_one_message() -> None:
    pages = [(f"docs/{name}.md", f'# {name}\n\n<< tag_history "{name}" >>\n') for name in "abc"]
    plan = plan_site(pages, settings())
    down = "cannot reach registry.example: Connection refused, and there is no cached copy"
    results = {
        reference: ImageResult(None, problem=down) if reference.name[-1] != "b" else shown()
        for reference in plan.references
    }
    with pytest.raises(DirectiveError) as raised:
        plan.check(results)
    assert str(raised.value).splitlines() == [
        "2 problems with tag_history directives:",
        f"docs/a.md:3: cannot show the tag history of registry.example/acme/a: {down}",
        f"docs/c.md:3: cannot show the tag history of registry.example/acme/c: {down}",
    ]


# --- suggestions that are right -------------------------------------------------------------


def shown(*tags: str, image: str = "registry.example/acme/widget") -> ImageResult:
    fresh = TagSnapshot(
        image, FETCHED, {tag: TagState("sha256:" + "a" * 64, FETCHED) for tag in tags}
    )
    return ImageResult(record_sightings(fresh, None))


def test_a_tag_never_seen_suggests_the_nearest_tags_that_were() -> None:
    plan = plan_site([("docs/w.md", '<< tag_history "widget" tag=lates >>\n')], settings())
    (reference,) = plan.references
    results = {reference: shown("latest", "latest-dev", "1.2", "lts")}
    (doubt,) = plan.doubts(results)
    assert str(doubt) == (
        "docs/w.md:1: tag 'lates' of registry.example/acme/widget has never been seen; "
        "did you mean 'latest', 'lts' or 'latest-dev'?"
    )


def test_a_bare_name_no_section_has_suggests_the_nearest_image_the_site_shows() -> None:
    sections = [
        {"title": "Public", "registry": "registry.example/public"},
        {"title": "Private", "registry": "registry.example/private"},
    ]
    pages = [
        ("docs/widget.md", '<< tag_history "widget" >>\n'),
        ("docs/typo.md", 'x\n\n<< tag_history "widgit" >>\n'),
    ]
    plan = plan_site(pages, settings(registries=sections))
    results = {
        reference: shown("latest", image=reference.name)
        if reference.name.endswith("widget")
        else ImageResult(None, problem="no such repository", not_found=True)
        for reference in plan.references
    }
    (doubt,) = plan.doubts(results)
    assert str(doubt) == (
        "docs/typo.md:3: none of the registries sections has 'widgit' "
        "(registry.example/public/widgit, registry.example/private/widgit); "
        "did you mean 'widget'?"
    )
    # Without a near name on the site, the question stays.
    alone = plan_site([pages[1]], settings(registries=sections))
    (doubt,) = alone.doubts({reference: results[reference] for reference in alone.references})
    assert str(doubt).endswith("; is the name right?")


def test_a_lone_image_the_registry_lacks_suggests_the_nearest_the_site_shows() -> None:
    pages = [
        ("docs/widget.md", '<< tag_history "widget" >>\n'),
        ("docs/typo.md", '<< tag_history "widgit" >>\n'),
    ]
    plan = plan_site(pages, settings())
    widget, widgit = plan.references
    results = {
        widget: shown("latest"),
        widgit: ImageResult(None, problem="no such repository", not_found=True),
    }
    with pytest.raises(DirectiveError) as raised:
        plan.check(results)
    assert str(raised.value) == (
        "docs/typo.md:1: cannot show the tag history of registry.example/acme/widgit: "
        "no such repository; did you mean 'widget'?"
    )


def test_a_plan_keeps_its_near_misses() -> None:
    plan = plan_site([("docs/a.md", '<< taghistory "a" >>\n')], settings())
    assert plan == SitePlan((), plan.near_misses)
    assert [str(near_miss)[:14] for near_miss in plan.near_misses] == ["docs/a.md:1: '"]
