"""What comes from outside, registries and hand-edited cache files alike, is checked where it
is read: times a page can show, tag grammar, bounded patterns, files that are files, text that
is safe for a terminal. Pure functions, in-process; a few real builds where the wiring counts."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mkdocs_taghistory.cache import (
    MAX_FILE_BYTES,
    CacheFormatError,
    SnapshotCache,
    cache_file_name,
    snapshot_from_json,
    snapshot_to_json,
)
from mkdocs_taghistory.cli import main
from mkdocs_taghistory.directive_options import parse_age
from mkdocs_taghistory.durations import DurationError, parse_duration
from mkdocs_taghistory.errors import InvalidReferenceError, RegistryError, printable
from mkdocs_taghistory.history import (
    DigestFacts,
    Sighting,
    TagSnapshot,
    TagState,
    record_sightings,
    with_sighting,
)
from mkdocs_taghistory.patterns import PatternError, PatternTooSlowError, compile_pattern
from mkdocs_taghistory.reference import parse_reference, parse_registry
from mkdocs_taghistory.registry.session import RegistrySession
from mkdocs_taghistory.registry.tokens import parse_bearer_challenge
from mkdocs_taghistory.settings import ClientSettings, ConfigurationError
from mkdocs_taghistory.site_options import settings_from_options
from mkdocs_taghistory.timestamps import from_unix_seconds, parse_http_date, parse_timestamp
from tests.support.site import write_site

DIGEST_A, DIGEST_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
FETCHED = datetime(2024, 3, 22, 12, tzinfo=UTC)
STASH_PLACEHOLDER = "\u0002wzxhzdk:0\u0003"


def snapshot(**changes: object) -> TagSnapshot:
    base = TagSnapshot(
        image="registry.example/acme/widget",
        fetched_at=FETCHED,
        tags={"latest": TagState(DIGEST_A, FETCHED)},
        digests={DIGEST_A: DigestFacts(created=FETCHED)},
        origin="https://registry.example/v2/acme/widget",
    )
    return base._replace(**changes)  # type: ignore[arg-type]


def document(**changes: object) -> str:
    loaded = json.loads(snapshot_to_json(snapshot()))
    loaded.update(changes)
    return json.dumps(loaded)


# --- times -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T10:00:00+14:00"]
)
def test_times_no_time_zone_can_show_are_refused_where_they_are_read(text: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(text)


def test_out_of_range_unix_and_http_dates_are_refused() -> None:
    for seconds in (10**12, -(10**12)):
        with pytest.raises(ValueError, match="out of range"):
            from_unix_seconds(seconds)
    with pytest.raises(ValueError):
        parse_http_date("Fri, 31 Dec 9999 23:59:59 -1200")
    assert parse_timestamp("2024-03-22T12:00:00Z") == FETCHED


# --- the cache as untrusted input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            document(tags={STASH_PLACEHOLDER: {"digest": DIGEST_A, "changed": None}}),
            "invalid tag name",
        ),
        (document(ledger={"la\x1b[2Jtest": []}), "invalid tag name"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (document(fetched_at="9999-12-30T00:00:00Z"), "in the future"),
        (document(fetched_at="9999-12-31T23:59:59Z"), "out of range"),
        (document(image="\x1b]0;owned\x07registry.example/acme/widget"), "not an image"),
        (document(origin="https://registry.example/\x1b[2J"), "not an http(s) address"),
        (document(source="<script>"), "not a vendor name"),
        (document(digests={DIGEST_A: {"created": "9999-12-31T23:59:59Z"}}), "out of range"),
    ],
)
def test_a_hand_edited_cache_file_is_refused_naming_why(text: str, problem: str) -> None:
    with pytest.raises(CacheFormatError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        snapshot_from_json(text, now=FETCHED)


def test_a_cache_file_fetched_a_minute_ahead_is_still_read() -> None:
    # Clocks of two machines sharing a committed cache disagree a little.
    ahead = document(fetched_at="2024-03-22T12:01:00Z")
    assert snapshot_from_json(ahead, now=FETCHED).fetched_at == FETCHED + timedelta(minutes=1)


class Recorded(logging.Handler):
    """The records of one logger, wherever the MkDocs plugin (if loaded) routes them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "fifo", "folder", "too large"])
def test_a_cache_path_that_is_no_regular_file_is_one_warning_and_missing(
    tmp_path: Path, kind: str
) -> None:
    cache = SnapshotCache(tmp_path)
    path = cache.path_for(snapshot().image)
    if kind == "symlink to /dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        with path.open("wb") as stream:
            stream.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk is used
    recorded = Recorded()
    cache_logger = logging.getLogger("mkdocs_taghistory.cache")
    cache_logger.addHandler(recorded)
    try:
        assert cache.load(snapshot().image) is None
    finally:
        cache_logger.removeHandler(recorded)
    (warning,) = recorded.messages
    assert str(path) in warning


def test_a_valid_cache_file_round_trips(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path)
    cache.store(snapshot())
    assert cache.load(snapshot().image) == snapshot()


# --- the ledger under concurrent writers ----------------------------------------------------


def test_sightings_from_builds_that_wrote_out_of_order_are_all_kept() -> None:
    times = [FETCHED + timedelta(minutes=minute) for minute in range(4)]
    # Four builds saw latest on A, B, C, D, and wrote their results in the order 1, 3, 0, 2.
    seen = [Sighting(digest, moment) for digest, moment in zip("ABCD", times, strict=True)]
    ledger: tuple[Sighting, ...] = ()
    for index in (1, 3, 0, 2):
        ledger = with_sighting(ledger, seen[index])
    assert ledger == tuple(seen)
    # A later sighting inside a run adds nothing; an earlier one moves the run's start back.
    assert with_sighting(ledger, Sighting("D", times[3] + timedelta(minutes=5))) == ledger
    earlier = Sighting("A", times[0] - timedelta(minutes=1))
    assert with_sighting(ledger, earlier) == (earlier, *seen[1:])


def test_an_older_fetch_written_last_keeps_the_newer_tags_and_adds_its_sighting() -> None:
    newer = snapshot(
        fetched_at=FETCHED + timedelta(hours=1), tags={"latest": TagState(DIGEST_B, None)}
    )
    newer = record_sightings(newer, None)
    older = snapshot(tags={"latest": TagState(DIGEST_A, None)})
    merged = record_sightings(older, newer)
    assert merged.tags["latest"].digest == DIGEST_B
    assert [sighting.digest for sighting in merged.ledger["latest"]] == [DIGEST_A, DIGEST_B]


# --- patterns, options and messages ---------------------------------------------------------


def test_a_catastrophic_pattern_stops_within_its_timeout() -> None:
    pattern = compile_pattern(r"(a|aa)+\1c", "include")
    with pytest.raises(PatternTooSlowError, match=r"include '\(a\|aa\)\+\\\\1c' took more than"):
        pattern.found_in("a" * 40)
    assert compile_pattern(r"^(\d+\.?)+$", "include").found_in("1" * 40 + "-dev") is False


@pytest.mark.parametrize("source", ["a{99999999999}", "(", "x" * 1001])
def test_a_pattern_that_cannot_be_compiled_is_an_error_not_a_traceback(source: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(source, "include")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"timezone": "Europe"}, "option 'timezone': unknown time zone"),
        ({"timezone": "A" * 5000}, "option 'timezone': unknown time zone"),
        ({"include_tags": "a{99999999999}"}, "option 'include_tags': not a regular expression"),
        ({"registry": "https://x.example/ns"}, "without a scheme such as https://"),
        ({"fetch_timeout": 0}, "option 'fetch_timeout'"),
    ],
)
def test_odd_option_values_are_option_errors(
    options: dict[str, object], problem: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match=problem.replace("(", r"\(")):
        settings_from_options(options, tmp_path)


def test_a_scheme_in_a_registry_is_named_as_the_problem() -> None:
    with pytest.raises(InvalidReferenceError, match="without a scheme"):
        parse_registry("https://x.example/ns")


def test_an_upper_case_realm_scheme_is_a_realm_all_the_same() -> None:
    challenge = parse_bearer_challenge('Bearer realm="HTTPS://auth.example/token",service="s"')
    assert challenge is not None and challenge.realm == "https://auth.example/token"


# --- the terminal -------------------------------------------------------------------------


def test_control_characters_are_escaped_for_the_terminal() -> None:
    assert printable("a\x1b]0;title\x07b\x1b[2J\x9b") == "a\\x1b]0;title\\x07b\\x1b[2J\\x9b"
    assert printable("line one\nline\ttwo") == "line one\nline\ttwo"


def test_taghistory_cache_never_prints_a_cached_escape_sequence(tmp_path: Path) -> None:
    image = "registry.example/acme/widget"
    config = write_site(
        tmp_path, {"w.md": f'<< tag_history "{image}" >>\n'}, {"cache_dir": "cache"}
    )
    (tmp_path / "cache").mkdir()
    hostile = document(image="\x1b]0;owned\x07\x1b[2J" + image)
    (tmp_path / "cache" / cache_file_name(image)).write_text(hostile)
    (tmp_path / "cache" / "other.json").write_text(document(tags={"x\x1b[31m": {}}))
    result = CliRunner().invoke(main, ["cache", "-f", str(config)])
    assert "\x1b" not in result.output
    assert "damaged" in result.output


def test_a_next_page_over_plain_http_is_named_as_such() -> None:
    http = RegistrySession(ClientSettings())
    reference = parse_reference("registry.example/acme/widget")
    with pytest.raises(RegistryError, match=r"pointed at plain HTTP \(registry.example\)"):
        asyncio.run(
            http.registry(
                reference, "GET", "http://registry.example/v2/acme/widget/tags/list", max_bytes=1024
            )
        )
    assert http.requests_sent == 0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("1m", 60), ("6h", 21600), ("1d", 86400), ("1w", 604800), (45, 45)],
)
def test_ttl_and_max_age_share_one_duration_grammar(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_age(str(text)) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["1y", "-1h", "soon", True, "99999999999d", 1e300])
def test_what_is_not_a_duration_is_refused(text: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)
