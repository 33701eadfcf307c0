"""The token store: one fetch for many waiting requests, renewal before expiry."""

from __future__ import annotations

import asyncio

import pytest

from mkdocs_taghistory.registry.tokens import (
    BearerChallenge,
    TokenStore,
    parse_bearer_challenge,
    refresh_time,
)

CHALLENGE = BearerChallenge("https://auth.example/token", "registry.example", "repository:a:pull")


def test_challenge_parameters_are_read_quoted_or_not() -> None:
    parsed = parse_bearer_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/python:pull"'
    )
    assert parsed == BearerChallenge(
        "https://auth.docker.io/token", "registry.docker.io", "repository:library/python:pull"
    )
    assert parse_bearer_challenge('Basic realm="x"') is None
    assert parse_bearer_challenge("Bearer service=x") is None  # no realm, nowhere to ask
    assert parse_bearer_challenge('Bearer realm="file:///etc/passwd"') is None


def test_many_requests_meeting_a_challenge_share_one_fetch() -> None:
    store = TokenStore()
    fetches = 0

    async def slow_fetch(challenge: BearerChallenge) -> tuple[str, float]:
        nonlocal fetches
        fetches += 1
        await asyncio.sleep(0.05)
        return f"token-{fetches}", 300.0

    async def requests() -> list[str]:
        return await asyncio.gather(
            *(store.renew("r/a", None, CHALLENGE, slow_fetch) for _ in range(16))
        )

    assert asyncio.run(requests()) == ["token-1"] * 16
    assert fetches == 1


def test_token_is_renewed_before_it_expires() -> None:
    now = [1000.0]
    store = TokenStore(clock=lambda: now[0])
    issued = iter(["first", "second"])

    async def fetch(challenge: BearerChallenge) -> tuple[str, float]:
        return next(issued), 60.0

    assert asyncio.run(store.token("r/a", fetch)) is None  # no challenge met yet
    assert asyncio.run(store.renew("r/a", None, CHALLENGE, fetch)) == "first"
    now[0] += 49
    assert asyncio.run(store.token("r/a", fetch)) == "first"
    now[0] += 2  # 51 s into a 60 s token: renewed ahead of expiry
    assert asyncio.run(store.token("r/a", fetch)) == "second"


def test_refresh_is_ten_seconds_early_or_half_way_for_short_tokens() -> None:
    assert refresh_time(0, 300) == 290
    assert refresh_time(0, 10) == 5


def test_waiting_requests_share_a_failed_fetch_instead_of_repeating_it() -> None:
    store = TokenStore()
    calls = 0

    async def failing(challenge: BearerChallenge) -> tuple[str, float]:
        nonlocal calls
        calls += 1
        raise RuntimeError("token server down")

    for _ in range(3):
        with pytest.raises(RuntimeError):
            asyncio.run(store.renew("r/a", "old", CHALLENGE, failing))
    assert calls == 1
