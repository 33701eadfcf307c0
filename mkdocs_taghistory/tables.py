"""Which rows a table shows, and what it says around them: the site's filters and format,
narrowed by the table's own options, applied to what the service found. No markup and no I/O:
every front end, and ``taghistory show``, writes the :class:`~.view.TableView` this gives.
"""

from __future__ import annotations

from mkdocs_taghistory.directive_options import TableOptions
from mkdocs_taghistory.durations import in_words
from mkdocs_taghistory.errors import DirectiveError, PatternTooSlowError
from mkdocs_taghistory.history import DigestGroup, arrange, group_by_digest
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site import PlannedDirective, Target
from mkdocs_taghistory.view import AsOf, TableView, table_view, tag_history_view


def directive_table(
    settings: Settings, planned: PlannedDirective, target: Target, result: ImageResult
) -> TableView:
    """The table ``planned`` shows for ``target``, from ``result``.

    Raises:
        DirectiveError: at the directive's line, when one of its patterns runs too long.
    """
    try:
        return table_for(settings, planned.options, target, result)
    except PatternTooSlowError as error:
        raise DirectiveError(planned.directive.line, str(error)) from None


def table_for(
    settings: Settings, options: TableOptions, target: Target, result: ImageResult
) -> TableView:
    """The table ``options`` ask for of ``target``, from ``result``.

    Raises:
        PatternTooSlowError: when a pattern's search does not end in time.
    """
    name = target.reference.name
    date_format = options.date_format or settings.date_format
    as_of = as_of_note(settings, result)
    year = result.snapshot.fetched_at.year if result.snapshot is not None else None
    if options.tag is not None:
        ledger = result.snapshot.ledger if result.snapshot is not None else {}
        return tag_history_view(
            name,
            options.tag,
            ledger.get(options.tag, ()),
            as_of=as_of,
            date_format=date_format,
            zone=settings.zone,
            year=year,
            locale=settings.locale,
        )
    rows: list[DigestGroup] = []
    if result.snapshot is not None:
        tag_filter = settings.tag_filter.narrowed(options.include, options.exclude)
        rows = arrange(
            group_by_digest(result.snapshot, tag_filter),
            sort=options.sort,
            max_age=options.max_age,
            limit=options.limit,
            now=result.snapshot.fetched_at,
        )
    empty = (
        settings.empty_message.format(title=target.section.title, image=name)
        if target.section is not None
        else None
    )
    hidden = None
    if result.snapshot is not None and result.snapshot.tags and not rows:
        hidden = (
            f"No tag changed in the last {in_words(options.max_age)}."
            if options.max_age is not None
            else "No tag matches this table's filters."
        )
    return table_view(
        name,
        rows,
        as_of=as_of,
        columns=options.columns,
        date_format=date_format,
        zone=settings.zone,
        empty=empty,
        hidden=hidden,
        year=year,
        labels=settings.labels,
        short_digests=settings.short_digests,
        section=target.section.title if target.section is not None else None,
        locale=settings.locale,
    )


def as_of_note(settings: Settings, result: ImageResult) -> AsOf | None:
    """The note under a table from an earlier fetch, as the ``as_of_note`` option has it."""
    if result.as_of is None or settings.as_of_note is False:
        return None
    wording = settings.as_of_note if isinstance(settings.as_of_note, str) else None
    return AsOf(result.as_of, offline=result.offline, wording=wording)
