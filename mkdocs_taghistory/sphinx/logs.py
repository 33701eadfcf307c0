"""The core's log records, shown through Sphinx's logging.

The core logs under ``mkdocs_taghistory`` so that it runs without Sphinx; Sphinx shows (and
counts, for ``-W``) only what goes through its own loggers.
"""

from __future__ import annotations

import logging

from sphinx.util import logging as sphinx_logging

CORE_LOGGER = "mkdocs_taghistory"
_sphinx_log = sphinx_logging.getLogger(CORE_LOGGER)


class _ForwardToSphinx(logging.Handler):
    """Hands each record to Sphinx's logger, typed so ``suppress_warnings`` can name it."""

    def emit(self, record: logging.LogRecord) -> None:
        _sphinx_log.log(record.levelno, record.getMessage(), type="taghistory")


_FORWARDER = _ForwardToSphinx()


def forward_to_sphinx() -> None:
    """Send the core's records to Sphinx (and only there), detail included: Sphinx's own
    verbosity decides what is shown."""
    core = logging.getLogger(CORE_LOGGER)
    if _FORWARDER not in core.handlers:
        core.addHandler(_FORWARDER)
    core.propagate = False
    core.setLevel(logging.DEBUG)


def stop_forwarding() -> None:
    """Give the core's records back to Python's logging (a command that loaded a project
    reports for itself)."""
    core = logging.getLogger(CORE_LOGGER)
    core.removeHandler(_FORWARDER)
    core.propagate = True
    core.setLevel(logging.NOTSET)
