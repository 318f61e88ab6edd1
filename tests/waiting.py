"""Waiting on a condition instead of sleeping for a guess: the one helper the tests use."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DEFAULT_TIMEOUT = 10.0


def eventually(condition: Callable[[], object], what: str, timeout: float = DEFAULT_TIMEOUT,
               interval: float = 0.02) -> object:
    """Poll `condition` until it gives a true value, and return that value; fail naming `what` was
    awaited if `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for: {what}")
        time.sleep(interval)


async def eventually_async(condition: Callable[[], object], what: str, timeout: float = DEFAULT_TIMEOUT) -> object:
    """`eventually` inside an event loop: the loop runs on while the condition is false."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for: {what}")
        await asyncio.sleep(0.005)
    return value
