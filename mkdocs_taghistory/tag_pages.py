"""Tag tables read back from published pages: the hand-written or generated tag-history pages a
site had before this plugin (Markdown, as Chainguard's generator wrote them, or their HTML),
this plugin's own pages, and repo-info's ``## `image:tag` `` sections with their pull line.

Only what the page says is read: a row's tags, its full digest and its date as written (or
the exact time of a ``<time datetime>``). Everything is untrusted: a tag the distribution spec
does not allow, or a shortened digest, leaves its row out, counted. HTML is parsed with
beautifulsoup4, imported only when an HTML page is read. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mkdocs_taghistory.errors import TagHistoryError
from mkdocs_taghistory.history import is_valid_tag
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.timestamps import in_range, parse_timestamp

if TYPE_CHECKING:
    from bs4 import Tag

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}(?![a-f0-9])")
_CODE = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_LASTMOD = re.compile(r"^lastmod:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", re.MULTILINE)
_PAGE_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
# repo-info's tag-details.md: a "## `image:tag`" section whose first pull names its digest.
_REPO_INFO_TAG = re.compile(r"^##\s+`[^`:\s]+:([^`\s]+)`\s*$")
_PULL = re.compile(r"docker pull \S+@(sha256:[a-f0-9]{64})")
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")


class PageFormatError(TagHistoryError):
    """A page that cannot be read as a tag-history page."""


class FoundRow(Record):
    """One row of a tag table as the page wrote it.

    Attributes:
        tags: the row's tags.
        digest: the digest they point at.
        changed: the exact time, where the page holds one (a ``<time datetime>``).
        day: the date as written ("March 22nd", "March 22nd, 2023"), where there is no exact
            time; "" when the row has no date.
    """

    tags: tuple[str, ...]
    digest: str
    changed: datetime | None = None
    day: str = ""


class FoundTable(Record):
    """A tag table of a page.

    Attributes:
        heading: the heading it stands under ("Public Registry"); "" when none.
        image: the image the page says it is of (this plugin's pages do); "" when it does not.
        rows: its rows that could be read.
        unreadable: rows left out (a shortened digest, a tag no registry allows).
    """

    heading: str
    image: str
    rows: tuple[FoundRow, ...]
    unreadable: int = 0


class FoundPage(Record):
    """What a page holds: its tag tables, and when it was last changed, if it says."""

    tables: tuple[FoundTable, ...]
    date: datetime | None = None


def _column(heading: str) -> str | None:
    """Which column a heading names, in any of the wordings pages use."""
    text = heading.lower()
    for name, words in (
        ("digest", ("digest",)),
        ("pull", ("pull", "reference")),
        ("tags", ("tag",)),
        ("changed", ("changed", "updated", "date", "pushed", "created", "modified")),
    ):
        if any(word in text for word in words):
            return name
    return None


def _row(cells: dict[str, tuple[list[str], str]], changed: datetime | None) -> FoundRow | None:
    """A row from its cells (per column: the code spans, the text), or None when it cannot be
    read whole."""
    tags_codes, tags_text = cells.get("tags", ([], ""))
    tags = tuple(tags_codes) or tuple(re.split(r"[\s,]+", tags_text.strip()))
    digests = [
        match.group()
        for name in ("digest", "pull")
        if name in cells
        for match in _DIGEST.finditer(" ".join([*cells[name][0], cells[name][1]]))
    ]
    if not digests or not tags or not all(is_valid_tag(tag) for tag in tags):
        return None
    day = "" if changed is not None else cells.get("changed", ([], ""))[1].strip(" *_`")
    return FoundRow(tags, digests[0], changed, day)


def page_date(text: str) -> datetime | None:
    """A date such as front matter and meta elements hold (``2024-03-22 00:34:55``,
    ``2024-03-22T00:34:55+02:00``, ``2024-03-22``), in UTC; None for anything else."""
    match = _PAGE_DATE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    zone = (offset or "Z").replace("Z", "+00:00")
    if len(zone) == 5:  # +0200
        zone = zone[:3] + ":" + zone[3:]
    try:
        return in_range(
            datetime.fromisoformat(
                f"{year}-{month}-{day}T{hour or '00'}:{minute or '00'}:{second or '00'}{zone}"
            ).astimezone(UTC)
        )
    except ValueError:
        return None


# --- Markdown -----------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner)]


def _markdown_table(lines: list[str], heading: str) -> FoundTable | None:
    """A Markdown table (its header, the rule under it, its rows), if it is a tag table."""
    columns = [_column(cell) for cell in _cells(lines[0])]
    if "tags" not in columns or not ({"digest", "pull"} & set(columns)):
        return None
    rows, unreadable = [], 0
    for line in lines[2:]:
        cells: dict[str, tuple[list[str], str]] = {}
        for name, cell in zip(columns, _cells(line), strict=False):
            if name is not None and name not in cells:
                cells[name] = (_CODE.findall(cell), cell.replace("`", " "))
        row = _row(cells, None)
        if row is None:
            unreadable += 1
        else:
            rows.append(row)
    return FoundTable(heading, "", tuple(rows), unreadable)


def read_markdown(text: str) -> FoundPage:
    """The tag tables of a Markdown page, and its ``lastmod`` (front matter) if it has one."""
    date = None
    front = _FRONT_MATTER.match(text)
    if front is not None and (lastmod := _LASTMOD.search(front.group(1))) is not None:
        date = page_date(lastmod.group(1))
    lines = text.splitlines()
    tables: list[FoundTable] = []
    heading, index = "", 0
    while index < len(lines):
        line = lines[index]
        if (match := _HEADING.match(line)) is not None:
            heading = match.group(2).strip()
        elif line.lstrip().startswith("|") and index + 1 < len(lines):
            end = index
            while end < len(lines) and lines[end].lstrip().startswith("|"):
                end += 1
            if re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", lines[index + 1]) and "-" in lines[index + 1]:
                table = _markdown_table(lines[index:end], heading)
                if table is not None:
                    tables.append(table)
            index = end
            continue
        index += 1
    return FoundPage(tuple(tables) + _repo_info_tables(lines), date)


def _repo_info_tables(lines: list[str]) -> tuple[FoundTable, ...]:
    """repo-info's sections as one table: a row a ``## `image:tag` `` section, its digest
    from the first ``docker pull IMAGE@sha256:...`` before the next heading."""
    rows: list[FoundRow] = []
    tag: str | None = None
    for line in lines:
        if (match := _REPO_INFO_TAG.match(line)) is not None:
            tag = match.group(1)
        elif _HEADING.match(line):
            tag = None
        elif tag is not None and (pull := _PULL.search(line)) is not None:
            if is_valid_tag(tag):
                rows.append(FoundRow((tag,), pull.group(1)))
            tag = None
    return (FoundTable("", "", tuple(rows)),) if rows else ()


# --- HTML ---------------------------------------------------------------------------------


def _text(element: Tag) -> str:
    """An element's text without the permalink marks that headings carry."""
    for link in element.select("a.headerlink"):
        link.extract()
    return " ".join(element.get_text(" ").split()).rstrip("¶").strip()


def _html_cell(cell: Tag) -> tuple[list[str], str]:
    """A cell's code spans and its text, the full values of shortened ones included (this
    plugin keeps them in the title and in the copy button)."""
    codes = [code.get_text().strip() for code in cell.find_all("code")]
    hidden = [
        str(element.get(name, ""))
        for element in cell.find_all(True)
        for name in ("title", "data-copy")
        if element.get(name)
    ]
    return codes, " ".join([cell.get_text(" "), *hidden])


def _html_table(table: Tag) -> FoundTable | None:
    rows = table.find_all("tr")
    if not rows:
        return None
    columns = [_column(_text(cell)) for cell in rows[0].find_all(["th", "td"])]
    if "tags" not in columns or not ({"digest", "pull"} & set(columns)):
        return None
    found, unreadable = [], 0
    for row in rows[1:]:
        cells: dict[str, tuple[list[str], str]] = {}
        changed = None
        for name, cell in zip(columns, row.find_all(["td", "th"]), strict=False):
            if name is None or name in cells:
                continue
            cells[name] = _html_cell(cell)
            time = cell.find("time") if name == "changed" else None
            if time is not None and time.get("datetime"):
                try:
                    changed = parse_timestamp(str(time["datetime"]))
                except ValueError:
                    changed = None
        read = _row(cells, changed)
        if read is None:
            unreadable += 1
        else:
            found.append(read)
    heading = table.find_previous(_HEADING_TAGS)
    holder = table.find_parent(attrs={"data-image": True})
    image = str(holder["data-image"]) if holder is not None else ""
    return FoundTable(_text(heading) if heading else "", image, tuple(found), unreadable)


def read_html(text: str) -> FoundPage:
    """The tag tables of an HTML page, and its modification time if a meta element gives
    it (``article:modified_time``, as Hugo's and others' templates write it).

    Raises:
        PageFormatError: when beautifulsoup4 is not installed.
    """
    try:
        from bs4 import BeautifulSoup  # noqa: PLC0415 (only HTML imports need it)
    except ImportError:
        raise PageFormatError(
            "reading HTML pages needs beautifulsoup4: pip install 'mkdocs-taghistory[import]'"
        ) from None
    soup = BeautifulSoup(text, "html.parser")
    meta = soup.find("meta", attrs={"property": "article:modified_time"})
    date = page_date(str(meta.get("content", ""))) if meta is not None else None
    tables = (_html_table(table) for table in soup.find_all("table"))
    return FoundPage(_present(tables), date)


def _present(tables: Iterable[FoundTable | None]) -> tuple[FoundTable, ...]:
    return tuple(table for table in tables if table is not None)


def looks_like_html(text: str) -> bool:
    """True for a page that is HTML rather than Markdown."""
    start = text.lstrip()[:1024].lower()
    return start.startswith(("<!doctype html", "<html", "<?xml")) or "<table" in start
