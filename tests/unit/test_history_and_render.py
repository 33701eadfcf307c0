"""Grouping tags by digest, ordering rows, and the HTML they become."""

from __future__ import annotations

from datetime import UTC, datetime

from bs4 import BeautifulSoup

from mkdocs_taghistory import render
from mkdocs_taghistory.dates import (
    DEFAULT_DATE_FORMAT,
    format_date,
    needs_year,
    ordinal_day,
    shown_date,
)
from mkdocs_taghistory.history import TagSnapshot, TagState, group_by_digest, natural_key
from mkdocs_taghistory.render import render_html
from mkdocs_taghistory.view import AsOf, table_view

A, B, C, D = ("sha256:" + letter * 64 for letter in "abcd")


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, tzinfo=UTC)


def snapshot(tags: dict[str, TagState]) -> TagSnapshot:
    return TagSnapshot("h.io/x", at(30), tags, {})


def test_tags_are_grouped_by_digest_newest_first_unknown_times_last() -> None:
    groups = group_by_digest(
        snapshot(
            {
                "1.10": TagState(A, at(2)),
                "1.9": TagState(A, at(2)),
                "latest": TagState(B, at(5)),
                "2": TagState(B, at(5)),
                "mystery": TagState(C, None),
                "old": TagState(D, at(1)),
            }
        )
    )
    assert [(group.digest, group.tags) for group in groups] == [
        (B, ("2", "latest")),
        (A, ("1.9", "1.10")),
        (D, ("old",)),
        (C, ("mystery",)),
    ]
    assert groups[0].changed == at(5)


def test_a_digest_changed_when_its_latest_tag_changed() -> None:
    (group,) = group_by_digest(snapshot({"a": TagState(A, at(1)), "b": TagState(A, at(3))}))
    assert group.changed == at(3)


def test_rows_changed_together_are_ordered_by_their_first_tag() -> None:
    groups = group_by_digest(snapshot({"z": TagState(A, at(1)), "b": TagState(B, at(1))}))
    assert [group.tags for group in groups] == [("b",), ("z",)]


def test_natural_order_puts_numbers_in_value_order() -> None:
    assert sorted(["1.10", "1.9", "1-dev", "1", "latest"], key=natural_key) == [
        "1",
        "1-dev",
        "1.9",
        "1.10",
        "latest",
    ]


def test_days_are_written_with_ordinals() -> None:
    assert [ordinal_day(day) for day in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "31st",
    ]
    assert format_date(at(18, 23), "%B %O") == "March 18th"


def test_table_has_the_seed_columns_and_code_spans() -> None:
    html = render_html(
        table_view("h.io/x", group_by_digest(snapshot({"latest": TagState(A, at(18, 9))})))
    )
    soup = BeautifulSoup(html, "html.parser")
    assert [th.get_text() for th in soup.select("th")] == ["Tag (s)", "Last Changed", "Digest"]
    cells = soup.select("tbody td")
    assert cells[0].decode_contents() == "<code>latest</code>"
    time = cells[1].find("time")
    assert time is not None
    assert (time["datetime"], time["title"], time.get_text()) == (
        "2024-03-18T09:00:00Z",
        "2024-03-18 09:00:00 UTC",
        "March 18th",
    )
    digest_code = cells[2].select_one("code")
    assert digest_code is not None and digest_code.decode_contents() == A
    button = cells[2].select_one("button.taghistory-copy")
    assert button is not None and button["data-copy"] == A and button.get_text() == ""
    assert soup.select(".taghistory-as-of") == []


def test_short_digests_keep_the_full_value_in_the_title_and_the_copy_button() -> None:
    groups = group_by_digest(snapshot({"latest": TagState(A, at(18, 9))}))
    soup = BeautifulSoup(
        render_html(table_view("h.io/x", groups, columns=("digest", "pull"), short_digests=True)),
        "html.parser",
    )
    digest, pull = soup.select("tbody td")
    code, button, pull_button = (
        digest.select_one("code"),
        digest.select_one("button"),
        pull.select_one("button"),
    )
    assert code is not None and button is not None and pull_button is not None
    assert code.get_text() == A[: len("sha256:") + 12] + "\u2026"
    assert code["title"] == A and button["data-copy"] == A
    assert pull_button["data-copy"] == f"h.io/x@{A}"
    # The Markdown of taghistory show stays whole.
    assert A in render.render_markdown(table_view("h.io/x", groups))


def test_nothing_from_a_registry_reaches_the_page_unescaped() -> None:
    html = render_html(
        table_view(
            'h.io/x"><script>',
            group_by_digest(snapshot({"<img src=x onerror=alert(1)>": TagState(A, None)})),
        )
    )
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None and soup.find("img") is None
    assert "<img src=x onerror=alert(1)>" in soup.get_text()


def test_the_as_of_note_says_what_happened() -> None:
    moment = datetime(2024, 3, 22, 0, 34, 55, tzinfo=UTC)
    notes = {}
    for name, as_of in {
        "failed": AsOf(moment),
        "offline": AsOf(moment, offline=True),
        "own": AsOf(moment, wording="Snapshot of {date} <b>"),
    }.items():
        soup = BeautifulSoup(render_html(table_view("h.io/x", [], as_of=as_of)), "html.parser")
        note = soup.select_one(".taghistory-as-of")
        assert note is not None
        notes[name] = note.get_text()
        assert "There are no tags of h.io/x." in soup.get_text()
    assert notes["failed"] == "The registry could not be reached; tags as of March 22nd, 2024."
    assert notes["offline"] == "Tags as of March 22nd, 2024."  # no failure claimed
    assert notes["own"] == "Snapshot of March 22nd, 2024 <b>"  # the site's words, escaped


def test_a_column_of_dates_shows_the_year_on_every_row_or_on_none() -> None:
    this_year = datetime(2024, 3, 18, 12, tzinfo=UTC)
    last_year = datetime(2023, 3, 18, 12, tzinfo=UTC)
    assert not needs_year([this_year], DEFAULT_DATE_FORMAT, UTC, 2024)
    assert needs_year([this_year, last_year], DEFAULT_DATE_FORMAT, UTC, 2024)
    # A format of the site's own is its own: no year is added.
    assert not needs_year([last_year], "%d %b", UTC, 2024)
    assert shown_date(last_year, "%d %b", UTC, with_year=False) == "18 Mar"

    def dates(tags: dict[str, TagState]) -> list[str]:
        view = table_view("h.io/x", group_by_digest(snapshot(tags)), year=2024)
        cells = BeautifulSoup(render_html(view), "html.parser").select("tbody time")
        return [cell.get_text() for cell in cells]

    assert dates({"a": TagState(A, this_year)}) == ["March 18th"]
    # One row of another year: every row says its year, this year's too.
    mixed = {"a": TagState(A, this_year), "b": TagState("sha256:" + "b" * 64, last_year)}
    assert dates(mixed) == ["March 18th, 2024", "March 18th, 2023"]


def test_labels_replace_column_headings_escaped() -> None:
    groups = group_by_digest(snapshot({"latest": TagState(A, None)}))
    soup = BeautifulSoup(
        render_html(table_view("h.io/x", groups, labels={"tags": "Tags <b>", "digest": "SHA"})),
        "html.parser",
    )
    assert [th.get_text() for th in soup.select("th")] == ["Tags <b>", "Last Changed", "SHA"]
