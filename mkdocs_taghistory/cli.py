"""The ``taghistory`` command: warm a site's cache, list it, or show one image's table.

``taghistory refresh`` is the step a CI job runs with network before an offline build.
Errors are one line on standard error and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from mkdocs_taghistory import __version__
from mkdocs_taghistory.cache import (
    MAX_FILE_BYTES,
    CacheFormatError,
    snapshot_from_json,
)
from mkdocs_taghistory.cli_history import digest_report, image_targets, import_command
from mkdocs_taghistory.directive_options import OptionError, TableOptions, parse_columns
from mkdocs_taghistory.errors import InvalidReferenceError, TagHistoryError, printable
from mkdocs_taghistory.files import read_regular_file
from mkdocs_taghistory.filters import TagDemand
from mkdocs_taghistory.frontend import LoadedSite, core_logs_to, site_reader
from mkdocs_taghistory.reference import (
    has_registry_host,
    parse_registry,
)
from mkdocs_taghistory.render import json_rows, render_markdown
from mkdocs_taghistory.reports import CachedFile, cache_listing, refresh_report
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.settings import OFFLINE_ENVIRONMENT_VARIABLE
from mkdocs_taghistory.site import Target
from mkdocs_taghistory.site_options import DEFAULT_CACHE_DIR, settings_from_options
from mkdocs_taghistory.tables import table_for
from mkdocs_taghistory.timestamps import format_timestamp, utc_now
from mkdocs_taghistory.view import COLUMNS, DEFAULT_COLUMNS, TableView, facts_needed

CONFIG_OPTION = click.option(
    "-f",
    "--config-file",
    default="mkdocs.yml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The site's MkDocs configuration.",
)
SPHINX_OPTION = click.option(
    "-c",
    "--sphinx-conf",
    default=None,
    type=click.Path(path_type=Path),
    help="A Sphinx project instead: its conf.py, or the source folder that holds it.",
)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn this package's errors, and the file errors a site can give, into one-line exits;
    meanwhile the core's warnings go to standard error, escaped as in every front end."""
    try:
        with core_logs_to(_warn):
            yield
    except (TagHistoryError, OSError, UnicodeDecodeError) as error:
        raise CommandError(str(error)) from None


def _warn(record: logging.LogRecord) -> None:
    if record.levelno >= logging.WARNING:
        _say(record.getMessage(), err=True)


def load_site(
    config_file: Path, sphinx_conf: Path | None = None, *, pages: bool = True
) -> LoadedSite:
    """Read a site through its front end: a Sphinx project's when ``sphinx_conf`` is given,
    else the MkDocs site of ``config_file``.

    Raises:
        CommandError: when the site cannot be read, does not use the plugin, or a
            page holds a damaged directive.
    """
    front_end, path = (
        ("sphinx", sphinx_conf) if sphinx_conf is not None else ("mkdocs", config_file)
    )
    if sphinx_conf is not None:
        context = click.get_current_context(silent=True)
        if context is not None and context.get_parameter_source("config_file") not in {
            None,
            click.core.ParameterSource.DEFAULT,
        }:
            raise click.UsageError("give -f (a MkDocs site) or -c (a Sphinx project), not both")
    with one_line_errors():
        return site_reader(front_end)(path, pages)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
# The version given, so that click need not look the installed metadata up.
@click.version_option(__version__, prog_name="taghistory")
def main() -> None:
    """Container image tag tables: fill a site's cache, inspect it, show one image."""


@main.command()
@CONFIG_OPTION
@SPHINX_OPTION
def refresh(config_file: Path, sphinx_conf: Path | None) -> None:
    """Fetch every image the site's directives name into its cache.

    Run this in a CI step with network; a later build with TAGHISTORY_OFFLINE=1 (or
    `offline: true`, or `taghistory_offline = True` in a Sphinx project) then needs none.
    """
    site = load_site(config_file, sphinx_conf)
    for near_miss in site.plan.near_misses:
        _say(f"Warning: {near_miss}", err=True)
    if site.settings.cache_dir is None:
        raise CommandError(f"{site.source}: the taghistory cache is switched off")
    if not site.plan.references:
        click.echo("No tag_history directives in this site; nothing to fetch.")
        return
    # A refresh always asks the registry: it is the step that makes the cache fresh.
    settings = site.settings._replace(ttl=timedelta(0), offline=False)
    with _progress_bar() as progress, one_line_errors():
        service = TagHistoryService(settings, progress=progress)
        results = service.results_for(site.plan.references, site.plan.demand(settings))
    # The outcomes of a build's summary line; the exit code names what made it non-zero.
    report = refresh_report(results, site.plan.optional, settings.cache_dir, service.last_summary)
    _say(report.summary)
    if service.cache_write_error:
        raise CommandError(service.cache_write_error)
    for failure in report.failures:
        _say(failure, err=True)
    if report.error is not None:
        raise CommandError(report.error)


@contextmanager
def _progress_bar() -> Iterator[Any]:
    """A progress callback drawing a bar per fetch stage on a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    state: dict[str, Any] = {"stage": None, "bar": None, "done": 0}

    def progress(stage: str, done: int, total: int) -> None:
        if state["stage"] != stage:
            if state["bar"] is not None:
                state["bar"].__exit__(None, None, None)
            state["bar"] = click.progressbar(length=total, label=f"{stage:<12}", file=sys.stderr)
            state["bar"].__enter__()
            state["stage"], state["done"] = stage, 0
        state["bar"].update(done - state["done"])
        state["done"] = done

    try:
        yield progress
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


@main.command()
@click.argument("image")
@click.option(
    "--registry",
    default=None,
    help="HOST/NAMESPACE for a bare name [default: cgr.dev/chainguard, or the site's with -f].",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Cache folder [default: {DEFAULT_CACHE_DIR}, or the site's with -f].",
)
@click.option(
    "-f",
    "--config-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Take registry, cache and filters from this site.",
)
@click.option("--offline", is_flag=True, help="Only the cache; never ask the registry.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N rows.")
@click.option("--json", "as_json", is_flag=True, help="JSON rows instead of a Markdown table.")
@click.option("--markdown", "as_markdown", is_flag=True, help="A Markdown table (the default).")
@click.option(
    "--digest", default=None, metavar="PREFIX", help="The tags on this digest, now and before."
)
@click.option(
    "--columns",
    default=None,
    metavar="NAMES",
    help=f"The columns, as columns= takes them: {', '.join(COLUMNS)}.",
)
def show(  # noqa: PLR0912, PLR0917 (click passes every option; one branch a mode)
    image: str,
    registry: str | None,
    cache_dir: Path | None,
    config_file: Path | None,
    offline: bool,
    limit: int | None,
    as_json: bool,
    as_markdown: bool,
    digest: str | None,
    columns: str | None,
) -> None:
    """Print the tag table of IMAGE, from its registry or the cache, without a site."""
    if as_json and as_markdown:
        raise click.UsageError("--json and --markdown exclude each other")
    try:
        shown_columns = parse_columns(columns) if columns is not None else DEFAULT_COLUMNS
    except OptionError as error:
        raise click.BadParameter(str(error), param_hint="--columns") from None
    with one_line_errors():
        if config_file is not None:
            settings = load_site(config_file, pages=False).settings
        else:
            settings = settings_from_options({}, Path.cwd())
        overrides: dict[str, Any] = {"offline": offline or settings.offline}
        if registry is not None:
            parse_registry(registry)  # an invalid one is a one-line error
            overrides["registry"] = registry
        if cache_dir is not None:
            overrides["cache_dir"] = cache_dir
        settings = settings._replace(**overrides)
        # A bare name resolves as a directive's does: against each `registries` section when
        # the site has them (and --registry, like registry=, is not given), else `registry`.
        sections = settings.registries if registry is None and not has_registry_host(image) else ()
        try:
            targets = image_targets(image, settings, registry)
        except InvalidReferenceError as error:
            raise CommandError(str(error)) from None
        logging.getLogger("mkdocs_taghistory").setLevel(logging.WARNING)
        # Only what the table shows: the site's filters.
        wanted = facts_needed(shown_columns)
        demand = {
            target.reference: TagDemand((settings.tag_filter,), facts=wanted) for target in targets
        }
        service = TagHistoryService(settings, offline_without_cache=_SHOW_OFFLINE_WITHOUT_CACHE)
        results = service.results_for(list(demand), demand)
    for target in targets:
        result = results[target.reference]
        if result.snapshot is None and not (target.section is not None and result.not_found):
            raise CommandError(f"{target.reference.name}: {result.problem}")
    if digest is not None:
        with one_line_errors():
            _say(digest_report(digest, targets, results, settings, as_json=as_json))
        return
    options = TableOptions(limit=limit, columns=shown_columns)
    # The same tables as a page's: the site's filters, dates, labels and short digests.
    shown = [(target, results[target.reference]) for target in targets]
    views = [table_for(settings, options, target, result) for target, result in shown]
    if as_json:
        documents = [
            _json_table(target, result, view)
            for (target, result), view in zip(shown, views, strict=True)
        ]
        click.echo(json.dumps(documents if sections else documents[0], indent=2))
        return
    for (target, result), view in zip(shown, views, strict=True):
        if target.section is not None:
            _say(f"## {target.section.title}\n")
        _say(render_markdown(view) + ("\n" if target.section is not None else ""))
        if result.as_of is not None:
            note = f"(as of {format_timestamp(result.as_of)}, from the cache: {result.problem})"
            _say(f"\n{note}", err=True)


_SHOW_OFFLINE_WITHOUT_CACHE = (
    "'taghistory show' is offline and there is {no_copy}; run it once with network "
    f"(without --offline, {OFFLINE_ENVIRONMENT_VARIABLE} or the site's offline option) "
    "to fill the cache"
)


def _json_table(target: Target, result: ImageResult, view: TableView) -> dict[str, Any]:
    """One table of ``taghistory show --json``."""
    document: dict[str, Any] = {"section": target.section.title} if target.section else {}
    document.update(
        {
            "image": target.reference.name,
            "fetched_at": format_timestamp(result.snapshot.fetched_at) if result.snapshot else None,
            "from_cache": result.as_of is not None,
            "rows": json_rows(view),
        }
    )
    return document


main.add_command(import_command)


@main.command(name="cache")
@CONFIG_OPTION
@SPHINX_OPTION
def cache_command(config_file: Path, sphinx_conf: Path | None) -> None:
    """List the site's cached images: age, tag count, fresh or stale."""
    site = load_site(config_file, sphinx_conf)
    settings = site.settings
    if settings.cache_dir is None:
        raise CommandError(f"{site.source}: the taghistory cache is switched off")
    files = sorted(settings.cache_dir.glob("*.json")) if settings.cache_dir.is_dir() else []
    if not files:
        click.echo(f"No cached images in {settings.cache_dir}.")
        return
    read = []
    for path in files:
        try:
            read.append(
                CachedFile(path.name, snapshot_from_json(read_regular_file(path, MAX_FILE_BYTES)))
            )
        except (OSError, UnicodeDecodeError, CacheFormatError) as error:
            read.append(CachedFile(path.name, None, str(error)))
    used = {image.name for image in site.plan.references}
    for line in cache_listing(read, settings, utc_now(), used):
        _say(line)


class CommandError(click.ClickException):
    """A failure of a command: one line, escaped for the terminal, and exit status 1."""

    def format_message(self) -> str:
        """The message, with control characters escaped."""
        return printable(self.message)


def _say(text: str, *, err: bool = False) -> None:
    """Echo text that holds what registries, caches or pages said, escaped for a terminal."""
    click.echo(printable(text), err=err)
