"""The Python-Markdown extension on its own, with no MkDocs: plain `markdown.markdown`."""

from __future__ import annotations

from pathlib import Path

import markdown
import pytest
from bs4 import BeautifulSoup

from mkdocs_taghistory import TagHistoryError, TagHistoryExtension
from tests.support.fixtures import SeededRegistry
from tests.support.site import table_rows


def test_plain_markdown_expands_the_directive_and_caches_it(
    seeded_registry: SeededRegistry, tmp_path: Path
) -> None:
    text = f'Intro.\n\n<< tag_history "{seeded_registry.widget_reference}" >>\n\nOutro.\n'
    html = markdown.markdown(
        text,
        extensions=["mkdocs_taghistory.extension"],
        extension_configs={"mkdocs_taghistory.extension": {"cache_dir": str(tmp_path)}},
    )
    soup = BeautifulSoup(html, "html.parser")
    rows = table_rows(soup)
    assert len(rows) == len(seeded_registry.widget)
    assert sum(len(tags) for tags, _, _ in rows) == 300
    assert [p.get_text() for p in soup.find_all("p", recursive=False)] == ["Intro.", "Outro."]
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_bare_name_uses_the_registry_option(seeded_registry: SeededRegistry) -> None:
    extension = TagHistoryExtension(registry=f"{seeded_registry.server.host}/acme", cache_dir="")
    html = markdown.markdown('<< tag_history "widget" >>', extensions=[extension])
    assert len(table_rows(BeautifulSoup(html, "html.parser"))) == len(seeded_registry.widget)


def test_errors_name_the_line(tmp_path: Path) -> None:
    extension = TagHistoryExtension(cache_dir=str(tmp_path), offline=True)
    with pytest.raises(TagHistoryError, match=r"<markdown>:3: unterminated quote"):
        markdown.markdown('a\n\n<< tag_history "x >>\n', extensions=[extension])
    with pytest.raises(TagHistoryError, match=r"<markdown>:1: .*cgr.dev/chainguard/x.*offline"):
        markdown.markdown('<< tag_history "x" >>\n', extensions=[extension])


def test_directive_in_a_list_item_renders_inside_the_item(
    seeded_registry: SeededRegistry,
) -> None:
    host = seeded_registry.server.host
    text = (
        f'1. Pull one of these:\n\n    << tag_history "{host}/acme/gadget" >>\n\n2. Then run it.\n'
    )
    html = markdown.markdown(text, extensions=[TagHistoryExtension(cache_dir="")])
    soup = BeautifulSoup(html, "html.parser")
    first_item = soup.select("ol > li")[0]
    assert first_item.select_one("div.taghistory table") is not None
    assert len(soup.select("ol > li")) == 2


def test_dates_are_written_in_the_configured_time_zone_and_titled_in_utc(tmp_path: Path) -> None:
    # The example cache holds times in UTC; the newest private rust row (00:20 UTC on the
    # 22nd) is still the afternoon of the 21st in Honolulu, and so its date says.
    cache = (
        Path(__file__).resolve().parents[2] / "example_site" / ".cache" / "plugin" / "taghistory"
    )
    text = '<< tag_history "cgr.dev/chainguard-private/rust" limit=1 date_format="%B %O %H:%M" >>'
    html = markdown.markdown(
        text,
        extensions=[
            TagHistoryExtension(cache_dir=str(cache), offline=True, timezone="Pacific/Honolulu")
        ],
    )
    time = BeautifulSoup(html, "html.parser").select_one("time")
    assert time is not None
    assert time.get_text() == "March 21st 14:20"
    assert time["title"] == "2024-03-22 00:20:00 UTC"
