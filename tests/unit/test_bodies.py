"""Bodies read raw and decoded here: one gzip layer (member after member), within the cap."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import httpx
import pytest

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.registry.bodies import read_body


class Chunks(httpx.AsyncByteStream):
    """A body as a server streams it, in small chunks, never read ahead."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self._body), 4096):
            yield self._body[start : start + 4096]


def read(response: httpx.Response, max_bytes: int) -> bytes:
    return asyncio.run(read_body(response, max_bytes))


def answer(body: bytes, encoding: str | None = "gzip") -> httpx.Response:
    headers = {"Content-Encoding": encoding} if encoding else {}
    return httpx.Response(
        200,
        headers=headers,
        stream=Chunks(body),
        request=httpx.Request("GET", "https://r.example/v2/"),
    )


def test_an_empty_body_with_gzip_headers_is_empty_not_broken() -> None:
    # A HEAD answer may carry the GET's headers, Content-Encoding included.
    assert read(answer(b""), 1024) == b""


def test_every_member_of_a_gzip_body_is_decoded() -> None:
    body = gzip.compress(b'{"tags": [') + gzip.compress(b'"1.0"]}')
    assert read(answer(body), 1024) == b'{"tags": ["1.0"]}'


@pytest.mark.parametrize(
    ("body", "encoding", "problem"),
    [
        # mtime=0: the same bytes in every process, so parallel workers collect the same tests.
        (gzip.compress(gzip.compress(b"{}", mtime=0), mtime=0), "gzip, gzip", "not asked for"),
        (b"{}", "br", "not asked for"),
        (gzip.compress(b'{"tags": []}', mtime=0)[:-6], "gzip", "ends early"),
        (b"not gzip at all", "gzip", "does not decode"),
        (gzip.compress(bytes(10 * 1024 * 1024), mtime=0), "gzip", "exceeds the 64 KiB"),
    ],
    ids=["gzip twice", "brotli", "cut short", "not gzip", "bomb"],
)
def test_what_cannot_be_read_within_the_rules_is_an_error(
    body: bytes, encoding: str, problem: str
) -> None:
    with pytest.raises(RegistryError, match=problem):
        read(answer(body, encoding), 64 * 1024)
