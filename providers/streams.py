"""The handle a streaming Provider method returns, and stream translation through the IR.

docs/contract.md#streams: a stream is created once; errors before the first item are raised by the call itself
(so a streaming method is ``async`` and returns a ``Stream`` only once the upstream said 200), errors after it
are raised from the iterator. A stream owns its data and must be closed: ``async with`` or ``aclose()``
releases the connection, also when the consumer stops early.

Pure async code: no trio or httpx import, so the converters' tests can drive it with any runner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
U = TypeVar("U")


class Stream(Generic[T]):
    """An opened stream of items ``T`` (wire models, IR events, or raw ``bytes``)."""

    __slots__ = ("_closed", "_items", "_on_close")

    def __init__(
        self, items: AsyncIterator[T], on_close: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self._items = items
        self._on_close = on_close
        self._closed = False

    def __aiter__(self) -> Stream[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self._items.__anext__()
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stop the stream and release what it holds; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        closer = getattr(self._items, "aclose", None)
        try:
            if closer is not None:
                await closer()
        finally:
            if self._on_close is not None:
                await self._on_close()

    async def __aenter__(self) -> Stream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def collect(self) -> list[T]:
        """Read the stream to its end (closing it) and return every item."""
        items = []
        async with self:
            async for item in self:
                items.append(item)
        return items


class _Translator(Protocol):
    def feed(self, item: Any) -> Iterable[Any]: ...
    def close(self) -> Iterable[Any]: ...


def translate(source: Stream[Any], *stages: _Translator) -> Stream[Any]:
    """A stream whose items are ``source``'s items pushed through converter stages in order.

    Each stage has ``feed(item) -> items`` and ``close() -> items`` (a ``StreamToIR`` or ``StreamFromIR``);
    ``close`` runs only when the source ended normally, so a truncated upstream is never dressed up as a
    clean finish. Closing the result closes ``source``.
    """

    def push(items: Iterable[Any], start: int) -> list[Any]:
        out = list(items)
        for stage in stages[start:]:
            out = [produced for item in out for produced in stage.feed(item)]
        return out

    async def run() -> AsyncIterator[Any]:
        async for item in source:
            for out in push([item], 0):
                yield out
        for index, stage in enumerate(stages):
            for out in push(stage.close(), index + 1):
                yield out

    return Stream(run(), on_close=source.aclose)


def from_items(items: Iterable[T]) -> Stream[T]:
    """A stream over items already in memory (for defaults, tests and replay)."""

    async def run() -> AsyncIterator[T]:
        for item in items:
            yield item

    return Stream(run())
