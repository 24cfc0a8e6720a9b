"""The asyncio bridge (``harness.asyncio_bridge``): calls, their errors and streams cross from trio to a
dedicated asyncio loop and back; a stream left early is closed where it lives; cancelling the trio side
cancels the asyncio task; the loop closes with bounded waits, even when it is blocked. Loopback only."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import trio

from harness.asyncio_bridge import CANCEL_GRACE, AsyncioBridge, BridgeError
from providers.errors import ProviderError
from providers.streams import Stream

LOOP_THREAD = "wirecheck-asyncio-providers"


# --- the bridge: calls, errors and streams cross; close is bounded ------------------------------------------


@pytest.mark.anyio
async def test_a_stream_left_after_one_item_is_closed_where_it_lives() -> None:
    seen: list[tuple[str, str]] = []

    def record(what: str) -> None:
        seen.append((what, threading.current_thread().name))

    async def numbers():
        try:
            for n in range(1000):
                record(f"yield {n}")
                yield n
        finally:
            record("generator closed")

    async def on_close() -> None:
        record("on_close")

    class Numbers:
        async def open(self) -> Stream[int]:
            return Stream(numbers(), on_close=on_close)

    bridge = AsyncioBridge()
    try:
        provider = await bridge.build(Numbers, {})
        async with await provider.open() as items:
            async for n in items:
                assert n == 0
                break
        assert seen == [
            ("yield 0", LOOP_THREAD),
            ("generator closed", LOOP_THREAD),
            ("on_close", LOOP_THREAD),
        ]
    finally:
        assert await trio.to_thread.run_sync(bridge.close)


@pytest.mark.anyio
async def test_what_the_asyncio_side_raises_arrives_as_it_was_except_its_own_cancellation() -> None:
    async def refuses() -> None:
        raise ProviderError.upstream(429, "slow down", retry_after=2)

    async def cancels_itself() -> None:
        asyncio.current_task().cancel()
        await asyncio.sleep(0)

    bridge = AsyncioBridge()
    try:
        with pytest.raises(ProviderError) as refused:
            await bridge.call(refuses)
        assert (refused.value.status, refused.value.retry_after) == (429, 2)
        with pytest.raises(BridgeError, match="cancels_itself ended with CancelledError on the asyncio side"):
            await bridge.call(cancels_itself)  # an asyncio CancelledError must not unwind the trio side
        assert await bridge.call(lambda: 7) == 7
    finally:
        assert await trio.to_thread.run_sync(bridge.close)


@pytest.mark.anyio
async def test_cancelling_the_trio_side_cancels_the_asyncio_task() -> None:
    ended: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            ended.append(threading.current_thread().name)
            raise

    bridge = AsyncioBridge()
    try:
        started = trio.current_time()
        with trio.move_on_after(0.2) as scope:
            await bridge.call(forever)
        assert scope.cancelled_caught and ended == [LOOP_THREAD]  # ended before the trio side went on
        assert trio.current_time() - started < 0.2 + 0.5
    finally:
        assert await trio.to_thread.run_sync(bridge.close)


@pytest.mark.anyio
async def test_close_cancels_what_is_pending_and_joins_the_thread() -> None:
    ended = threading.Event()
    tasks = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            ended.set()

    def leave_a_task() -> None:
        tasks.append(asyncio.get_running_loop().create_task(forever()))

    bridge = AsyncioBridge()
    await bridge.call(leave_a_task)
    thread = bridge.thread
    assert thread is not None and thread.is_alive() and thread.daemon
    assert await trio.to_thread.run_sync(bridge.close)
    assert ended.is_set() and not thread.is_alive()
    with pytest.raises(BridgeError, match="closed"):
        await bridge.call(lambda: None)


@pytest.mark.anyio
async def test_a_blocked_loop_costs_bounded_waits_never_a_hang() -> None:
    """A provider that blocks its loop (time.sleep in a coroutine) cannot be cancelled: the call is given
    up after the grace, and close() gives up after its timeout, leaving a daemon thread."""
    bridge = AsyncioBridge()
    started = trio.current_time()
    with trio.move_on_after(0.2):
        await bridge.call(time.sleep, 2.5)
    assert trio.current_time() - started < 0.2 + CANCEL_GRACE + 0.5
    closing = time.monotonic()
    assert not await trio.to_thread.run_sync(bridge.close, 0.3)
    assert time.monotonic() - closing < 1.0
    thread = bridge.thread
    assert thread is not None and thread.daemon
    await trio.to_thread.run_sync(thread.join, 5)  # (only so the test leaves nothing behind)
    assert not thread.is_alive()
