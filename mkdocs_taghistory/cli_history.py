"""The ``taghistory`` command's history parts: ``show IMAGE --digest PREFIX`` (which tags
point at a digest, and which did) and ``import`` (an earlier tag page's history into the
cache's ledger). The command group and its shared helpers are :mod:`.cli`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.digest_lookup import digest_view, find_digest
from mkdocs_taghistory.errors import InvalidReferenceError
from mkdocs_taghistory.importer import ImportCounts, import_tables, pick_tables, read_page
from mkdocs_taghistory.reference import ImageReference, has_registry_host, parse_reference
from mkdocs_taghistory.render import json_rows, render_markdown
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site import Target
from mkdocs_taghistory.tables import as_of_note
from mkdocs_taghistory.timestamps import format_timestamp


def image_targets(image: str, settings: Settings, registry: str | None) -> list[Target]:
    """The tables ``image`` names, as a directive's would: one per ``registries`` section for
    a bare name (unless ``registry`` is given, as ``registry=`` is), else one.

    Raises:
        InvalidReferenceError: for an image that is not a valid reference.
    """
    sections = settings.registries if registry is None and not has_registry_host(image) else ()
    return [Target(parse_reference(image, section.registry), section) for section in sections] or [
        Target(parse_reference(image, settings.registry))
    ]


def digest_report(
    prefix: str,
    targets: Sequence[Target],
    results: Mapping[ImageReference, ImageResult],
    settings: Settings,
    *,
    as_json: bool,
) -> str:
    """What ``show --digest`` prints: the image and digest, then its tags now and before.

    Raises:
        DigestLookupError: when the prefix is malformed, unknown or ambiguous.
    """
    known = [
        (target.reference.name, result.snapshot, result)
        for target in targets
        if (result := results[target.reference]).snapshot is not None
    ]
    found = find_digest(prefix, [(image, snapshot) for image, snapshot, _ in known if snapshot])
    result = next(result for image, _, result in known if image == found.image)
    view = digest_view(
        found,
        settings.tag_filter,
        as_of=as_of_note(settings, result),
        date_format=settings.date_format,
        zone=settings.zone,
    )
    if as_json:
        document = {
            "image": found.image,
            "digest": found.digest,
            "fetched_at": format_timestamp(found.snapshot.fetched_at),
            "from_cache": result.as_of is not None,
            "tags": json_rows(view),
        }
        return json.dumps(document, indent=2)
    return f"{found.image}@{found.digest}\n\n{render_markdown(view)}"


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _path_option(*names: str, help: str, **kind: bool) -> Callable[[_Command], _Command]:
    """An option that takes a path (none by default)."""
    return click.option(*names, type=click.Path(path_type=Path, **kind), default=None, help=help)


@click.command(name="import")
@click.argument("source", metavar="FILE_OR_URL")
@click.option("--image", required=True, help="The image whose history the page shows.")
@click.option(
    "--year",
    type=click.IntRange(1970, 9999),
    default=None,
    help="The year of dates written without one [default: the page's lastmod].",
)
@click.option(
    "--section",
    default=None,
    help="Which of the page's tables: the one under this heading.",
)
@click.option("--registry", default=None, help="HOST/NAMESPACE for a bare name.")
@_path_option(
    "--cache-dir", file_okay=False, help="Cache folder [default: the site's with -f or -c]."
)
@_path_option(
    "-f",
    "--config-file",
    dir_okay=False,
    help="Take registry, sections, cache and time zone from this MkDocs site.",
)
@_path_option("-c", "--sphinx-conf", help="A Sphinx project instead: its conf.py, or its folder.")
def import_command(  # noqa: PLR0917 (click passes every option as an argument)
    source: str,
    image: str,
    year: int | None,
    section: str | None,
    registry: str | None,
    cache_dir: Path | None,
    config_file: Path | None,
    sphinx_conf: Path | None,
) -> None:
    """Add the history a published tag page shows (HTML or Markdown, a file or an address)
    to IMAGE's cached history, as earlier observations.

    Each row's tags count as seen on its digest on its date. Only what comes before all the
    cache knows of a tag is added: what a registry said stays, and importing twice changes
    nothing. A bare name with the site's `registries` takes each section's table from under
    its heading.
    """
    from mkdocs_taghistory.cli import (  # noqa: PLC0415 (cli.py imports this module)
        CommandError,
        _say,
        load_site,
        one_line_errors,
    )

    with one_line_errors():
        if config_file is not None or sphinx_conf is not None:
            site = load_site(config_file or Path("mkdocs.yml"), sphinx_conf, pages=False)
            settings = site.settings
        else:
            from mkdocs_taghistory.site_options import settings_from_options  # noqa: PLC0415

            settings = settings_from_options({}, Path.cwd())
        if registry is not None:
            settings = settings._replace(registry=registry)
        folder = cache_dir or settings.cache_dir
        if folder is None:
            raise CommandError("the taghistory cache is switched off: give --cache-dir")
        try:
            targets = image_targets(image, settings, registry)
        except InvalidReferenceError as error:
            raise CommandError(str(error)) from None
        page = read_page(source)
        picked = pick_tables(page, targets, section)
        counts = import_tables(SnapshotCache(folder), picked, page, settings.zone, year)
    for target, table in picked:
        under = f" (the table under {table.heading!r})" if table.heading else ""
        _say(f"{target.reference.name}{under}: {_counts(counts[target.reference.name])}")


def _counts(counts: ImportCounts) -> str:
    parts = [f"{counts.added} observations added", f"{counts.known} already known"]
    if counts.later:
        parts.append(f"{counts.later} left out (at or after what the cache knows of the tag)")
    if counts.unreadable:
        parts.append(f"{counts.unreadable} rows unreadable (a short digest, an odd tag, no date)")
    return ", ".join(parts)
