"""What a digest's new facts are read from, and what of them is refused: the referrers API's
artifact types, the cache's values (untrusted input), and Babel kept out of English builds."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from mkdocs_taghistory.facts import (
    FACTS,
    PLATFORM_DIGESTS,
    UNKNOWN_REFERRERS,
    DigestFacts,
    without_credentials,
)
from mkdocs_taghistory.filters import TagDemand, TagFilter
from mkdocs_taghistory.history import DigestGroup
from mkdocs_taghistory.locales import localized_date
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.registry.image_labels import Labels
from mkdocs_taghistory.registry.oci import OciVendor
from mkdocs_taghistory.registry.referrers import kind_of, kinds_in
from mkdocs_taghistory.registry.vendor_base import ImageFetch
from mkdocs_taghistory.render import json_rows, render_markdown
from mkdocs_taghistory.view import COLUMNS, CellStyle, table_view

DIGEST = "sha256:" + "1" * 64


@pytest.mark.parametrize(
    ("descriptor", "kind"),
    [
        ({"artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json"}, "signature"),
        ({"artifactType": "application/vnd.cncf.notary.signature"}, "signature"),
        ({"artifactType": "application/spdx+json"}, "sbom"),
        ({"artifactType": "application/vnd.cyclonedx+json"}, "sbom"),
        ({"artifactType": "application/vnd.in-toto+json"}, "attestation"),
        ({"artifactType": "application/vnd.dsse.envelope.v1+json"}, "attestation"),
        # Sigstore bundles share one type; the predicate annotation tells them apart.
        ({"artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"}, "signature"),
        (
            {
                "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "annotations": {
                    "dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1"
                },
            },
            "attestation",
        ),
        (
            {
                "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "annotations": {"dev.sigstore.bundle.predicateType": "https://spdx.dev/Document"},
            },
            "sbom",
        ),
        ({"artifactType": "application/vnd.example.scan-report.v1+json"}, None),
        ({"artifactType": 7}, None),
        ({}, None),
    ],
)
def test_each_artifact_type_is_read_as_what_a_table_calls_it(
    descriptor: dict[str, object], kind: str | None
) -> None:
    assert kind_of(descriptor) == kind


def test_kinds_come_in_the_tables_order_once_each_whatever_the_index_holds() -> None:
    index = [
        {"artifactType": "application/spdx+json"},
        "not a descriptor",
        {"artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json"},
        {"artifactType": "application/vnd.cyclonedx+json"},
    ]
    assert kinds_in(index) == ("signature", "sbom")


@pytest.mark.parametrize(
    "value",
    [
        [["linux/amd64", "sha256:abc"]],
        [["linux/amd64"]],
        [["<script>", DIGEST]],
        "linux/amd64",
        [[1, DIGEST]],
    ],
)
def test_a_cache_file_s_platform_digests_are_checked(value: object) -> None:
    with pytest.raises(ValueError, match="platforms"):
        PLATFORM_DIGESTS.load(value)


@pytest.mark.parametrize("value", ["https://x/\x1b[2J", "a" * 513, 5, ["x"]])
def test_a_cache_file_s_source_is_checked(value: object) -> None:
    codec = dict(FACTS)["source"]
    with pytest.raises(ValueError, match="label"):
        codec.load(value)


def test_every_new_fact_goes_through_the_cache_and_back() -> None:
    facts = DigestFacts(
        created=datetime(2024, 3, 18, tzinfo=UTC),
        platforms=("linux/amd64",),
        platform_digests=(("linux/amd64", DIGEST),),
        source="https://github.com/acme/widget",
        revision="v1",
        referrers=("signature", "sbom"),
    )
    written = {name: codec.dump(getattr(facts, name)) for name, codec in FACTS}
    assert DigestFacts(**{name: codec.load(written[name]) for name, codec in FACTS}) == facts
    assert {name for name, _ in FACTS} == set(DigestFacts._fields) - {"unread"}


def test_a_source_that_is_no_web_address_is_never_a_link() -> None:
    style = CellStyle("registry.example/acme/widget")
    for address in ("javascript:alert(1)", "data:text/html,x", "https://github.com/ acme/x"):
        group = DigestGroup(DIGEST, ("1",), None, DigestFacts(source=address, revision=""))
        pieces = COLUMNS["source"].cell(group, style)
        assert [piece.kind for piece in pieces] == ["text"], pieces


def test_an_english_table_never_imports_babel() -> None:
    script = """
import sys
from datetime import UTC, datetime
from mkdocs_taghistory.history import DigestGroup
from mkdocs_taghistory.render import render_html
from mkdocs_taghistory.view import table_view

group = DigestGroup("sha256:" + "1" * 64, ("1",), datetime(2024, 3, 18, tzinfo=UTC))
print(render_html(table_view("r.example/a/b", [group], year=2023)))
assert "babel" not in sys.modules, "babel imported"
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert "March 18th, 2024" in ran.stdout


@pytest.mark.parametrize(
    ("address", "href"),
    [
        ("https://github.com/acme/widget", "https://github.com/acme/widget/tree/v1"),
        ("https://github.com/acme/widget.git", "https://github.com/acme/widget/tree/v1"),
        # A folder of the repository: the link is the repository's, at the revision.
        ("https://github.com/acme/widget/tree/main/sub", "https://github.com/acme/widget/tree/v1"),
        ("https://gitlab.com/group/sub/widget", "https://gitlab.com/group/sub/widget/-/tree/v1"),
        (
            "https://gitlab.com/group/widget/-/tree/main",
            "https://gitlab.com/group/widget/-/tree/v1",
        ),
    ],
)
def test_a_forge_source_links_its_repository_at_the_revision(address: str, href: str) -> None:
    group = DigestGroup(DIGEST, ("1",), None, DigestFacts(source=address, revision="v1"))
    link = COLUMNS["source"].cell(group, CellStyle("r.example/a/b"))[0]
    assert (link.kind, link.href) == ("link", href)


def test_credentials_in_a_source_address_are_never_shown() -> None:
    address = "https://gitlab-ci-token:glcbt-SECRET@git.example.com/group/widget.git"
    assert without_credentials(address) == "https://git.example.com/group/widget.git"
    group = DigestGroup(DIGEST, ("1",), None, DigestFacts(source=address, revision="v1"))
    shown = COLUMNS["source"].cell(group, CellStyle("r.example/a/b"))
    assert not any("SECRET" in (piece.text + (piece.full or "")) for piece in shown)
    labels = Labels()
    labels.read({"org.opencontainers.image.source": address})
    assert labels.source == "https://git.example.com/group/widget.git"


def test_a_hostile_revision_cannot_end_its_markdown_code_span() -> None:
    revision = "x` <img src=x onerror=alert(1)> | `y"
    group = DigestGroup(DIGEST, ("1",), None, DigestFacts(source="", revision=revision))
    view = table_view("r.example/a/b", [group], columns=("tags", "source"))
    row = render_markdown(view).splitlines()[2]
    # Two cells still (the | escaped), the revision inside one code span, fenced past its `.
    assert row.replace("\\|", "").count("|") == 3, row
    assert "`` x` <img src=x onerror=alert(1)> \\| `y ``" in row


def test_json_tells_unknown_signatures_from_none() -> None:
    unknown = DigestGroup(DIGEST, ("1",), None, DigestFacts(referrers=UNKNOWN_REFERRERS))
    none = DigestGroup("sha256:" + "2" * 64, ("2",), None, DigestFacts(referrers=()))
    rows = json_rows(table_view("r.example/a/b", [unknown, none], columns=("tags", "signatures")))
    assert [row["signatures"] for row in rows] == [None, []]


def test_a_vendor_timed_tag_is_looked_up_only_when_a_table_shows_it() -> None:
    hidden, shown = "sha256-" + "1" * 64 + ".sig", "1.0"
    fetch = ImageFetch(
        parse_reference("r.example/a/b"),
        OciVendor.__new__(OciVendor),
        demand=TagDemand((TagFilter(),), facts=frozenset({"platforms"})),
    )
    moment = datetime(2024, 3, 18, tzinfo=UTC)
    fetch.add_tag(hidden, "sha256:" + "a" * 64, moment)
    fetch.add_tag(shown, "sha256:" + "b" * 64, moment)
    assert fetch.vendor.digests_to_inspect(fetch) == ["sha256:" + "b" * 64]


def test_strftime_s_upper_case_flag_holds_under_a_locale() -> None:
    moment = datetime(2024, 3, 20, tzinfo=UTC)
    assert localized_date(moment, "%^B %O", "de", with_year=False) == "MÄRZ 20"
