"""Registry tokens: a 401's Bearer challenge read, and the tokens it gives kept per repository,
fetched once for many waiting requests and renewed before they expire."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# Anchored at a word start: unanchored, a long run of word characters is retried from every
# position, quadratic in a header the registry controls.
_PARAMETER = re.compile(r'(?<!\w)(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


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
    scheme, separator, rest = (realm or "").partition("://")
    if not separator or scheme.lower() not in {"https", "http"}:
        return None
    # URL schemes are case-insensitive (RFC 3986); the rest of the code compares lowercase.
    realm = f"{scheme.lower()}://{rest}"
    return BearerChallenge(realm=realm, service=values.get("service"), scope=values.get("scope"))


@dataclass(frozen=True)
class _HeldToken:
    token: str
    refresh_at: float
    challenge: BearerChallenge


def refresh_time(now: float, lifetime: float) -> float:
    """When to replace a token that lives ``lifetime`` seconds: well before it expires.

    Ten seconds early for long-lived tokens, half-way for short ones, so that a request sent
    just before the refresh still arrives while the token is valid.
    """
    return now + max(lifetime - 10, lifetime / 2)


TokenFetcher = Callable[[BearerChallenge], Awaitable[tuple[str, float]]]
"""Obtains a token for a challenge: returns the token and its lifetime in seconds."""


class TokenStore:
    """Tokens shared by every request to one repository, renewed before they expire.

    When many concurrent requests need a token at once (a 401 met together, or an expiry), one
    of them fetches it and the others wait for it and reuse it: the token server sees one
    request, not a hundred.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Start with no tokens; ``clock`` gives the time in seconds."""
        self._held: dict[str, _HeldToken] = {}
        self._failures: dict[str, tuple[str | None, Exception]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._clock = clock

    async def token(self, key: str, fetch: TokenFetcher) -> str | None:
        """The token for ``key``: None before any challenge, renewed when it is due."""
        held = self._held.get(key)
        if held is None:
            return None
        if self._clock() < held.refresh_at:
            return held.token
        return await self.renew(key, held.token, held.challenge, fetch)

    async def renew(
        self, key: str, rejected: str | None, challenge: BearerChallenge, fetch: TokenFetcher
    ) -> str:
        """A fresh token for ``key`` other than ``rejected``, fetched only if no other request
        has.

        Args:
            key: what the token is for (registry host and repository).
            rejected: the token the caller holds and cannot use, or None.
            challenge: what the registry asked for.
            fetch: obtains a new token from the token server.
        """
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            held = self._held.get(key)
            if held is not None and held.token != rejected and self._clock() < held.refresh_at:
                return held.token
            failed = self._failures.get(key)
            if failed is not None and failed[0] == rejected:
                # Requests that queued behind a failed fetch share its failure rather than
                # each asking the token server again.
                raise failed[1]
            try:
                token, lifetime = await fetch(challenge)
            except Exception as error:
                self._failures[key] = (rejected, error)
                raise
            self._failures.pop(key, None)
            self._held[key] = _HeldToken(token, refresh_time(self._clock(), lifetime), challenge)
            return token
