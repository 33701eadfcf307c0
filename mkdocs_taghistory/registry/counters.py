"""What a fetch sent and how it went, counted for the build's summary, tests and benchmarks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FetchCounters:
    """What a client sent and how it went, for the build's summary, tests and benchmarks.

    Attributes:
        requests: HTTP requests sent, token requests and retries included.
        retries: requests sent again after a failure that may pass.
        connections: connections that answered at least once.
        http_versions: answers per HTTP version (``HTTP/1.1``, ``HTTP/2``).
    """

    requests: int = 0
    retries: int = 0
    connections: int = 0
    http_versions: Counter[str] = field(default_factory=Counter)
