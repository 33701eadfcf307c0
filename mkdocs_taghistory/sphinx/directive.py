"""The ``tag-history`` directive: reStructuredText's ``.. tag-history:: IMAGE`` and MyST's
```` ```{tag-history} IMAGE ````, with the options of the Markdown directive.

It places the directive as the Markdown one is planned (same options, same checks, same
messages), asks the build's service (which fetched the whole build's images before any
document was read, and fetches what that pass missed), and writes the same table views as
docutils nodes. Problems are logged at ``FILE:LINE`` through Sphinx, so ``-W`` fails on them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from mkdocs_taghistory.directive import Directive
from mkdocs_taghistory.directive_options import OPTION_NAMES
from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.feeds import publishes
from mkdocs_taghistory.near_misses import unquoted
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.settings import RegistrySection, Settings
from mkdocs_taghistory.site import PageDirective, PlannedDirective, SitePlan, Target, plan_directive
from mkdocs_taghistory.sphinx.build import build_of, note_tables
from mkdocs_taghistory.sphinx.doctree import placeholder_nodes, table_nodes
from mkdocs_taghistory.sphinx.feeds import feed_links_node
from mkdocs_taghistory.sphinx.sources import quoted_image
from mkdocs_taghistory.tables import directive_table
from mkdocs_taghistory.view import placeholder_run

logger = logging.getLogger(__name__)

SECTION_CLASS = "taghistory-section"


class _EveryOption(dict[str, Any]):
    """An option spec that lets every option through as text.

    The options are checked by :func:`~mkdocs_taghistory.directive_options.parse_options`, as
    the Markdown directive's are, so that a misspelt one gets the same "did you mean" (docutils
    would only say "unknown option").
    """

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __missing__(self, key: str) -> Any:
        return directives.unchanged


class TagHistoryDirective(SphinxDirective):
    """``.. tag-history:: IMAGE`` with the options of ``<< tag_history "IMAGE" ... >>``."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = False
    has_content = False
    # Never empty: docutils and MyST read no options at all for an empty spec.
    option_spec: ClassVar[dict[str, Any]] = _EveryOption(
        dict.fromkeys(OPTION_NAMES, directives.unchanged)
    )

    def run(self) -> list[nodes.Node]:
        """The directive's tables, each in its registry's section; nothing and an error at
        the directive's place when they cannot be shown."""
        build = build_of(self.config)
        if build.misconfigured is not None:
            return []  # the configuration error was reported once
        settings = build.settings
        image = self.arguments[0]
        problems = []
        # MyST reads its directives through a state of its own (reStructuredText in MyST's
        # eval-rst, through docutils'): the markup the fix is to be written in.
        myst = type(self.state).__module__.startswith("myst_parser")
        if (quoted := quoted_image(image, myst=myst)) is not None:
            problems.append(DirectiveError(self.lineno, quoted))
            image = unquoted(image)  # and what else is wrong, in the same build
        written = Directive(image, self.lineno, dict(self.options))
        docname = self.env.docname
        try:
            planned = plan_directive(written, settings.registry, settings.registries)
        except DirectiveError as error:
            problems += error.each
        if problems:
            return self._error(DirectiveError.joined(problems))
        if build.collected is not None:
            build.collected.append(PageDirective(docname, planned))
            return []
        if not settings.enabled:
            names = dict.fromkeys(target.reference.name for target in planned.targets)
            return [placeholder_nodes(placeholder_run(name)) for name in names]
        plan = SitePlan((PageDirective(docname, planned),), elsewhere=tuple(build.written))
        images = [reference.name for reference in plan.references]
        try:
            tables = plan.fetch(build.service)
            made: list[nodes.Node] = [
                self._target_nodes(settings, planned, target, tables.results[target.reference])
                for target in planned.targets
            ]
        except DirectiveError as error:
            # Read again by the next build, which may have the table (a cache filled since).
            note_tables(self.env, docname, images, build.service, complete=False)
            return self._error(error)
        for doubt in tables.doubts:
            logger.warning(doubt.reason, location=self.get_location(), type="taghistory")
        note_tables(self.env, docname, images, build.service, complete=True)
        return made

    def _error(self, error: DirectiveError) -> list[nodes.Node]:
        for problem in error.each:
            logger.error(problem.reason, location=self.get_location(), type="taghistory")
        return []

    def _target_nodes(
        self, settings: Settings, planned: PlannedDirective, target: Target, result: ImageResult
    ) -> nodes.Element:
        table = table_nodes(directive_table(settings, planned, target, result))
        if publishes(settings, result):
            table += feed_links_node(target.reference)
        if target.section is None:
            return table
        return self._section(target.section, table)

    def _section(self, section: RegistrySection, table: nodes.Element) -> nodes.section:
        """A registry's section: a real section (in the table of contents), its description
        read in the document's own markup (reStructuredText or MyST), then the table."""
        made = nodes.section("", classes=[SECTION_CLASS])
        made += nodes.title(section.title, section.title)
        made["names"].append(nodes.fully_normalize_name(section.title))
        self.state.document.note_implicit_target(made, made)
        if section.description.strip():
            made += self.parse_text_to_nodes(section.description.strip())
        made += table
        return made


class PlaceRegistrySections(SphinxTransform):
    """Registry sections where docutils' structure wants them.

    A section where no section may stand (in an admonition, a list item, a tab) becomes a
    rubric: a heading that is not in the table of contents. Where sections may stand, what the
    author wrote after the directive follows its last section, and so joins it, as the text
    after any heading does (a section holds no text after its subsections).
    """

    # Before the table of contents is collected (doctree-read, after every transform).
    default_priority = 200

    def apply(self, **kwargs: Any) -> None:
        """Turn misplaced registry sections into rubrics; give trailing text to the last."""
        parents: dict[int, nodes.Element] = {}
        for section in list(self.document.findall(nodes.section)):
            if SECTION_CLASS not in section["classes"]:
                continue
            if isinstance(section.parent, (nodes.section, nodes.document)):
                parents[id(section.parent)] = section.parent
            else:
                self._as_rubric(section)
        for parent in parents.values():
            last: nodes.Element | None = None
            for child in list(parent.children):
                if isinstance(child, nodes.section):
                    last = child if SECTION_CLASS in child["classes"] else None
                elif last is not None:
                    parent.remove(child)
                    last += child

    def _as_rubric(self, section: nodes.section) -> None:
        title = section[0]
        rubric = nodes.rubric(
            title.astext(),
            "",
            *title.children,
            ids=section["ids"],
            names=section["names"],
            classes=[SECTION_CLASS],
        )
        for identifier in section["ids"]:
            self.document.ids[identifier] = rubric
        section.replace_self([rubric, *section.children[1:]])
