"""The columns people pinning images ask for, end to end against the real registry: each
platform's digest (checked against skopeo), what is attached to a digest (cosign's tags, the
referrers API), the source it was built from; in HTML, Markdown, JSON and Sphinx, and asked of
the registry only when a table shows them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup, Tag
from click.testing import CliRunner

from mkdocs_taghistory.cli import main
from mkdocs_taghistory.dates import DEFAULT_DATE_FORMAT, needs_year, shown_date
from tests.support.front import RegistryFront
from tests.support.pinning import COMMIT, REPOSITORY, Pushed, push_images
from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, Pusher, canonical, sha256
from tests.support.site import mkdocs_build, write_site
from tests.support.sphinx_project import sphinx_build, write_project
from tests.support.tls import CertificateAuthority

COLUMNS = "tags,platforms,signatures,source"
# Artifact types as the tools that push them write them: cosign's signature (in its OCI 1.1
# mode), an SPDX SBOM, and an in-toto attestation (distribution-spec 1.1's referrers example
# has this shape: an index of descriptors, each with its artifactType).
COSIGN_SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"
SPDX = "application/spdx+json"
IN_TOTO = "application/vnd.in-toto+json"


@pytest.fixture
def pushed(own_registry: RegistryServer) -> Pushed:
    return push_images(own_registry.url)


@pytest.fixture
def front(own_registry: RegistryServer) -> Iterator[RegistryFront]:
    with RegistryFront(own_registry.url) as server:
        yield server


def EMPTY_CONFIG(pusher: Pusher) -> dict[str, object]:  # noqa: N802 (reads as a value)
    """The empty config an artifact manifest carries, pushed."""
    return {"mediaType": OCI_CONFIG, "digest": pusher.blob(b"{}"), "size": 2}


def page(columns: str = COLUMNS, image: str = "") -> str:
    return f'# Widget\n\n<< tag_history "{image}" columns="{columns}" >>\n'


def cells(soup: Tag, column: int) -> dict[str, Tag]:
    """Each row's cell of ``column``, by the row's first tag."""
    found = {}
    for row in soup.select("div.taghistory tbody tr"):
        tds = row.find_all("td")
        found[tds[0].select("code")[0].get_text()] = tds[column]
    return found


def words(cell: Tag) -> str:
    """A cell's text as a reader reads it: its words, one space apart (a no-break space, which
    keeps "· SBOM" together, is a space to a reader)."""
    return " ".join(cell.get_text().split())


def attribute(cell: Tag, selector: str, name: str) -> str:
    """The ``name`` attribute of the first element ``selector`` finds in ``cell``."""
    found = cell.select(selector)
    assert found, f"no {selector} in {cell}"
    return str(found[0][name])


def skopeo_platforms(host: str, tag: str) -> list[tuple[str, str]]:
    """Each platform of the tag's index with its digest, as skopeo reads the index."""
    skopeo = subprocess.run(
        [
            *("skopeo", "inspect", "--raw", "--no-creds", "--tls-verify=false"),
            f"docker://{host}/{REPOSITORY}:{tag}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert skopeo.returncode == 0, skopeo.stderr
    raw = skopeo.stdout
    return [
        (
            "/".join(
                part
                for part in (
                    entry["platform"]["os"],
                    entry["platform"]["architecture"],
                    entry["platform"].get("variant", ""),
                )
                if part
            ),
            entry["digest"],
        )
        for entry in json.loads(raw)["manifests"]
    ]


def test_new_columns_show_each_platform_digest_what_is_attached_and_the_source(
    pushed: Pushed, front: RegistryFront, tmp_path: Path
) -> None:
    image = f"{front.host}/{REPOSITORY}"
    config = write_site(tmp_path, {"widget.md": page(image=image)}, {"cache_dir": "cache"})
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    soup = build.page("widget")
    assert [th.get_text() for th in soup.select("div.taghistory thead th")] == [
        "Tag (s)",
        "Platforms",
        "Signatures",
        "Source",
    ]

    # Platforms: each platform with its own digest, as skopeo reads the index, each copyable.
    platforms = cells(soup, 1)
    for tag in ("2.0", "1.5"):
        entries = platforms[tag].select(".taghistory-entry")
        shown = [
            (entry.find_all("code")[0].get_text(), entry.find_all("code")[1].get_text())
            for entry in entries
        ]
        assert shown == skopeo_platforms(front.host, tag)
        for (platform, digest), entry in zip(shown, entries, strict=True):
            assert attribute(entry, "button", "data-copy") == digest
            assert attribute(entry, "button", "aria-label") == (
                f"Copy {platform} digest {digest[:19]}"
            )
    assert [code.get_text() for code in platforms["1.2"].find_all("code")] == [
        "linux/amd64",
        pushed.single,
    ]

    # Signatures: from cosign's tags (the registry has no referrers API: it answers 404).
    signatures = {tag: words(cell) for tag, cell in cells(soup, 2).items()}
    assert signatures == {
        "2.0": "signed",
        "1.5": "attested · SBOM",
        "1.2": "none",
        "0.1": "none",
    }
    referrer_asks = [key for key in front.requests if "/referrers/" in key]
    assert len(referrer_asks) == 1, referrer_asks  # the first 404 stops the others

    # Source: a link to the tree at the revision on a known forge; else text, never a link.
    source = cells(soup, 3)
    assert attribute(source["2.0"], "a", "href") == f"https://github.com/acme/widget/tree/{COMMIT}"
    assert source["2.0"].find_all("code")[-1].get_text() == COMMIT[:12]
    assert attribute(source["1.5"], "a", "href") == "https://gitlab.com/acme/widget/-/tree/v1.5.0"
    assert source["1.2"].find("a") is None
    assert words(source["1.2"]) == "https://example.org/src/widget v1.2.3"
    assert source["0.1"].find("a") is None and source["0.1"].find("b") is None
    assert "javascript:alert(1)//<b>x</b>" in source["0.1"].get_text()


def test_the_new_columns_cost_nothing_when_no_table_shows_them(
    pushed: Pushed, front: RegistryFront, tmp_path: Path
) -> None:
    image = f"{front.host}/{REPOSITORY}"
    config = write_site(
        tmp_path, {"widget.md": f'# W\n\n<< tag_history "{image}" >>\n'}, {"cache_dir": "cache"}
    )
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    asked = set(front.requests)
    assert not [key for key in asked if "/referrers/" in key]
    # The single image's time is annotated on its manifest: its config (the platform and the
    # labels) is read only for a table that shows them.
    blobs = [key for key in asked if "/blobs/" in key]
    assert len(blobs) == 1, blobs  # the gitlab index's config, for its time; none else

    # The same site with the columns asks again, once, for what the cache does not hold.
    front.requests.clear()
    config.parent.joinpath("docs", "widget.md").write_text(page(image=image), encoding="utf-8")
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    assert any("/referrers/" in key for key in front.requests)
    assert "https://example.org/src/widget" in build.page("widget").get_text()
    # And a third build, within the ttl, asks nothing: every digest's facts are cached.
    front.requests.clear()
    assert mkdocs_build(config, "--strict").returncode == 0
    assert not front.requests


def test_signatures_come_from_the_referrers_api_where_the_registry_has_it(
    pushed: Pushed, own_registry: RegistryServer, tmp_path: Path
) -> None:
    referrers = {
        pushed.single: [
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "a" * 64, "size": 10,
             "artifactType": COSIGN_SIGNATURE},
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "b" * 64, "size": 10,
             "artifactType": SPDX,
             "annotations": {"org.opencontainers.image.created": "2024-03-10T10:00:00Z"}},
        ],
        pushed.hostile: [
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "c" * 64, "size": 10,
             "artifactType": IN_TOTO},
            # A scan report: no column shows it.
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "d" * 64, "size": 10,
             "artifactType": "application/vnd.example.scan-report.v1+json"},
        ],
    }  # fmt: skip
    with RegistryFront(own_registry.url, referrers=referrers) as front:
        image = f"{front.host}/{REPOSITORY}"
        config = write_site(
            tmp_path,
            {"widget.md": page("tags,signatures", image)},
            {"cache_dir": "cache", "ttl": 0},
        )
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        signatures = {tag: words(cell) for tag, cell in cells(build.page("widget"), 1).items()}
        assert signatures == {
            "2.0": "signed",  # cosign's .sig tag, and the API lists nothing more
            "1.5": "attested · SBOM",
            "1.2": "signed · SBOM",
            "0.1": "attested",
        }
        # One request a digest shown, each build (referrers grow: ttl 0 asks again).
        first = sum(count for key, count in front.requests.items() if "/referrers/" in key)
        assert first == 4
        referrers[pushed.github] = [
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "e" * 64, "size": 10,
             "artifactType": SPDX}
        ]  # fmt: skip
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        assert words(cells(build.page("widget"), 1)["2.0"]) == "signed · SBOM"


def test_referrers_are_asked_with_the_registry_s_token(
    pushed: Pushed, own_registry: RegistryServer, tmp_path: Path
) -> None:
    # As cgr.dev and Docker Hub ask: a bearer token for the repository, the referrers API
    # under the same scope as its manifests.
    referrers = {pushed.single: [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + "a" * 64,
                                  "size": 10, "artifactType": SPDX}]}  # fmt: skip
    with RegistryFront(own_registry.url, require_token=True, referrers=referrers) as front:
        image = f"{front.host}/{REPOSITORY}"
        config = write_site(
            tmp_path, {"widget.md": page("tags,signatures", image)}, {"cache_dir": "cache"}
        )
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        assert words(cells(build.page("widget"), 1)["1.2"]) == "SBOM"
        asked = [key for key in front.requests if "/referrers/" in key]
        assert len(asked) == 4, asked
        assert len(front.token_requests) == 1  # one token for the tags, manifests and referrers


def test_show_writes_the_new_columns_as_markdown_and_json(
    pushed: Pushed, front: RegistryFront, tmp_path: Path
) -> None:
    image = f"{front.host}/{REPOSITORY}"
    common = ["show", image, "--cache-dir", str(tmp_path / "cache"), "--columns", COLUMNS]
    markdown = CliRunner().invoke(main, common)
    assert markdown.exit_code == 0, markdown.output
    # The table's cells, padding aside (the command lines its columns up).
    table = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in markdown.output.splitlines()
        if line.startswith("|")
    ]
    assert table[0] == ["Tag (s)", "Platforms", "Signatures", "Source"]
    rows = {row[0].split()[0]: row for row in table[2:]}
    assert rows["`2.0`"][1] == " ".join(
        f"`{platform}` `{digest}`" for platform, digest in skopeo_platforms(front.host, "2.0")
    )
    assert rows["`2.0`"][2] == "signed"
    assert rows["`2.0`"][3] == (
        f"[github.com/acme/widget](<https://github.com/acme/widget/tree/{COMMIT}>) `{COMMIT[:12]}`"
    )
    assert rows["`1.5`"][2] == "attested ·\u00a0SBOM"
    # Text, never a link, nor HTML where the table is pasted.
    assert rows["`0.1`"][3] == r"javascript:alert(1)//\<b\>x\</b\>"

    as_json = CliRunner().invoke(main, [*common, "--json", "--offline"])
    assert as_json.exit_code == 0, as_json.output
    documents = {row["tags"][0]: row for row in json.loads(as_json.output)["rows"]}
    assert documents["2.0"]["platforms"] == [
        {"platform": platform, "digest": digest}
        for platform, digest in skopeo_platforms(front.host, "2.0")
    ]
    assert documents["1.5"]["signatures"] == ["attestation", "sbom"]
    assert documents["2.0"]["source"] == {
        "url": "https://github.com/acme/widget",
        "revision": COMMIT,
    }
    assert documents["0.1"]["source"] == {
        "url": "javascript:alert(1)//<b>x</b>",
        "revision": None,
    }


def test_sphinx_shows_the_new_columns_in_html_and_text(
    pushed: Pushed, front: RegistryFront, tmp_path: Path
) -> None:
    image = f"{front.host}/{REPOSITORY}"
    project = write_project(
        tmp_path,
        {"widget.rst": f"Widget\n======\n\n.. tag-history:: {image}\n   :columns: {COLUMNS}\n"},
        {"taghistory_cache_dir": "cache"},
    )
    html = sphinx_build(project, "-W")
    assert html.returncode == 0, html.output
    soup = BeautifulSoup((html.out_dir / "widget.html").read_text(encoding="utf-8"), "html.parser")
    platforms = cells(soup, 1)
    assert len(platforms["2.0"].select(".taghistory-entry")) == 3
    assert len(platforms["2.0"].select("button.taghistory-copy")) == 3
    assert attribute(cells(soup, 3)["2.0"], "a", "href") == (
        f"https://github.com/acme/widget/tree/{COMMIT}"
    )
    assert cells(soup, 3)["0.1"].find("a") is None
    text = sphinx_build(project, builder="text")
    assert text.returncode == 0, text.output
    written = (text.out_dir / "widget.txt").read_text(encoding="utf-8")
    assert "linux/arm/v7" in written and "attested ·\u00a0SBOM" in written


def built_dates(
    root: Path, image: str, options: Mapping[str, object], **config: object
) -> list[Tag]:
    """The ``<time>`` elements of a one-table site's page, built with ``--strict``."""
    site = write_site(
        root, {"widget.md": f'# W\n\n<< tag_history "{image}" >>\n'}, options, **config
    )
    build = mkdocs_build(site, "--strict")
    assert build.returncode == 0, build.output
    return build.page("widget").select("div.taghistory time")


def test_dates_in_the_site_language_german_from_the_theme_french_by_option(
    pushed: Pushed, front: RegistryFront, tmp_path: Path
) -> None:
    image = f"{front.host}/{REPOSITORY}"
    cached = {"cache_dir": "cache"}
    german = built_dates(tmp_path / "de", image, cached, theme={"name": "mkdocs", "locale": "de"})
    dates = [time.get_text() for time in german]
    # The fetch is this year and the images are of 2024: the year rule adds it to every row.
    assert dates[0] == "20. März 2024", dates
    assert all("März" in date and date.endswith(" 2024") for date in dates)
    assert german[0]["datetime"] == "2024-03-20T10:00:00Z"
    french = built_dates(tmp_path / "fr", image, {**cached, "locale": "fr"})
    assert french[0].get_text() == "20 mars 2024"

    project = write_project(
        tmp_path / "sphinx",
        {"widget.rst": f"W\n=\n\n.. tag-history:: {image}\n"},
        {"taghistory_cache_dir": "cache", "language": "de"},
    )
    sphinx = sphinx_build(project, "-W")
    assert sphinx.returncode == 0, sphinx.output
    assert "20. März 2024" in (sphinx.out_dir / "widget.html").read_text(encoding="utf-8")
    # taghistory_locale over the project's language.
    with (project / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write('taghistory_locale = "fr"\n')
    sphinx = sphinx_build(project, "-W", "-E")
    assert sphinx.returncode == 0, sphinx.output
    assert "20 mars 2024" in (sphinx.out_dir / "widget.html").read_text(encoding="utf-8")


def test_material_s_theme_language_gives_the_dates_their_language(
    pushed: Pushed, front: RegistryFront, tmp_path: Path
) -> None:
    # Material's own key for it, theme.language (MkDocs' themes say theme.locale).
    material = built_dates(
        tmp_path,
        f"{front.host}/{REPOSITORY}",
        {"cache_dir": "cache"},
        theme={"name": "material", "language": "de"},
    )
    assert material[0].get_text() == "20. März 2024"


def test_an_unknown_locale_is_an_error_that_names_the_option(tmp_path: Path) -> None:
    config = write_site(tmp_path, {"index.md": "# Home\n"}, {"locale": "deutsch"})
    build = mkdocs_build(config)
    assert build.returncode != 0
    assert "option 'locale': unknown locale 'deutsch'" in build.output


def test_the_year_rule_is_unchanged_under_a_locale() -> None:
    fetched_year = 2024
    moments = [datetime(2024, 3, 18, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)]
    with_year = needs_year(moments, DEFAULT_DATE_FORMAT, UTC, fetched_year)
    shown = [
        shown_date(moment, DEFAULT_DATE_FORMAT, UTC, with_year=with_year, locale="de")
        for moment in moments
    ]
    assert shown == ["18. März", "2. Januar"]
    moments.append(datetime(2023, 12, 24, tzinfo=UTC))
    with_year = needs_year(moments, DEFAULT_DATE_FORMAT, UTC, fetched_year)
    assert [
        shown_date(moment, DEFAULT_DATE_FORMAT, UTC, with_year=with_year, locale="fr")
        for moment in moments
    ] == ["18 mars 2024", "2 janvier 2024", "24 décembre 2023"]


def test_a_vendor_that_times_its_tags_has_platforms_read_only_for_a_table_that_shows_them(
    pushed: Pushed, own_registry: RegistryServer, tmp_path: Path
) -> None:
    # Chainguard's history API gives each tag's digest and time: no manifest is read for a
    # plain table, and each digest's index once for a table of platforms.
    digests = {
        "2.0": pushed.github,
        "latest": pushed.github,
        "1.5": pushed.gitlab,
        "1.2": pushed.single,
        "0.1": pushed.hostile,
    }
    history = {
        tag: [{"updateTimestamp": f"2024-04-0{n + 1}T00:00:00Z", "digest": digest}]
        for n, (tag, digest) in enumerate(digests.items())
    }
    with RegistryFront(own_registry.url, chainguard_history=history) as front:
        image = f"{front.host}/{REPOSITORY}"
        options = {"cache_dir": "cache", "vendors": {front.host: {"type": "chainguard"}}}
        config = write_site(
            tmp_path, {"widget.md": f'# W\n\n<< tag_history "{image}" >>\n'}, options
        )
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        assert not [key for key in front.requests if "/manifests/" in key or "/blobs/" in key]

        config.parent.joinpath("docs", "widget.md").write_text(
            page("tags,last_changed,platforms", image), encoding="utf-8"
        )
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        soup = build.page("widget")
        platforms = cells(soup, 2)
        assert len(platforms["2.0"].select(".taghistory-entry")) == 3
        assert [code.get_text() for code in platforms["1.2"].select("code")] == [
            "linux/amd64",
            pushed.single,
        ]
        # The vendor's time stays the table's; each index was read once.
        assert str(cells(soup, 1)["2.0"].select("time")[0]["datetime"]) == "2024-04-02T00:00:00Z"
        assert front.requests[f"GET /v2/{REPOSITORY}/manifests/{pushed.github}"] == 1


def test_a_broken_referrers_api_leaves_the_table_and_says_unknown_until_the_ttl(
    pushed: Pushed, own_registry: RegistryServer, tmp_path: Path
) -> None:
    with RegistryFront(own_registry.url, referrers={}) as front:
        front.referrers_broken = True
        image = f"{front.host}/{REPOSITORY}"
        config = write_site(
            tmp_path, {"widget.md": page("tags,signatures", image)}, {"cache_dir": "cache"}
        )
        build = mkdocs_build(config, "--strict")  # told, not failed: the tags stand
        assert build.returncode == 0, build.output
        assert "could not read what refers to" in build.output
        signatures = {tag: words(cell) for tag, cell in cells(build.page("widget"), 1).items()}
        # cosign's tags still tell; the API's answer is unknown, never "none".
        assert signatures == {"2.0": "signed", "1.5": "attested · SBOM", "1.2": "unknown",
                              "0.1": "unknown"}  # fmt: skip
        # Within the ttl, the next build asks nothing (the failure is not a reason to refetch).
        front.requests.clear()
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        assert not front.requests


def test_a_registry_without_the_api_has_its_fallback_tag_read(
    pushed: Pushed, own_registry: RegistryServer, tmp_path: Path
) -> None:
    # The OCI 1.1 fallback: an index of the digest's referrers under the tag sha256-<hex>.
    with httpx.Client(base_url=own_registry.url, timeout=30) as client:
        pusher = Pusher(client, REPOSITORY)
        sbom = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                          "artifactType": SPDX, "config": EMPTY_CONFIG(pusher), "layers": [],
                          "subject": {"mediaType": OCI_MANIFEST, "digest": pushed.single,
                                      "size": 1}})  # fmt: skip
        sbom_digest = pusher.manifest(sha256(sbom), sbom, OCI_MANIFEST)
        index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sbom_digest, "size": len(sbom),
             "artifactType": SPDX}]})  # fmt: skip
        pusher.manifest("sha256-" + pushed.single.removeprefix("sha256:"), index, OCI_INDEX)
    with RegistryFront(own_registry.url) as front:  # the real registry: no referrers API
        image = f"{front.host}/{REPOSITORY}"
        config = write_site(
            tmp_path, {"widget.md": page("tags,signatures", image)}, {"cache_dir": "cache"}
        )
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        signatures = {tag: words(cell) for tag, cell in cells(build.page("widget"), 1).items()}
        assert signatures["1.2"] == "SBOM"
        assert signatures["0.1"] == "none"
        fallback = [key for key in front.requests if "/manifests/sha256-" in key]
        assert len(fallback) == 1, fallback  # only the digest whose tag the list names


def test_a_cache_from_before_these_columns_costs_a_plain_table_nothing(
    pushed: Pushed, front: RegistryFront, tmp_path: Path
) -> None:
    image = f"{front.host}/{REPOSITORY}"
    config = write_site(
        tmp_path, {"widget.md": f'# W\n\n<< tag_history "{image}" >>\n'},
        {"cache_dir": "cache", "ttl": 0},
    )  # fmt: skip
    assert mkdocs_build(config, "--strict").returncode == 0
    # The cache as an earlier version wrote it: each digest's time and platforms alone.
    for path in (tmp_path / "cache").glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        for facts in document["digests"].values():
            for name in ("platform_digests", "source", "revision", "referrers"):
                facts.pop(name, None)
        path.write_text(json.dumps(document), encoding="utf-8")
    front.requests.clear()
    build = mkdocs_build(config, "--strict")
    assert build.returncode == 0, build.output
    # The tags are read again (ttl 0), but no digest is looked up again for a plain table.
    assert not [key for key in front.requests if "/manifests/sha256:" in key or "/blobs/" in key]


def test_a_fetch_out_of_time_in_the_referrers_keeps_the_table(
    pushed: Pushed, own_registry: RegistryServer, tmp_path: Path
) -> None:
    with RegistryFront(own_registry.url, referrers={}) as front:
        front.referrers_delay = 2.5
        image = f"{front.host}/{REPOSITORY}"
        config = write_site(
            tmp_path,
            {"widget.md": page("tags,signatures", image)},
            {"cache_dir": "cache", "fetch_timeout": 2, "retries": 0},
        )
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        signatures = {tag: words(cell) for tag, cell in cells(build.page("widget"), 1).items()}
        # The tags and cosign's word stand; what the referrers would have said is unknown.
        assert signatures == {"2.0": "signed", "1.5": "attested · SBOM", "1.2": "unknown",
                              "0.1": "unknown"}  # fmt: skip
        assert "could not be reached" not in build.page("widget").get_text()


def test_over_tls_in_an_admonition_and_a_tab_and_from_a_hand_edited_cache(
    test_ca: CertificateAuthority, tmp_path: Path
) -> None:
    # Where users meet it: every public registry speaks TLS (a private CA here, through the
    # tls option), authors put tables in admonitions and tabs, teams commit the cache.
    server = RegistryServer(
        tmp_path / "registry",
        free_port(),
        tls=test_ca.issue("columns"),
        ca_file=test_ca.certificate,
    ).start()
    try:
        pushed = push_images(server.url, verify=server.client_options()["verify"])
        image = f"{server.host}/{REPOSITORY}"
        directive = f'<< tag_history "{image}" columns="tags,platforms,signatures,source" >>'
        body = (
            f'# W\n\n!!! note "Pinning"\n\n    {directive}\n\n'
            f'=== "A tab"\n\n    {directive}\n\n=== "Another"\n\n    Nothing.\n'
        )
        options = {
            "cache_dir": "cache",
            "tls": {server.host: {"ca_file": str(test_ca.certificate)}},
        }
        config = write_site(
            tmp_path / "site",
            {"widget.md": body},
            options,
            theme={"name": "material"},
            markdown_extensions=[
                "admonition",
                "pymdownx.superfences",
                {"pymdownx.tabbed": {"alternate_style": True}},
            ],
        )
        build = mkdocs_build(config, "--strict")
        assert build.returncode == 0, build.output
        soup = build.page("widget")
        for block in (".admonition", ".tabbed-block"):
            table = soup.select(block)[0]
            assert len(cells(table, 1)["2.0"].select(".taghistory-entry")) == 3, block
            assert words(cells(table, 2)["1.5"]) == "attested · SBOM", block
        assert [code.get_text() for code in cells(soup, 1)["1.2"].select("code")] == [
            "linux/amd64",
            pushed.single,
        ]
    finally:
        server.stop()

    # A teammate hand-edits the committed cache: a platform digest that is no digest. The
    # file is refused, with its reason, and never shown; offline, the build names each table.
    cache_file = next((tmp_path / "site" / "cache").glob("*.json"))
    document = json.loads(cache_file.read_text(encoding="utf-8"))
    facts = document["digests"][pushed.github]
    facts["platform_digests"][0][1] = "sha256:<script>"
    cache_file.write_text(json.dumps(document), encoding="utf-8")
    build = mkdocs_build(config, env={"TAGHISTORY_OFFLINE": "1"})
    assert build.returncode != 0
    assert "damaged cache file" in build.output and "platform_digests" in build.output
    # Each directive named at its line, inside the admonition and inside the tab.
    assert "docs/widget.md:5: cannot show the tag history of" in build.output
    assert "docs/widget.md:9: cannot show the tag history of" in build.output
