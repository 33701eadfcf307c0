"""One scan of a site's pages into a plan, for every front end.

The MkDocs plugin, the ``taghistory refresh`` command and the Sphinx extension all
need the same three things of a site: where its directives stand (``PAGE:LINE``), which images
they name (each once, fetched together), and whether a fetched result can be shown where it is
asked for. They get them here. No I/O: front ends read the pages and hand over their text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from mkdocs_taghistory.directive import Directive, PageScan, scan_markdown
from mkdocs_taghistory.directive_options import OptionError, TableOptions, parse_options
from mkdocs_taghistory.errors import DirectiveError, InvalidReferenceError
from mkdocs_taghistory.filters import TagDemand
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.reference import ImageReference, has_registry_host, parse_reference
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.settings import RegistrySection, Settings
from mkdocs_taghistory.suggest import did_you_mean
from mkdocs_taghistory.view import facts_needed


def page_label(path: Path, site_dir: Path) -> str:
    """A page's path as a user finds it: relative to the site's folder where possible."""
    try:
        return os.path.relpath(path, site_dir)
    except ValueError:  # another drive, on Windows
        return str(path)


class Target(Record):
    """One table a directive shows: an image, and the section it stands in, if any."""

    reference: ImageReference
    section: RegistrySection | None = None


class PlannedDirective(Record):
    """A directive with its options checked and its image resolved.

    Attributes:
        directive: the directive as written.
        options: its checked options.
        targets: one table, or one per registry section.
    """

    directive: Directive
    options: TableOptions
    targets: tuple[Target, ...]


def read_directives(
    text: str, default_registry: str, sections: Sequence[RegistrySection] = ()
) -> list[PlannedDirective]:
    """Find every directive in Markdown ``text``, check its options and resolve its image.

    Raises:
        DirectiveError: naming every directive that is malformed, has an unknown option or a
            bad value, or names an invalid image, each at its line.
    """
    planned, problems = _plan_page(scan_markdown(text), default_registry, sections)
    if problems:
        raise DirectiveError.joined(problems)
    return planned


def _plan_page(
    scan: PageScan, default_registry: str, sections: Sequence[RegistrySection]
) -> tuple[list[PlannedDirective], list[DirectiveError]]:
    """A page's directives planned, and every problem of its directives, by line."""
    planned = []
    problems = list(scan.problems)
    for directive in scan.directives:
        try:
            planned.append(plan_directive(directive, default_registry, sections))
        except DirectiveError as error:
            problems += error.each
    return planned, sorted(problems, key=lambda error: error.line)


def plan_directive(
    directive: Directive, default_registry: str, sections: Sequence[RegistrySection] = ()
) -> PlannedDirective:
    """Check a directive's options and resolve its image, whatever markup it was written in.

    A bare image name resolves against the directive's ``registry=`` option, else, when
    ``sections`` are given, against each section's registry (one table each), else against
    ``default_registry``.

    Raises:
        DirectiveError: at the directive's line, with every unknown option, bad value and
            what is wrong with its image, each a problem of its own.
    """
    reasons: list[str] = []
    try:
        options = parse_options(directive.options)
    except OptionError as error:
        reasons += error.reasons
        options = TableOptions()
    if options.registry is not None and has_registry_host(directive.image):
        reasons.append(
            f"registry={options.registry!r} is for a bare image name, but "
            f"{directive.image!r} names its registry already"
        )
    try:
        if sections and options.registry is None and not has_registry_host(directive.image):
            targets = tuple(
                Target(parse_reference(directive.image, section.registry), section)
                for section in sections
            )
        else:
            registry = options.registry or default_registry
            targets = (Target(parse_reference(directive.image, registry)),)
    except InvalidReferenceError as error:
        reasons.append(str(error))
    if reasons:
        raise DirectiveError.joined([DirectiveError(directive.line, reason) for reason in reasons])
    return PlannedDirective(directive, options, targets)


class PageDirective(Record):
    """A directive and the page it stands on."""

    page: str
    planned: PlannedDirective


class SitePlan(Record):
    """Every directive of a site, where it stands, and the images to fetch.

    Attributes:
        directives: the directives, page by page, in reading order.
        near_misses: lines that were most likely meant as directives but are none, located:
            warnings (which fail a strict build).
        elsewhere: the images, as written, of the site's directives this plan does not hold
            (a Sphinx document's directive is planned alone), for a did-you-mean.
    """

    directives: tuple[PageDirective, ...] = ()
    near_misses: tuple[DirectiveError, ...] = ()
    elsewhere: tuple[str, ...] = ()

    @property
    def references(self) -> tuple[ImageReference, ...]:
        """Every image a directive names, once each, in the order first named."""
        return tuple(
            dict.fromkeys(
                target.reference
                for page_directive in self.directives
                for target in page_directive.planned.targets
            )
        )

    @property
    def optional(self) -> frozenset[ImageReference]:
        """Images named only as a registry section, where "no such image" is an answer."""
        required = {
            target.reference
            for page_directive in self.directives
            for target in page_directive.planned.targets
            if target.section is None
        }
        return frozenset(self.references) - required

    def demand(self, settings: Settings) -> dict[ImageReference, TagDemand]:
        """Per image, the tags its tables show: the site's filter narrowed by each directive's
        patterns, and the tags whose history a directive shows. A fetch reads no other."""
        found: dict[ImageReference, TagDemand] = {}
        for page_directive in self.directives:
            options = page_directive.planned.options
            wanted = (
                TagDemand(tags=frozenset({options.tag}))
                if options.tag is not None
                else TagDemand(
                    (settings.tag_filter.narrowed(options.include, options.exclude),),
                    facts=facts_needed(options.columns),
                )
            )
            for target in page_directive.planned.targets:
                known = found.get(target.reference)
                found[target.reference] = wanted if known is None else known.joined(wanted)
        return found

    def fetch(self, service: TagHistoryService, *, check: bool = True) -> SiteTables:
        """What every directive's tables can show: each image fetched (or read from the
        cache) once, in one pass, with the tags the tables show; then checked, unless not
        ``check``; and the directives that show what their author likely did not mean.

        Raises:
            DirectiveError: for a directive whose table cannot be shown, located on its page.
        """
        results = service.results_for(self.references, self.demand(service.settings))
        if not check:
            return SiteTables(results)
        self.check(results)
        return SiteTables(results, tuple(self.doubts(results)))

    def check(self, results: Mapping[ImageReference, ImageResult]) -> None:
        """Raise if a directive's table cannot be shown, naming every one that cannot.

        Raises:
            DirectiveError: each located on its page, naming the image and what went wrong.
        """
        problems = []
        for page_directive in self.directives:
            for target in page_directive.planned.targets:
                result = results[target.reference]
                problem = target_problem(target, result)
                if problem is not None:
                    if result.not_found:
                        problem += self._nearest_shown(page_directive, results)
                    problems.append(
                        DirectiveError(
                            page_directive.planned.directive.line,
                            f"cannot show the tag history of {target.reference.name}: {problem}",
                            page_directive.page,
                        )
                    )
        if problems:
            raise DirectiveError.joined(problems)

    def _nearest_shown(
        self, page_directive: PageDirective, results: Mapping[ImageReference, ImageResult]
    ) -> str:
        """``"; did you mean 'NAME'?"`` for the image, as written by another directive of the
        site whose table has tags, nearest to this directive's; or ``""``."""
        written = page_directive.planned.directive.image
        shown = {
            other.planned.directive.image
            for other in self.directives
            if any(results[target.reference].snapshot for target in other.planned.targets)
        }
        return did_you_mean(written, (shown | set(self.elsewhere)) - {written})

    def doubts(self, results: Mapping[ImageReference, ImageResult]) -> list[DirectiveError]:
        """Directives that show what their author most likely did not mean, located.

        Warnings, not errors (a page can be right and still show them), but warnings fail
        ``mkdocs build --strict``: an image none of the registry sections has (a typo, as
        ``"widgit"``, would show "no versions" in every section), a tag's history for a tag
        never seen.
        """
        found = []
        for page_directive in self.directives:
            planned, line = page_directive.planned, page_directive.planned.directive.line
            targets = planned.targets
            sectioned = all(target.section is not None for target in targets)
            if sectioned and all(results[target.reference].not_found for target in targets):
                names = ", ".join(target.reference.name for target in targets)
                hint = self._nearest_shown(page_directive, results) or "; is the name right?"
                found.append(
                    DirectiveError(
                        line,
                        f"none of the registries sections has {planned.directive.image!r} "
                        f"({names}){hint}",
                        page_directive.page,
                    )
                )
            tag = planned.options.tag
            for target in targets:
                snapshot = results[target.reference].snapshot
                if tag is not None and snapshot is not None and tag not in snapshot.ledger:
                    seen = did_you_mean(tag, snapshot.ledger, count=3)
                    reason = f"tag {tag!r} of {target.reference.name} has never been seen{seen}"
                    found.append(DirectiveError(line, reason, page_directive.page))
        return found


class SiteTables(Record):
    """What a site's plan found to show.

    Attributes:
        results: per image, what its tables can show.
        doubts: directives that show what their author most likely did not mean, located:
            warnings (which fail ``mkdocs build --strict``), not errors.
    """

    results: Mapping[ImageReference, ImageResult]
    doubts: tuple[DirectiveError, ...] = ()


Finder = Callable[[str], PageScan]
"""What scans a page's text for directives, in the page's markup."""


def plan_site(
    pages: Iterable[tuple[str, str]],
    settings: Settings,
    *,
    find: Finder = scan_markdown,
    skip_damaged: bool = False,
    warn: Callable[[DirectiveError], object] | None = None,
) -> SitePlan:
    """The plan of a site from its pages, given as ``(label, text)``.

    Every page is read before anything is raised, so that one build names every problem.

    Args:
        pages: each page's label and text.
        settings: the site's registry and sections, which bare names resolve against.
        find: scans one page (Markdown's scanner by default).
        skip_damaged: leave out a directive that cannot be planned instead of raising, for a
            front end whose markup parser reports it itself, at its true place (Sphinx).
        warn: told of each line that was most likely meant as a directive, located, before
            anything is raised (they are in the plan's ``near_misses`` too).

    Raises:
        DirectiveError: naming every damaged directive, each located on its page.
    """
    directives: list[PageDirective] = []
    problems: list[DirectiveError] = []
    near_misses: list[DirectiveError] = []
    for page, text in pages:
        scan = find(text)
        planned, found = _plan_page(scan, settings.registry, settings.registries)
        directives += (PageDirective(page, one) for one in planned)
        problems += (error.on_page(page) for error in found)
        near_misses += (near_miss.on_page(page) for near_miss in scan.near_misses)
    if warn is not None:
        for near_miss in near_misses:
            warn(near_miss)
    if problems and not skip_damaged:
        raise DirectiveError.joined(problems)
    return SitePlan(tuple(directives), tuple(near_misses))


def target_problem(target: Target, result: ImageResult) -> str | None:
    """Why ``result`` cannot be shown for ``target``, or None when it can.

    A section whose registry has no such repository is shown as empty, as the generated pages
    this replaces did ("no versions ... available"); a lone table has nothing to show.
    """
    if result.snapshot is not None or (target.section is not None and result.not_found):
        return None
    return result.problem or "no tags could be had"
