"""The registry token flow: read a 401's Bearer challenge, fetch a token, share it per repo."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

_PARAMETER = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


@dataclass(frozen=True)
class BearerChallenge:
    """What a registry's ``WWW-Authenticate: Bearer ...`` asks for.

    Attributes:
        realm: the token server's URL.
        service: the ``service`` parameter to pass back, if any.
        scope: the ``scope`` parameter to pass back, if any.
    """

    realm: str
    service: str | None
    scope: str | None


def parse_bearer_challenge(header: str) -> BearerChallenge | None:
    """Read a ``WWW-Authenticate`` header; None when it is not a usable Bearer challenge."""
    scheme, _, parameters = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    values = {
        match.group(1).lower(): (
            match.group(2).replace('\\"', '"') if match.group(2) is not None else match.group(3)
        )
        for match in _PARAMETER.finditer(parameters)
    }
    realm = values.get("realm")
    if not realm or not realm.startswith(("https://", "http://")):
        return None
    return BearerChallenge(realm=realm, service=values.get("service"), scope=values.get("scope"))


class TokenStore:
    """Tokens shared by every request to one repository.

    When many concurrent requests meet a 401 at once, one of them fetches the token and the
    others wait for it and reuse it, so the token server sees one request, not sixteen.
    """

    def __init__(self) -> None:
        """Start with no tokens."""
        self._tokens: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def current(self, key: str) -> str | None:
        """The token held for ``key``, if any."""
        return self._tokens.get(key)

    def renew(self, key: str, rejected: str | None, fetch: Callable[[], str]) -> str:
        """A token for ``key`` other than ``rejected``, fetched only if no other thread has.

        Args:
            key: what the token is for (registry host and repository).
            rejected: the token the caller sent and was refused with, or None.
            fetch: obtains a new token from the token server.
        """
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            held = self._tokens.get(key)
            if held is not None and held != rejected:
                return held
            token = fetch()
            self._tokens[key] = token
            return token
