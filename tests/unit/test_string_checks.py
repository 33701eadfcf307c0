"""The checks a build runs on every tag, digest and platform of a cache file, written as string
tests rather than patterns (a pattern is compiled at every import), held to the patterns that
state the grammar: the OCI distribution spec's tag, a sha256 digest, a platform as tables show
it, and what the cache file allows as its image, source and origin.

The generated text keeps close to the grammar (its own characters, the ones just outside it,
other scripts' letters and digits, lengths at the limits), where a hand-written check goes
wrong.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mkdocs_taghistory.cache import CacheFormatError, snapshot_from_json, snapshot_to_json
from mkdocs_taghistory.facts import is_digest, is_platform
from mkdocs_taghistory.history import TagSnapshot, is_valid_tag
from mkdocs_taghistory.timestamps import format_timestamp, parse_timestamp

TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
PLATFORM = re.compile(r"[a-z0-9]{1,32}/[a-z0-9_]{1,32}(?:/[a-z0-9.]{1,16})?")
IMAGE = re.compile(r"[!-~]{1,512}")
SOURCE = re.compile(r"[a-z0-9_-]{1,32}")
ORIGIN = re.compile(r"(?:https?://[!-~]{1,2040})?")

# The grammars' own characters, and their neighbours: controls, a space, DEL, Latin-1, a
# fullwidth digit and letter, a dotless i that upper-cases to ASCII, a long s.
NEAR = "aAzZ09_.-/:@ \t\n\x00\x1f\x7f\x80\xa0\xe9\uff12\uff41\u0131\u017f~!"
PLAIN = st.text(alphabet=NEAR, max_size=12)


def near(prefixes: list[str], limits: list[int]) -> st.SearchStrategy[str]:
    """Text that starts like the grammar's and runs to about each of its ``limits``."""
    at_limit = st.builds(
        lambda prefix, fill, extra, limit: prefix + fill * (limit - len(prefix)) + extra,
        st.sampled_from(prefixes),
        st.sampled_from(["a", "0", ".", "A"]),
        st.sampled_from(["", "a", "é", " ", "-"]),
        st.sampled_from(limits),
    )
    return st.one_of(PLAIN, st.builds(str.__add__, st.sampled_from(prefixes), PLAIN), at_limit)


CHECKS = settings(max_examples=400, deadline=None)


@CHECKS
@given(near(["", "_", ".", "v1.0-"], [127, 128, 129]))
def test_a_tag_is_valid_as_the_spec_pattern_says(text: str) -> None:
    assert is_valid_tag(text) is (TAG.fullmatch(text) is not None)


@CHECKS
@given(near(["sha256:", "sha256:abc", "sha512:", "sha256-"], [70, 71, 72]))
def test_a_digest_is_valid_as_its_pattern_says(text: str) -> None:
    assert is_digest(text) is (DIGEST.fullmatch(text) is not None)


# Parts near each part's limits (16, 32), each from the grammar's characters or near them.
PLATFORM_PARTS = st.one_of(
    PLAIN,
    st.builds(
        str.__mul__,
        st.sampled_from(["a", "0", "_", ".", "A"]),
        st.sampled_from([1, 16, 17, 32, 33]),
    ),
)


@CHECKS
@given(st.lists(PLATFORM_PARTS, min_size=1, max_size=4).map("/".join))
def test_a_platform_is_valid_as_its_pattern_says(text: str) -> None:
    assert is_platform(text) is (PLATFORM.fullmatch(text) is not None)


@pytest.mark.parametrize("os_name", ["a" * 32, "a" * 33, "", "a_"])
@pytest.mark.parametrize("architecture", ["b" * 32, "b" * 33, "", "b_", "b."])
@pytest.mark.parametrize("variant", [None, "v" * 16, "v" * 17, "", "v.", "v_"])
def test_each_part_of_a_platform_has_its_own_limit_and_characters(
    os_name: str, architecture: str, variant: str | None
) -> None:
    text = "/".join([os_name, architecture, *([] if variant is None else [variant])])
    assert is_platform(text) is (PLATFORM.fullmatch(text) is not None)


def _cache_file(**fields: str) -> str:
    snapshot = TagSnapshot("cgr.dev/chainguard/rust", datetime(2024, 3, 22, tzinfo=UTC), {}, {})
    document = json.loads(snapshot_to_json(snapshot))
    document.update(fields)
    return json.dumps(document)


def _reads(text: str) -> bool:
    try:
        snapshot_from_json(text, now=datetime(2025, 1, 1, tzinfo=UTC))
    except CacheFormatError:
        return False
    return True


@CHECKS
@given(near(["cgr.dev/", "registry.example:5000/a", "r/"], [511, 512, 513]))
def test_a_cache_file_image_is_read_as_its_pattern_says(text: str) -> None:
    assert _reads(_cache_file(image=text)) is (IMAGE.fullmatch(text) is not None)


@CHECKS
@given(near(["", "oci", "chainguard_", "docker-hub"], [31, 32, 33]))
def test_a_cache_file_source_is_read_as_its_pattern_says(text: str) -> None:
    assert _reads(_cache_file(source=text)) is (SOURCE.fullmatch(text) is not None)


@CHECKS
@given(near(["", "http://", "https://", "https:/", "ftp://", "http://s://"], [2046, 2047, 2048]))
def test_a_cache_file_origin_is_read_as_its_pattern_says(text: str) -> None:
    assert _reads(_cache_file(origin=text)) is (ORIGIN.fullmatch(text) is not None)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 3, 22, 0, 34, 55, tzinfo=UTC),
        datetime(2024, 3, 22, 0, 34, 55, 7, tzinfo=UTC),
        datetime(500, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime.fromisoformat("2024-03-22T09:34:55.5+09:00"),
    ],
)
def test_a_timestamp_is_written_as_rfc_3339_in_utc_and_read_back(moment: datetime) -> None:
    utc = moment.astimezone(UTC)
    expected = f"{utc:%Y-%m-%dT%H:%M:%S}".rjust(19, "0")  # strftime leaves year 500 short
    written = format_timestamp(moment)
    assert written == expected + (f".{utc.microsecond:06d}" if utc.microsecond else "") + "Z"
    assert parse_timestamp(written) == moment


@pytest.mark.parametrize(
    "text",
    [
        "\uff12\uff10\uff12\uff14-03-22T00:34:55Z",  # fullwidth
        "2024-03-22T00:34:5\u0665Z",  # Arabic-Indic
        "2024-03-22T00:34:55.\u0661Z",
    ],
)
def test_a_timestamp_in_another_script_s_digits_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an RFC 3339 timestamp"):
        parse_timestamp(text)
