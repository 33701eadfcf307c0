"""How many requests a host has in flight: slots by protocol, urgent takers first, lanes for
HTTP/1.1, and one origin whatever spelling of a host."""

from __future__ import annotations

import asyncio

from mkdocs_taghistory.registry.host_slots import HostSlots
from mkdocs_taghistory.registry.origins import origin_of, same_origin

HTTPS = "https://registry.example/v2/a/tags/list"
HTTP = "http://127.0.0.1:5000/v2/a/tags/list"


def test_an_internationalised_host_is_one_origin_in_either_spelling() -> None:
    assert origin_of("https://bücher.example/v2/") == ("https", "xn--bcher-kva.example", 443)
    assert same_origin("https://BÜCHER.example:443/a", "https://xn--bcher-kva.example/b")


def test_an_http1_host_has_sixteen_lanes_and_an_http2_one_a_hundred_shared_slots() -> None:
    async def most_at_once(slots: HostSlots, url: str) -> int:
        held = most = 0

        async def hold() -> None:
            nonlocal held, most
            async with slots.held(url):
                held += 1
                most = max(most, held)
                await asyncio.sleep(0.01)
                held -= 1

        await asyncio.gather(*(hold() for _ in range(150)))
        return most

    async def run() -> tuple[list[int | None], int, int]:
        slots = HostSlots()
        lanes = []
        async with slots.held(HTTP) as lane:  # plain HTTP: HTTP/1.1, on a lane
            lanes.append(lane)
        async with slots.held(HTTPS) as shared:  # protocol not known yet: the shared pool
            lanes.append(shared)
        http1 = await most_at_once(slots, HTTP)
        slots.learn(HTTPS, b"HTTP/2")
        return lanes, http1, await most_at_once(slots, HTTPS)

    lanes, http1, http2 = asyncio.run(run())
    assert lanes == [0, None] and http1 == 16 and http2 == 100


def test_requests_that_continue_a_call_go_before_new_ones() -> None:
    async def run() -> list[str]:
        slots = HostSlots(http1=1)
        order: list[str] = []

        async def request(name: str, *, urgent: bool) -> None:
            async with slots.held(HTTP, urgent=urgent):
                order.append(name)
                await asyncio.sleep(0)

        async with slots.held(HTTP):
            waiting = [asyncio.ensure_future(request(f"new {n}", urgent=False)) for n in range(3)]
            waiting.append(asyncio.ensure_future(request("retry", urgent=True)))
            await asyncio.sleep(0.01)
        await asyncio.gather(*waiting)
        return order

    assert asyncio.run(run()) == ["retry", "new 0", "new 1", "new 2"]


def test_a_cancelled_wait_gives_its_slot_to_the_next() -> None:
    async def run() -> bool:
        slots = HostSlots(http1=1)
        async with slots.held(HTTP):
            first = asyncio.ensure_future(slots.held(HTTP).__aenter__())
            await asyncio.sleep(0)
            first.cancel()
        async with asyncio.timeout(1), slots.held(HTTP):
            return True

    assert asyncio.run(run())
