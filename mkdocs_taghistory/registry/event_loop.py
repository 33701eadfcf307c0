"""The fetch's own event loop: the front ends stay synchronous, and a fetch runs to its end on
a loop made for it, which never outlives it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_to_completion(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make`` gives on an event loop of its own, and close the loop.

    The loop is never made the thread's current one (as ``asyncio.run`` would, and then clear
    the caller's). A caller inside a running loop (a notebook, an async application that
    renders Markdown) cannot start another in its thread: the fetch then runs in a thread of
    its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run(make)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="taghistory") as thread:
        return thread.submit(_run, make).result()


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(make())
