"""The core's log records, shown through Sphinx's logging.

The core logs under ``mkdocs_taghistory`` so that it runs without Sphinx; Sphinx shows (and
counts, for ``-W``) only what goes through its own loggers.
"""

from __future__ import annotations

import logging

from sphinx.util import logging as sphinx_logging

from mkdocs_taghistory.frontend import CORE_LOGGER, forward_core_logs
from mkdocs_taghistory.frontend import stop_forwarding as _stop_forwarding

_sphinx_log = sphinx_logging.getLogger(CORE_LOGGER)


def _to_sphinx(record: logging.LogRecord) -> None:
    # Typed, so that suppress_warnings can name the records.
    _sphinx_log.log(record.levelno, record.getMessage(), type="taghistory")


def forward_to_sphinx() -> None:
    """Send the core's records to Sphinx (and only there): Sphinx's verbosity decides what is
    shown."""
    forward_core_logs(_to_sphinx)


def stop_forwarding() -> None:
    """Give the core's records back to Python's logging (a command that loaded a project
    reports for itself)."""
    _stop_forwarding(forward_core_logs(_to_sphinx))
