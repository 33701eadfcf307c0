"""Which tags point at a digest, now and before: ``taghistory show --digest``'s lookup and
table. In-process, on the snapshot the feed tests use."""

from __future__ import annotations

import pytest

from mkdocs_taghistory.digest_lookup import DigestLookupError, digest_view, find_digest
from mkdocs_taghistory.render import json_rows, render_markdown
from tests.unit.test_feeds import D1, D2, IMAGE, snapshot


def test_a_digest_prefix_names_the_tags_on_it_now_and_before() -> None:
    found = find_digest("sha256:1111", [(IMAGE, snapshot())])
    assert found.digest == D1
    view = digest_view(found)
    assert render_markdown(view).splitlines()[2:] == [
        "| `latest` | now          | March 20th |            |",
        "| `1.0`    | now          | March 3rd  |            |",
        "| `latest` | before       | March 3rd  | March 10th |",
    ]
    # The same rows as JSON (show --digest --json): the view's own columns, not a table's.
    rows = json_rows(view)
    assert [(row["tag"], row["state"]) for row in rows] == [
        ("latest", "now"),
        ("1.0", "now"),
        ("latest", "before"),
    ]
    # Hex digits alone do too, as `docker images` shows them.
    assert find_digest("22222222", [(IMAGE, snapshot())]).digest == D2


def test_an_unknown_ambiguous_or_malformed_prefix_says_so() -> None:
    other = snapshot()._replace(image="registry.example/acme/other")
    with pytest.raises(DigestLookupError, match=r"no digest of .* starts with 4444"):
        find_digest("4444", [(IMAGE, snapshot())])
    with pytest.raises(DigestLookupError, match="ambiguous: 2 digests start with it"):
        find_digest("1111", [(IMAGE, snapshot()), (other.image, other)])
    with pytest.raises(DigestLookupError, match="not the start of a digest"):
        find_digest("12", [(IMAGE, snapshot())])
    with pytest.raises(DigestLookupError, match="not the start of a digest"):
        find_digest("sha256:xyz1", [(IMAGE, snapshot())])
