"""HTTP for the concrete providers: httpx under trio, with timeouts, retries and streaming bodies.

The rules (docs/contract.md#errors, docs/contract.md#retries, docs/contract.md#streams):
- every network wait has a timeout: connect, write, pool, and read, where read bounds the wait for each
  next chunk of a body, so it is also the idle limit between stream chunks; and ``total``, when set, bounds
  the whole call (every attempt and backoff wait included) and, for a stream, everything up to its end,
  so an upstream that drips one byte at a time cannot hold a call forever: past it the call (or the
  stream's iterator) raises ``ProviderError(kind="transport", reason="total_timeout")``;
- an HTTP error becomes ``ProviderError(kind="upstream")`` with status, the provider's error type and
  message (read by the provider's own ``ErrorParser``), ``retry_after`` and the raw body;
- idempotent calls are retried on 408/409/429/5xx and on connect failures, with exponential backoff that
  honours ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date); a wait longer than the policy's
  ``max_retry_after`` is not retried (as the official SDKs do); a wait that is no wait at all (negative,
  NaN, infinite) is not honoured: the policy's own backoff is used, and ``retry_after`` stays unset;
  an unusable or too long wait is logged (``logging``, logger ``providers.transport``) once per response;
- a stream is retried only while it is being opened: once the status was 200 the stream belongs to the
  caller, and any later failure is raised from the iterator, never retried;
- passthrough bodies (an async byte stream) are sent once, never retried.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import trio

from providers.errors import ProviderError
from providers.streams import Stream

log = logging.getLogger(__name__)

#: Reads (error_type, message) out of an error body, optionally with a third item: the retry delay the
#: body asks for (seconds), used when no retry-after header gives one. Each provider supplies its dialect's.
ErrorParser = Callable[[int, bytes], tuple[str | None, str] | tuple[str | None, str, float | None]]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``read`` bounds each wait for the next bytes, so it is the stream idle limit too. ``total``
    bounds a whole call, retries and their waits included, and a stream until its end (None: no limit)."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 10.0
    total: float | None = None

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(slots=True)
class RetryPolicy:
    """``max_retries`` extra attempts; backoff ``base * 2**n`` capped at ``cap``, minus up to 25 % jitter."""

    max_retries: int = 2
    base: float = 0.5
    cap: float = 8.0
    max_retry_after: float = 60.0
    jitter: bool = True
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, error: ProviderError) -> float | None:
        """Seconds to wait before retry number ``attempt`` (from 0), or None when not to retry."""
        if attempt >= self.max_retries or not error.retryable:
            return None
        asked = error.retry_after
        if asked is not None and usable_wait(asked):
            return asked if asked <= self.max_retry_after else None
        backoff = min(self.cap, self.base * 2**attempt)
        return backoff * (1 - 0.25 * self.rng.random()) if self.jitter else backoff


def usable_wait(seconds: float) -> bool:
    """Whether a wait an upstream asked for can be honoured at all: finite and not negative."""
    return math.isfinite(seconds) and seconds >= 0


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (delta seconds or an HTTP date), as the
    upstream wrote them: a negative or NaN number is returned as is, for the caller to judge
    (``usable_wait``); an HTTP date in the past is 0 (retry now)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def default_error_parser(status: int, body: bytes) -> tuple[str | None, str]:
    """Best effort for any dialect: ``{"error": {"type"|"status", "message"}}`` or the body text."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, body[:500].decode("utf-8", "replace") or f"HTTP {status}"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        kind = error.get("type") or error.get("status") or error.get("code")
        return (str(kind) if kind is not None else None), str(error.get("message") or f"HTTP {status}")
    return None, body[:500].decode("utf-8", "replace")


class Transport:
    """One upstream base URL with its auth headers, timeouts, retry policy and error parser."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        error_parser: ErrorParser = default_error_parser,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = trio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.params = dict(params or {})
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.error_parser = error_parser
        self._client = client
        self._owns_client = client is None
        self._sleep = sleep
        #: Attempts made by the last call (1 = no retry); tests and reports read it.
        self.last_attempts = 0

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeouts.to_httpx(), follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def _build(
        self, method: str, path: str, *, content: Any, headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
    ) -> httpx.Request:  # fmt: skip
        merged = {**self.headers, **(headers or {})}
        query = {**self.params, **(params or {})}
        return self.client.build_request(
            method, self.url(path), content=content, headers=merged, params=query or None,
            timeout=self.timeouts.to_httpx(),
        )  # fmt: skip

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send and read the whole body; retried per the policy when ``idempotent``; all of it within
        ``timeouts.total``."""
        with self._within(self._deadline()):
            return await self._with_retries(
                lambda: self._send(
                    self._build(method, path, content=content, headers=headers, params=params)
                ),
                idempotent,
            )

    async def stream(
        self,
        method: str,
        path: str,
        *,
        content: bytes | AsyncIterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Stream[bytes]:
        """Open a streaming response and return its body as a byte stream.

        Opening (up to the status line and headers) is retried per the policy; the returned stream is
        not. An async-iterator ``content`` is consumed by the first attempt, so it is never retried.
        """
        retryable = idempotent and not isinstance(content, AsyncIterator)
        deadline = self._deadline()
        with self._within(deadline):
            response = await self._with_retries(
                lambda: self._open(
                    self._build(method, path, content=content, headers=headers, params=params)
                ),
                retryable,
            )
        return Stream(self._body(response, deadline), on_close=response.aclose)

    def _deadline(self) -> float:
        """When a call starting now must be over (trio's clock), or ``inf`` without ``timeouts.total``."""
        total = self.timeouts.total
        return math.inf if total is None else trio.current_time() + total

    @contextlib.contextmanager
    def _within(self, deadline: float) -> Iterator[None]:
        """Cancel what runs inside at ``deadline`` and raise the ``total_timeout`` transport error."""
        with trio.move_on_at(deadline) as scope:
            yield
        if scope.cancelled_caught:
            raise ProviderError.transport(
                "total_timeout",
                f"total deadline exceeded: the call (its retries, and a stream to its end) took over "
                f"{self.timeouts.total:g}s",
            )

    async def _with_retries(self, attempt: Callable[[], Awaitable[httpx.Response]], retryable: bool):
        tries = 0
        while True:
            tries += 1
            self.last_attempts = tries
            try:
                return await attempt()
            except ProviderError as error:
                wait = self.retry.delay(tries - 1, error) if retryable else None
                if wait is None:
                    raise
                await self._sleep(wait)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        with _mapped_transport_errors():
            response = await self.client.send(request)
        await self._raise_for_status(response)
        return response

    async def _open(self, request: httpx.Request) -> httpx.Response:
        with _mapped_transport_errors():
            response = await self.client.send(request, stream=True)
        if response.status_code >= 400:
            try:
                with _mapped_transport_errors():
                    await response.aread()
            finally:
                await response.aclose()
            await self._raise_for_status(response)
        return response

    async def _body(self, response: httpx.Response, deadline: float) -> AsyncIterator[bytes]:
        """The body's chunks; each wait for the next one ends at ``deadline`` (no cancel scope is held
        across a ``yield``: the consumer's own code between chunks is never cancelled by it)."""
        chunks = response.aiter_bytes()
        while True:
            with _mapped_transport_errors(), self._within(deadline):
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
            if chunk:
                yield chunk

    async def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        body = response.content
        error_type, message, *body_delay = self.error_parser(response.status_code, body)
        retry_after = parse_retry_after(response.headers)
        if retry_after is None and body_delay:
            retry_after = body_delay[0]
        retry_after = self._judge_wait(retry_after, response)
        raise ProviderError.upstream(
            response.status_code, message, error_type=error_type, retry_after=retry_after, body=body
        )

    def _judge_wait(self, asked: float | None, response: httpx.Response) -> float | None:
        """The wait an error response asked for, once judged: an unusable one (negative, NaN, infinite)
        becomes None, so the policy's own backoff applies; one beyond ``max_retry_after`` is kept (the
        error reports it, the policy does not wait for it). Either is logged, once for this response."""
        if asked is None:
            return None
        where = f"{response.request.method} {response.request.url} → {response.status_code}"
        if not usable_wait(asked):
            log.warning(
                "%s asked to retry after %r s, which is no wait: ignored, the retry policy's own backoff "
                "applies",
                where,
                asked,
            )
            return None
        if asked > self.retry.max_retry_after:
            log.warning(
                "%s asked to retry after %g s, more than max_retry_after (%g s): not retried",
                where,
                asked,
                self.retry.max_retry_after,
            )
        return asked


class _mapped_transport_errors:
    """Context manager turning httpx's transport exceptions into ``ProviderError(kind="transport")``."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, httpx.TransportError):
            return False
        if isinstance(exc, httpx.ConnectTimeout):
            reason = "connect_timeout"
        elif isinstance(exc, httpx.ReadTimeout | httpx.PoolTimeout):
            reason = "read_timeout"
        elif isinstance(exc, httpx.WriteTimeout):
            reason = "write_timeout"
        elif isinstance(exc, httpx.ConnectError):
            reason = "connect"
        else:  # RemoteProtocolError, ReadError, WriteError, ...: the peer went away mid-exchange
            reason = "disconnect"
        raise ProviderError.transport(reason, f"{type(exc).__name__}: {exc}") from exc
