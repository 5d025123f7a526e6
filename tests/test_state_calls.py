"""State store calls off the event loop (``StateCalls``): the loop runs while a call
blocks, and a failing store sees one probe at a time, not every waiting call."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.state import StateDamaged, StateUnavailable
from bot.state_calls import StateCalls


async def test_the_event_loop_runs_while_a_store_call_blocks() -> None:
    calls = StateCalls()
    entered, release = asyncio.Event(), threading.Event()
    loop = asyncio.get_running_loop()

    def held_lock() -> str:
        loop.call_soon_threadsafe(entered.set)
        release.wait(30)
        return "done"

    blocked = asyncio.ensure_future(calls.run(held_lock))
    await asyncio.wait_for(entered.wait(), 60)
    ticks = 0
    for _ in range(100):  # the loop keeps serving others meanwhile
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 100 and not blocked.done()
    release.set()
    assert await asyncio.wait_for(blocked, 60) == "done"
    calls.close()


async def test_a_failing_store_sees_one_probe_at_a_time_then_every_call_goes_through() -> None:
    calls = StateCalls(first_delay=0.01, max_delay=0.05)
    touched: list[int] = []
    down = True

    def read(number: int) -> int:
        touched.append(number)
        if down:
            raise StateUnavailable("connection refused")
        return number

    deadline = time.monotonic() + 60
    waiting = [asyncio.ensure_future(calls.run_until(deadline, read, n)) for n in range(50)]
    async with asyncio.timeout(30):
        while len(touched) < 4:  # the first attempt, then probes
            await asyncio.sleep(0.01)
    assert calls.failing
    with pytest.raises(StateUnavailable):  # a single attempt meanwhile fails at once
        await calls.run(read, 99)
    touched_while_down = len(touched)
    down = False
    results = await asyncio.wait_for(asyncio.gather(*waiting), 30)
    assert results == list(range(50))
    assert touched_while_down < 10  # not one attempt per waiting call
    assert not calls.failing
    calls.close()


async def test_a_call_gives_up_at_its_deadline_and_other_errors_pass_at_once() -> None:
    calls = StateCalls(first_delay=0.01, max_delay=0.02)

    def unavailable() -> None:
        raise StateUnavailable("lock timeout")

    with pytest.raises(StateUnavailable, match="lock timeout"):
        await asyncio.wait_for(calls.run_until(time.monotonic() + 0.2, unavailable), 30)
    attempts = 0

    def damaged() -> None:
        nonlocal attempts
        attempts += 1
        raise StateDamaged("not a database")

    with pytest.raises(StateDamaged):
        await calls.run_until(time.monotonic() + 60, damaged)
    assert attempts == 1
    calls.close()
