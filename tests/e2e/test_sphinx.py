"""The Sphinx extension end to end: real `sphinx-build` runs (HTML, text, LaTeX, man), against
the real registry and offline from the cache, in reStructuredText and MyST, in parallel, with
problems located by file and line."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from mkdocs_taghistory.cli import main
from tests.support.fixtures import GADGET, PASSWORD, USER, WIDGET, SeededRegistry
from tests.support.registry_server import RegistryServer, free_port
from tests.support.seeding import PushedImage, seed_image
from tests.support.site import mkdocs_build, table_rows, write_site
from tests.support.sphinx_project import copy_example_sphinx, sphinx_build, write_project
from tests.support.tls import CertificateAuthority

# Sphinx and MyST print their own lines; a Python traceback is never among them.
TRACEBACK = "Traceback"


def expected_rows(pushed: list[PushedImage]) -> list[tuple[list[str], str, str]]:
    newest_first = sorted(pushed, key=lambda image: image.created, reverse=True)
    return [
        (sorted(image.tags), image.created.strftime("%Y-%m-%dT%H:%M:%SZ"), image.digest)
        for image in newest_first
    ]


def sorted_rows(rows: list[tuple[list[str], str, str]]) -> list[tuple[list[str], str, str]]:
    return [(sorted(tags), changed, digest) for tags, changed, digest in rows]


def test_rst_and_myst_pages_show_the_tables_of_a_real_registry(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    project = write_project(
        tmp_path / "docs",
        {
            "widget.rst": f"Widget\n======\n\n.. tag-history:: {host}/{WIDGET}\n\nThe end.\n",
            "gadget.md": f"# Gadget\n\n```{{tag-history}} {host}/{GADGET}\n:limit: 2\n```\n",
        },
        {"taghistory_cache_dir": "cache"},
    )
    build = sphinx_build(project, "-W")
    assert build.returncode == 0, build.output
    widget = build.page("widget")
    headers = [th.get_text() for th in widget.select("div.taghistory thead th")]
    assert headers == ["Tag (s)", "Last Changed", "Digest"]
    assert sorted_rows(table_rows(widget)) == expected_rows(seeded_registry.widget)
    assert "The end." in widget.get_text()
    assert (
        sorted_rows(table_rows(build.page("gadget"))) == expected_rows(seeded_registry.gadget)[:2]
    )
    # One fetch for the whole build, before any document was read.
    assert build.output.count("Tag history of 2 images") == 1
    assert len(list((project / "cache").glob("*.json"))) == 2
    # The stylesheet and the copy buttons' script, linked from the pages that have tables.
    assert (build.out_dir / "_static" / "taghistory.css").is_file()
    assert widget.select_one('link[href*="_static/taghistory.css"]') is not None
    assert widget.select_one('script[src*="_static/taghistory.js"]') is not None
    assert build.page("index").select_one('link[href*="taghistory.css"]') is None


def test_tables_are_docutils_tables_in_text_latex_and_man_pages(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    project = write_project(
        tmp_path / "docs",
        {"gadget.rst": f"Gadget\n======\n\n.. tag-history:: {host}/{GADGET}\n"},
        {
            "taghistory_cache_dir": "cache",
            "taghistory_short_digests": True,
            "man_pages": [("gadget", "gadget", "Gadget", [], 1)],
        },
    )
    pushed = seeded_registry.gadget
    text = sphinx_build(project, "-W", builder="text")
    assert text.returncode == 0, text.output
    page = text.text("gadget.txt")
    for image in pushed:
        # Where there is no tooltip to hold it, a short digest is written whole.
        assert image.digest in page
        assert all(f'"{tag}"' in page for tag in image.tags)
    latex = sphinx_build(project, "-W", builder="latex")
    assert latex.returncode == 0, latex.output
    tex = next(latex.out_dir.glob("*.tex")).read_text(encoding="utf-8")
    assert "\\begin{tabulary}" in tex or "\\begin{longtable}" in tex
    assert "\\sphinxcode{\\sphinxupquote{latest}}" in tex
    assert all(image.digest in tex for image in pushed)
    man = sphinx_build(project, "-W", builder="man")
    assert man.returncode == 0, man.output
    assert all(image.digest in man.text("gadget.1") for image in pushed)
    # An EPUB is zipped before the build ends: the stylesheet must be in the first one.
    epub = sphinx_build(project, "-W", "-D", "version=1", "-D", "copyright=x", builder="epub")
    assert epub.returncode == 0, epub.output
    with zipfile.ZipFile(next(epub.out_dir.glob("*.epub"))) as archive:
        names = archive.namelist()
        assert "_static/taghistory.css" in names
        assert image.digest in archive.read("gadget.xhtml").decode()
    # In HTML the short digest keeps its full value in the tooltip and the copy button.
    html = sphinx_build(project, "-W")
    code = html.page("gadget").select_one("div.taghistory tbody td:nth-of-type(3) code")
    assert code is not None and code.get_text().endswith("\u2026")
    assert code["title"] in {image.digest for image in pushed}


def test_sections_are_real_sections_in_the_toctree_and_rubrics_where_sections_cannot_be(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    project = write_project(
        tmp_path / "docs",
        {
            "gadget.rst": "Gadget\n======\n\n.. tag-history:: gadget\n\nAfter the tables.\n\n"
            ".. note::\n\n   .. tag-history:: gadget\n",
            "gizmo.md": "# Gizmo\n\n:::{tip}\n```{tag-history} gadget\n```\n:::\n",
        },
        {
            "taghistory_cache_dir": "cache",
            "taghistory_registries": [
                {"title": "Acme", "registry": f"{host}/acme", "description": "Our **own** images."},
                {"title": "Elsewhere", "registry": f"{host}/elsewhere"},
            ],
            "html_sidebars": {"**": ["localtoc.html"]},
            "myst_enable_extensions": ["colon_fence"],
        },
    )
    build = sphinx_build(project, "-W")
    assert build.returncode == 0, build.output
    page = build.page("gadget")
    assert [h2.get_text().rstrip("¶") for h2 in page.select("section > h2")] == [
        "Acme",
        "Elsewhere",
    ]
    description = page.select_one("section#acme > p")
    assert description is not None and description.decode_contents() == (
        "Our <strong>own</strong> images."
    )
    assert sorted_rows(table_rows(page)) == expected_rows(seeded_registry.gadget)
    elsewhere = page.select_one("section#elsewhere")
    assert elsewhere is not None
    assert "Currently, there are no versions of this image available in the Elsewhere." in (
        elsewhere.get_text()
    )
    # What follows the directive follows its last heading, as after any heading: docutils'
    # sections hold no text after their subsections.
    assert "After the tables." in elsewhere.get_text()
    # In the page's own table of contents and in the toctree of the index.
    local_toc = [link.get_text() for link in page.select(".sphinxsidebar a")]
    assert "Acme" in local_toc and "Elsewhere" in local_toc
    index_toc = [link.get_text() for link in build.page("index").select(".toctree-wrapper a")]
    assert "Acme" in index_toc
    # In an admonition, where docutils allows no section: headings that are not in the TOC.
    rubrics = [rubric.get_text() for rubric in page.select("div.admonition p.rubric")]
    assert rubrics == ["Acme", "Elsewhere"]
    assert len(page.select("div.admonition div.taghistory")) == 2
    gizmo = build.page("gizmo")
    assert [rubric.get_text() for rubric in gizmo.select("div.tip p.rubric")] == [
        "Acme",
        "Elsewhere",
    ]


def test_problems_are_errors_at_file_and_line_and_fail_with_warnings_as_errors(
    tmp_path: Path,
) -> None:
    dead = f"127.0.0.1:{free_port()}/acme/gone"
    project = write_project(
        tmp_path / "docs",
        {
            "bad.rst": "Bad\n===\n\nText.\n\n.. tag-history:: rust\n   :limt: 3\n",
            "bad_md.md": "# Bad\n\ntext\n\n```{tag-history} rust\n:sort: sideways\n```\n",
            "gone.rst": f"Gone\n====\n\n.. tag-history:: {dead}\n",
            "bare.rst": "Bare\n====\n\n.. tag-history::\n",
        },
        {"taghistory_cache_dir": "cache", "taghistory_retries": 0},
    )
    build = sphinx_build(project)
    # Without -W, Sphinx goes on, as it does for every error it reports.
    assert build.returncode == 0, build.output
    assert "bad.rst:6: ERROR: unknown option 'limt'; did you mean 'limit'?" in build.output
    assert "bad_md.md:5: ERROR: sort must be one of newest, oldest, tag, not 'sideways'" in (
        build.output
    )
    assert re.search(
        rf"gone\.rst:4: ERROR: cannot show the tag history of {re.escape(dead)}: cannot reach",
        build.output,
    )
    assert 'bare.rst:4: ERROR: Error in "tag-history" directive' in build.output
    assert TRACEBACK not in build.output
    assert build.page("bad").select("div.taghistory") == []
    strict = sphinx_build(project, "-W", "--keep-going", out_dir=tmp_path / "strict")
    assert strict.returncode != 0
    assert TRACEBACK not in strict.output


def test_a_bad_configuration_value_is_named_without_a_traceback(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "docs", {"page.rst": "Page\n====\n"}, {"taghistory_ttl": "soon"}
    )
    build = sphinx_build(project, "-W")
    assert build.returncode != 0
    assert re.search(
        r"ERROR: taghistory: configuration value 'taghistory_ttl': 'soon' is not a duration",
        build.output,
    )
    assert TRACEBACK not in build.output
    refresh = CliRunner().invoke(main, ["refresh", "-c", str(project)])
    assert refresh.exit_code == 1
    assert "configuration value 'taghistory_ttl'" in refresh.output


def test_parallel_build_fetches_once_before_reading_and_rereads_only_outdated_tables(
    own_registry: RegistryServer, tmp_path: Path
) -> None:
    names = [f"acme/image{number}" for number in range(3)]
    for name in names:
        seed_image(own_registry.url, name, digests=2, tags_per_digest=2)
    host = own_registry.host
    pages = {
        f"page{number}.rst": f"Page\n====\n\n.. tag-history:: {host}/{names[number % 3]}\n"
        for number in range(6)
    }
    pages["plain.rst"] = "Plain\n=====\n\nNo table here.\n"
    project = write_project(tmp_path / "docs", pages, {"taghistory_cache_dir": "cache"})
    first = sphinx_build(project, "-W", "-j", "2")
    assert first.returncode == 0, first.output
    # Every image fetched in the main process before reading: no reader fetched again.
    assert first.output.count("Tag history of ") == 1
    assert "Tag history of 3 images" in first.output
    for number in range(6):
        assert len(table_rows(first.page(f"page{number}"))) == 2
    # Fresh tables: nothing is read again.
    second = sphinx_build(project, "-W", "-j", "2")
    assert second.returncode == 0, second.output
    assert "0 added, 0 changed, 0 removed" in second.output
    assert "Tag history of " not in second.output
    assert "configuration has changed" not in second.output  # so no page is written again
    assert "targets for 0 source files that are out of date" in second.output
    # A refresh writes a later fetch into the cache: the pages that show it are read again
    # (the parallel readers' records were merged), the page without a table is not.
    refreshed = CliRunner().invoke(main, ["refresh", "-c", str(project / "conf.py")])
    assert refreshed.exit_code == 0, refreshed.output
    third = sphinx_build(project, "-W", "-j", "2")
    assert third.returncode == 0, third.output
    assert "0 added, 6 changed, 0 removed" in third.output


def test_a_directive_the_scan_cannot_see_is_fetched_when_it_is_read(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    project = write_project(
        tmp_path / "docs",
        {
            "page.rst": "Page\n====\n\n.. include:: snippet.txt\n",
            "snippet.txt": f".. tag-history:: {host}/{GADGET}\n",
        },
        {"taghistory_cache_dir": "cache"},
    )
    build = sphinx_build(project, "-W")
    assert build.returncode == 0, build.output
    assert sorted_rows(table_rows(build.page("page"))) == expected_rows(seeded_registry.gadget)


def test_sphinx_and_mkdocs_read_each_others_cache(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    image = f"{seeded_registry.server.host}/{GADGET}"
    expected = expected_rows(seeded_registry.gadget)
    # MkDocs fetches; Sphinx builds offline from what it wrote.
    site = write_site(
        tmp_path / "site", {"index.md": f'# G\n\n<< tag_history "{image}" >>\n'}, {"cache_dir": "c"}
    )
    assert mkdocs_build(site, "--strict").returncode == 0
    project = write_project(
        tmp_path / "sphinx",
        {"gadget.md": f"# G\n\n```{{tag-history}} {image}\n```\n"},
        {"taghistory_cache_dir": str(tmp_path / "site" / "c"), "taghistory_offline": True},
    )
    offline = sphinx_build(project, "-W")
    assert offline.returncode == 0, offline.output
    assert sorted_rows(table_rows(offline.page("gadget"))) == expected
    # Sphinx fetches; MkDocs builds offline from what it wrote.
    fetched = write_project(
        tmp_path / "sphinx2", {"gadget.rst": f"G\n=\n\n.. tag-history:: {image}\n"}, {}
    )
    assert sphinx_build(fetched, "-W").returncode == 0
    site2 = write_site(
        tmp_path / "site2",
        {"index.md": f'# G\n\n<< tag_history "{image}" >>\n'},
        {"cache_dir": str(fetched / ".cache" / "taghistory"), "offline": True},
    )
    built = mkdocs_build(site2, "--strict")
    assert built.returncode == 0, built.output
    assert sorted_rows(table_rows(built.page(""))) == expected


def test_credentials_reach_neither_the_doctrees_nor_the_output_nor_the_cache(
    private_registry: SeededRegistry, tmp_path: Path
) -> None:
    image = private_registry.widget_reference
    project = write_project(
        tmp_path / "docs",
        {"widget.rst": f"Widget\n======\n\n.. tag-history:: {image}\n"},
        {
            "taghistory_cache_dir": "cache",
            "taghistory_auth": {
                private_registry.server.host: {"username": USER, "password": PASSWORD}
            },
        },
    )
    build = sphinx_build(project, "-W")
    assert build.returncode == 0, build.output
    assert len(table_rows(build.page("widget"))) == 4
    assert PASSWORD not in build.output
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path.name != "conf.py"]
    # The environment pickle (.doctrees), the HTML, the search index and the cache.
    assert any(path.name == "environment.pickle" for path in written)
    for path in written:
        assert PASSWORD.encode() not in path.read_bytes(), path
    # A value of the wrong shape is an error, and its password is not kept either.
    wrong = write_project(
        tmp_path / "wrong",
        {"widget.rst": f"Widget\n======\n\n.. tag-history:: {image}\n"},
        {"taghistory_auth": [{"host": private_registry.server.host, "password": PASSWORD}]},
    )
    refused = sphinx_build(wrong)
    assert "configuration value 'taghistory_auth'" in refused.output
    for path in (tmp_path / "wrong").rglob("*"):
        if path.is_file() and path.name != "conf.py":
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_a_tls_registry_with_the_project_s_ca(
    tls_registry: SeededRegistry, test_ca: CertificateAuthority, tmp_path: Path
) -> None:
    host = tls_registry.server.host
    project = write_project(
        tmp_path / "docs",
        {"widget.md": f"# Widget\n\n```{{tag-history}} {host}/{WIDGET}\n```\n"},
        {
            "taghistory_cache_dir": "cache",
            "taghistory_tls": {host: {"ca_file": str(test_ca.certificate)}},
        },
    )
    build = sphinx_build(project, "-W")
    assert build.returncode == 0, build.output
    assert sorted_rows(table_rows(build.page("widget"))) == expected_rows(tls_registry.widget)
    # Without the CA: one line naming the host and why, not a table from nowhere.
    untrusted = write_project(
        tmp_path / "untrusted",
        {"widget.md": f"# Widget\n\n```{{tag-history}} {host}/{WIDGET}\n```\n"},
        {"taghistory_cache_dir": "cache", "taghistory_tls": {host: {}}},
    )
    failed = sphinx_build(untrusted)
    assert "widget.md:3: ERROR: cannot show the tag history" in failed.output
    assert "does not trust" in failed.output and TRACEBACK not in failed.output


def test_refresh_takes_a_sphinx_project_for_a_build_without_network(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    host = seeded_registry.server.host
    project = write_project(
        tmp_path / "docs",
        {
            # Read as Sphinx reads them: in an included file, in MyST's embedded reST...
            "widget.rst": "Widget\n======\n\n.. include:: snippet.txt\n",
            "snippet.txt": f".. tag-history:: {host}/{WIDGET}\n",
            "gadget.md": f"# Gadget\n\n```{{eval-rst}}\n.. tag-history:: {host}/{GADGET}\n```\n"
            # ... and not in code, which shows the syntax.
            "\n```rst\n.. tag-history:: 127.0.0.1:9/never/fetched\n```\n",
        },
        {},
    )
    result = CliRunner().invoke(main, ["refresh", "-c", str(project)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Refresh of 2 images into")
    assert str(project / ".cache" / "taghistory") in result.output
    listed = CliRunner().invoke(main, ["cache", "-c", str(project / "conf.py")])
    assert listed.exit_code == 0, listed.output
    assert f"{host}/{GADGET}" in listed.output and "no page uses it" not in listed.output
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare is needed for the no-network build test"
    build = sphinx_build(project, "-W", env={"TAGHISTORY_OFFLINE": "1"}, prefix=(unshare, "-rn"))
    assert build.returncode == 0, build.output
    assert sorted_rows(table_rows(build.page("gadget"))) == expected_rows(seeded_registry.gadget)
    assert sorted_rows(table_rows(build.page("widget"))) == expected_rows(seeded_registry.widget)


def test_refresh_of_a_project_it_cannot_use_says_why(tmp_path: Path) -> None:
    nowhere = CliRunner().invoke(main, ["refresh", "-c", str(tmp_path / "nowhere")])
    assert nowhere.exit_code == 1
    assert f"Error: {tmp_path / 'nowhere'}: no conf.py there" in nowhere.output
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "conf.py").write_text("extensions = []\n")
    (plain / "index.rst").write_text("Home\n====\n")
    unused = CliRunner().invoke(main, ["cache", "-c", str(plain)])
    assert unused.exit_code == 1
    assert "does not use the extension: add 'mkdocs_taghistory.sphinx'" in unused.output
    both = CliRunner().invoke(main, ["refresh", "-c", str(plain), "-f", "mkdocs.yml"])
    assert both.exit_code == 2 and "not both" in both.output
    damaged = write_project(
        tmp_path / "damaged", {"page.rst": "P\n=\n\n.. tag-history:: x\n   :limt: 2\n"}, {}
    )
    said = CliRunner().invoke(main, ["refresh", "-c", str(damaged)])
    assert said.exit_code == 1
    assert "page.rst:4: ERROR: unknown option 'limt'; did you mean 'limit'?" in said.output
    assert "Error: 1 tag-history directive cannot be read" in said.output
    assert TRACEBACK not in said.output


@pytest.mark.parametrize("network", ["offline", "none at all"])
def test_example_sphinx_reproduces_the_seed_page_from_its_committed_cache(
    tmp_path: Path, network: str
) -> None:
    from tests.support.seed import assert_reproduces_the_seed  # noqa: PLC0415

    if network == "offline":
        build = sphinx_build(copy_example_sphinx(tmp_path), "-W")
        note = "Tags as of March 22nd, 2024."
    else:
        unshare = shutil.which("unshare")
        assert unshare is not None, "util-linux's unshare is needed for the no-network build"
        project = copy_example_sphinx(tmp_path, offline=False, retries=0)
        build = sphinx_build(project, "-W", prefix=(unshare, "-rn"))
        note = "The registry could not be reached; tags as of March 22nd, 2024."
    assert build.returncode == 0, build.output
    soup = build.page("rust")
    assert_reproduces_the_seed(soup)
    notes = [element.get_text() for element in soup.select(".taghistory-as-of")]
    assert notes and all(text == note for text in notes)
    # The index documents the directive in code blocks: left as written.
    assert "tag-history:: rust" in build.page("index").get_text()


def test_the_behaviour_table_offline_and_after_a_failed_fetch(
    own_registry: RegistryServer, tmp_path: Path
) -> None:
    pushed = seed_image(own_registry.url, WIDGET, digests=3, tags_per_digest=2)
    image = f"{own_registry.host}/{WIDGET}"
    project = write_project(
        tmp_path / "docs",
        {"widget.md": f"# Widget\n\n```{{tag-history}} {image}\n```\n"},
        # ttl 0: every build asks the registry, so the later ones meet it stopped.
        {"taghistory_cache_dir": "cache", "taghistory_ttl": 0, "taghistory_retries": 0},
    )
    online = sphinx_build(project, "-W", "-E")
    assert online.returncode == 0, online.output
    assert sorted_rows(table_rows(online.page("widget"))) == expected_rows(pushed)
    assert online.page("widget").select(".taghistory-as-of") == []
    own_registry.stop()
    # Stale and the registry fails: the cached table with its note, an info line...
    failed = sphinx_build(project, "-W", "-E")
    assert failed.returncode == 0, failed.output
    assert sorted_rows(table_rows(failed.page("widget"))) == expected_rows(pushed)
    note = failed.page("widget").select_one(".taghistory-as-of")
    assert note is not None and "could not be reached; tags as of" in note.get_text()
    # ... a warning with taghistory_strict, so that -W fails.
    strict = sphinx_build(project, "-W", "-E", "-D", "taghistory_strict=1")
    assert strict.returncode != 0
    assert f"Tag history from the cache after a failed fetch, for 1 image: {image}" in (
        strict.output
    )
    # Offline, at any age: the cached table, and a note that claims no failure.
    offline = sphinx_build(project, "-W", "-E", env={"TAGHISTORY_OFFLINE": "1"})
    assert offline.returncode == 0, offline.output
    note = offline.page("widget").select_one(".taghistory-as-of")
    assert note is not None and note.get_text().startswith("Tags as of")
    # Offline with no cache: an error at the directive, saying how to fill the cache.
    shutil.move(project / "cache", tmp_path / "saved-cache")
    empty = sphinx_build(project, "-E", env={"TAGHISTORY_OFFLINE": "1"})
    assert "widget.md:3: ERROR: cannot show the tag history" in empty.output
    assert "taghistory refresh" in empty.output and TRACEBACK not in empty.output
    assert empty.page("widget").select("div.taghistory") == []
    # Once the cache is there, the next (incremental) build reads that page again.
    shutil.move(tmp_path / "saved-cache", project / "cache")
    filled = sphinx_build(project, "-W", env={"TAGHISTORY_OFFLINE": "1"})
    assert filled.returncode == 0, filled.output
    assert "0 added, 1 changed, 0 removed" in filled.output
    assert sorted_rows(table_rows(filled.page("widget"))) == expected_rows(pushed)


def test_a_switched_off_extension_leaves_placeholders_and_asks_nothing(tmp_path: Path) -> None:
    # No cache and an address nothing listens on: any fetch would fail.
    image = f"127.0.0.1:{free_port()}/acme/widget"
    project = write_project(
        tmp_path / "docs",
        {"widget.rst": f"Widget\n======\n\n.. tag-history:: {image}\n"},
        {"taghistory_enabled": False},
    )
    build = sphinx_build(project, "-W")
    assert build.returncode == 0, build.output
    placeholder = build.page("widget").select_one("p.taghistory-disabled")
    assert placeholder is not None
    assert placeholder.get_text() == (
        f"Tag history of {image}: not built (taghistory is switched off for this build)."
    )
    assert "Tag history of " not in build.output
    assert not (project / ".cache").exists()
