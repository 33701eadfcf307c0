"""The token store: one fetch for many waiting threads, renewal before expiry."""

from __future__ import annotations

import threading
import time

import pytest

from mkdocs_taghistory.registry.auth import (
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


def test_many_threads_meeting_a_challenge_share_one_fetch() -> None:
    store = TokenStore()
    fetches = 0
    barrier = threading.Barrier(16)

    def slow_fetch(challenge: BearerChallenge) -> tuple[str, float]:
        nonlocal fetches
        fetches += 1
        time.sleep(0.05)
        return f"token-{fetches}", 300.0

    got: list[str] = []

    def request() -> None:
        barrier.wait()
        got.append(store.renew("r/a", None, CHALLENGE, slow_fetch))

    threads = [threading.Thread(target=request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fetches == 1 and got == ["token-1"] * 16


def test_token_is_renewed_before_it_expires() -> None:
    now = [1000.0]
    store = TokenStore(clock=lambda: now[0])
    issued = iter(["first", "second"])
    fetch = lambda challenge: (next(issued), 60.0)  # noqa: E731
    assert store.token("r/a", fetch) is None  # no challenge met yet
    assert store.renew("r/a", None, CHALLENGE, fetch) == "first"
    now[0] += 49
    assert store.token("r/a", fetch) == "first"
    now[0] += 2  # 51 s into a 60 s token: renewed ahead of expiry
    assert store.token("r/a", fetch) == "second"


def test_refresh_is_ten_seconds_early_or_half_way_for_short_tokens() -> None:
    assert refresh_time(0, 300) == 290
    assert refresh_time(0, 10) == 5


def test_waiting_threads_share_a_failed_fetch_instead_of_repeating_it() -> None:
    store = TokenStore()
    calls = 0

    def failing(challenge: BearerChallenge) -> tuple[str, float]:
        nonlocal calls
        calls += 1
        raise RuntimeError("token server down")

    for _ in range(3):
        with pytest.raises(RuntimeError):
            store.renew("r/a", "old", CHALLENGE, failing)
    assert calls == 1
