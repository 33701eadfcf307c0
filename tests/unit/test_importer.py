"""Tag history read back from published pages (the seed page, HTML this plugin and others
write, repo-info's sections) and merged into a ledger without touching what a registry said.
In-process."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from mkdocs_taghistory.history import Sighting, TagSnapshot, TagState
from mkdocs_taghistory.importer import merge_observations, observations, resolve_day
from mkdocs_taghistory.tag_pages import FoundPage, PageFormatError, read_html, read_markdown
from tests.support.seed import SEED

D1, D2, D3 = ("sha256:" + digit * 64 for digit in "123")


def test_the_seed_page_gives_both_tables_under_their_headings_and_its_lastmod() -> None:
    page = read_markdown(SEED.read_text(encoding="utf-8"))
    assert page.date == datetime(2024, 3, 22, 0, 34, 55, tzinfo=UTC)
    assert [table.heading for table in page.tables] == [
        "Public Registry",
        "Private/Dedicated Registry",
    ]
    private = page.tables[1]
    assert private.unreadable == 0
    assert private.rows[1].tags == ("1.77-dev", "latest-dev", "1.77.0-dev", "1-dev")
    assert private.rows[1].digest.startswith("sha256:086a9a3c94c6")
    assert [row.day for row in private.rows] == ["March 22nd"] * 2 + ["March 18th"] * 2


def test_html_tables_give_exact_times_full_digests_behind_short_ones_and_the_image() -> None:
    html = f"""<html><head>
    <meta property="article:modified_time" content="2024-03-22T02:34:55+02:00"></head><body>
    <h2 id="x">Public Registry<a class="headerlink" href="#x">¶</a></h2>
    <div class="taghistory" data-image="cgr.dev/chainguard/rust"><table>
    <thead><tr><th>Tag (s)</th><th>Updated</th><th>Digest</th></tr></thead>
    <tbody>
    <tr><td><code>latest</code> <code>1</code></td>
        <td><time datetime="2024-03-18T12:00:00Z">March 18th</time></td>
        <td><code title="{D1}">sha256:111111111111…</code></td></tr>
    <tr><td><code>bad tag!</code></td><td>March 1st</td><td><code>{D2}</code></td></tr>
    <tr><td><code>old</code></td><td>March 1st</td><td><code>sha256:222222222222…</code></td></tr>
    </tbody></table></div>
    <table><tr><th>Name</th><th>Value</th></tr><tr><td>a</td><td>b</td></tr></table>
    </body></html>"""
    page = read_html(html)
    assert page.date == datetime(2024, 3, 22, 0, 34, 55, tzinfo=UTC)
    (table,) = page.tables
    assert (table.heading, table.image, table.unreadable) == (
        "Public Registry",
        "cgr.dev/chainguard/rust",
        2,
    )
    (row,) = table.rows
    assert (row.tags, row.digest, row.changed) == (
        ("latest", "1"),
        D1,
        datetime(2024, 3, 18, 12, tzinfo=UTC),
    )


def test_repo_info_sections_give_each_tag_the_digest_of_its_first_pull() -> None:
    # The shape of docker-library/repo-info's tag-details.md, with made-up values.
    page = read_markdown(
        "# Tags of `widget`\n\n## `widget:1`\n\n```console\n$ docker pull widget@"
        + D1
        + "\n```\n\n### `widget:1` - linux; amd64\n\n```console\n$ docker pull widget@"
        + D3
        + "\n```\n\n## `widget:latest`\n\n```console\n$ docker pull widget@"
        + D2
        + "\n```\n"
    )
    (table,) = page.tables
    assert [(row.tags, row.digest) for row in table.rows] == [(("1",), D1), (("latest",), D2)]


@pytest.mark.parametrize(
    ("written", "year", "expected"),
    [
        ("March 18th", None, datetime(2024, 3, 18, tzinfo=UTC)),
        ("March 18th, 2023", None, datetime(2023, 3, 18, tzinfo=UTC)),
        ("Mar 18, 2023", None, datetime(2023, 3, 18, tzinfo=UTC)),
        ("18 March 2023", None, datetime(2023, 3, 18, tzinfo=UTC)),
        ("2023-03-18", None, datetime(2023, 3, 18, tzinfo=UTC)),
        # After the page's own date: the year before (a page shows the past).
        ("December 30th", None, datetime(2023, 12, 30, tzinfo=UTC)),
        ("March 18th", 2021, datetime(2021, 3, 18, tzinfo=UTC)),
    ],
)
def test_a_written_date_resolves_against_the_pages_year(
    written: str, year: int | None, expected: datetime
) -> None:
    page_date = datetime(2024, 3, 22, 0, 34, 55, tzinfo=UTC)
    assert resolve_day(written, UTC, year, page_date) == expected


def test_a_date_is_the_start_of_its_day_where_the_site_writes_dates() -> None:
    zone = ZoneInfo("America/New_York")
    assert resolve_day("March 18th", zone, 2024, None) == datetime(2024, 3, 18, 4, tzinfo=UTC)


def test_a_date_that_cannot_be_placed_is_an_error_that_says_why() -> None:
    with pytest.raises(PageFormatError, match=r"no year .* give --year"):
        resolve_day("March 18th", UTC, None, None)
    with pytest.raises(PageFormatError, match="cannot read the date"):
        resolve_day("Smarch 3rd", UTC, 2024, None)
    with pytest.raises(PageFormatError, match="is not a date"):
        resolve_day("February 30th", UTC, 2024, None)


def cached() -> TagSnapshot:
    """A fetch of March 25th: latest on D2 since the 24th (the ledger's first sighting)."""
    return TagSnapshot(
        image="registry.example/acme/widget",
        fetched_at=datetime(2024, 3, 25, tzinfo=UTC),
        tags={"latest": TagState(D2, datetime(2024, 3, 24, tzinfo=UTC))},
        ledger={"latest": (Sighting(D2, datetime(2024, 3, 24, 6, tzinfo=UTC)),)},
    )


def test_observations_go_before_what_the_cache_knows_and_never_after() -> None:
    before = Sighting(D1, datetime(2024, 3, 10, tzinfo=UTC))
    agrees = Sighting(D2, datetime(2024, 3, 24, 12, tzinfo=UTC))
    contradicts = Sighting(D3, datetime(2024, 3, 24, 12, tzinfo=UTC))
    gone_tag = Sighting(D3, datetime(2024, 3, 1, tzinfo=UTC))
    merged, counts = merge_observations(
        cached(),
        [("latest", before), ("latest", agrees), ("latest", contradicts), ("0.9", gone_tag)],
    )
    assert (counts.added, counts.known, counts.later) == (2, 1, 1)
    assert merged.ledger["latest"] == (before, cached().ledger["latest"][0])
    assert merged.ledger["0.9"] == (gone_tag,)
    # What the registry said stands: tags, fetch, digests.
    assert merged._replace(ledger={}) == cached()._replace(ledger={})
    # Twice is once.
    again, counts = merge_observations(merged, [("latest", before), ("0.9", gone_tag)])
    assert again == merged and (counts.added, counts.known) == (0, 2)


def test_an_earlier_sighting_of_the_same_digest_moves_its_run_back() -> None:
    earlier = Sighting(D2, datetime(2024, 3, 20, tzinfo=UTC))
    merged, counts = merge_observations(cached(), [("latest", earlier)])
    assert counts.added == 1 and merged.ledger["latest"] == (earlier,)


def test_rows_without_a_date_are_dated_by_the_page_or_left_out() -> None:
    page = read_markdown(
        "| Tag | Digest |\n|---|---|\n| `latest` | `" + D1 + "` |\n| `1` | `sha256:12ab…` |\n"
    )
    assert observations(page.tables[0], page, UTC, None) == ([], 2)
    dated = FoundPage(page.tables, datetime(2024, 3, 1, tzinfo=UTC))
    found, left_out = observations(page.tables[0], dated, UTC, None)
    assert found == [("latest", Sighting(D1, datetime(2024, 3, 1, tzinfo=UTC)))]
    assert left_out == 1
