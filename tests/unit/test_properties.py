"""Properties that hold for any input: the directive parser and rendering from any cache file.

The parser raises nothing but :class:`DirectiveError`; a cache file is a snapshot or a
:class:`CacheFormatError`; and whatever a cache file holds, a table rendered from it has only
the plugin's own elements, with no ``<`` of the data's and no Markdown stash markers.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mkdocs_taghistory.cache import CacheFormatError, snapshot_from_json
from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.history import group_by_digest
from mkdocs_taghistory.render import render_html
from mkdocs_taghistory.site import read_directives
from mkdocs_taghistory.view import AsOf, table_view, tag_history_view

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ELEMENTS = {
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "time",
    "p",
    "em",
    "span",
    "button",
}

# Pieces of the directive grammar and of what surrounds directives in pages, so that the
# generated text often comes close to a directive rather than being noise.
PIECES = st.sampled_from(
    [
        "<<",
        ">>",
        " ",
        "tag_history",
        '"',
        "'",
        "=",
        "\n",
        "rust",
        "ghcr.io/o/i",
        "limit",
        "3",
        "include",
        "registry",
        "columns",
        "tag",
        "```",
        "~~~",
        "    ",
        "<!--",
        "-->",
        "`",
        "- ",
        "> ",
        "!!! note\n",
        "\t",
        "\\",
        "\u00a0",
        "é",
        "sort",
        "newest",
        "%O",
        "date_format",
    ]
)
PAGE_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=40).map("".join)


@PROPERTY_SETTINGS
@given(PAGE_TEXT)
def test_the_directive_parser_raises_nothing_but_directive_errors(text: str) -> None:
    try:
        planned = read_directives(text, "cgr.dev/chainguard")
    except DirectiveError as error:
        assert error.line >= 1
        return
    lines = text.count("\n") + 1
    for item in planned:
        assert 1 <= item.directive.line <= lines


DIGEST = st.sampled_from(["sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:zz", "", "md5:1"])
TIME = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2024-03-22T12:00:00Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "2024-03-22T12:00:00.123456789+14:00",
            "yesterday",
        ]
    ),
    st.text(max_size=30),
)
ANY_STRING = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "\u0002wzxhzdk:0\u0003",
            "a&b",
            "\x1b[2J",
            "latest",
            "1.77.0-dev",
            "sha256-" + "c" * 64 + ".sig",
        ]
    ),
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), ANY_STRING, TIME)


@st.composite
def cache_documents(draw: st.DrawFn) -> str:
    """Cache files as a careless or hostile contributor could write them."""
    tag_names = draw(st.lists(ANY_STRING, max_size=6))
    document: dict[str, Any] = {
        "schema": draw(st.sampled_from([1, 1, 1, 2, "1", None])),
        "image": draw(st.sampled_from(["r.example/acme/widget", "<b>x</b>", "\x1b]0;t\x07"])),
        "fetched_at": draw(TIME),
        "tags": {
            name: draw(
                st.one_of(
                    st.fixed_dictionaries({"digest": DIGEST, "changed": TIME}),
                    JSON_LEAF,
                )
            )
            for name in tag_names
        },
        "digests": draw(
            st.dictionaries(DIGEST, st.fixed_dictionaries({"created": TIME}), max_size=3)
        ),
        "ledger": draw(
            st.dictionaries(
                ANY_STRING,
                st.lists(st.fixed_dictionaries({"digest": DIGEST, "first_seen": TIME}), max_size=3),
                max_size=3,
            )
        ),
        "source": draw(st.sampled_from(["oci", "chainguard", "<x>", 3])),
        "origin": draw(st.sampled_from(["", "https://r.example/v2/acme/widget", "javascript:1"])),
    }
    if draw(st.booleans()):
        document.pop(draw(st.sampled_from(sorted(document))))
    return json.dumps(document)


@PROPERTY_SETTINGS
@given(
    cache_documents(), st.sampled_from(["UTC", "Asia/Tokyo", "Pacific/Kiritimati", "America/Adak"])
)
def test_any_cache_file_is_a_snapshot_or_a_format_error_and_renders_only_our_markup(
    text: str, zone_name: str
) -> None:
    try:
        snapshot = snapshot_from_json(text)
    except CacheFormatError:
        return
    zone = UTC if zone_name == "UTC" else ZoneInfo(zone_name)
    html = render_html(
        table_view(
            snapshot.image, group_by_digest(snapshot), as_of=AsOf(snapshot.fetched_at), zone=zone
        )
    )
    for tag, sightings in snapshot.ledger.items():
        html += render_html(tag_history_view(snapshot.image, tag, sightings, as_of=None, zone=zone))
    assert "\x02" not in html and "\x03" not in html and "\x1b" not in html
    soup = BeautifulSoup(html, "html.parser")
    assert {element.name for element in soup.find_all(True)} <= ELEMENTS
    for tag in snapshot.tags:
        assert "<" not in tag and "&" not in tag
