"""What every dialect shares: the request view (``Call``), routes, the ``Dialect`` base class and small
helpers for stream splitting, status tables and header values.

A dialect answers five questions about a request: which route it is, whether its credentials and protocol
headers are acceptable, what its error replies look like, what a generated reply for the endpoint is, and
how an ``Answer`` is rendered (JSON or stream events). The engine owns everything else.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mocks.faults import ErrorFault, StreamErrorFault
from mocks.framing import Body, Event, Framer
from mocks.generate import Answer, Ask, answer_for, rng_for
from mocks.script import AuthPolicy

__all__ = [
    "Call",
    "Dialect",
    "Route",
    "json_fragments",
    "pick",
    "rfc3339",
    "route",
    "seconds_text",
    "status_entry",
    "text_pieces",
    "tokens_before",
]


@dataclass(frozen=True, slots=True)
class Route:
    """``pattern`` is a full-match regex over the path; named groups become ``Call.params``, as do the
    fixed ``extra`` values. ``header``: the route applies only when that request header is present."""

    method: str
    pattern: re.Pattern[str]
    endpoint: str
    extra: Mapping[str, str] = field(default_factory=dict)
    header: str | None = None


def route(method: str, pattern: str, endpoint: str, header: str | None = None, **extra: str) -> Route:
    """A ``Route`` from a regex string; keyword arguments become its fixed ``extra`` parameters."""
    return Route(method, re.compile(pattern), endpoint, extra, header)


@dataclass(slots=True)
class Call:
    """A request as the dialects see it: header names lower-case, the JSON body parsed (``None`` if the body
    is not JSON; ``json_error`` says why when it tried), the route's endpoint and path parameters."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any
    json_error: str | None
    endpoint: str | None
    params: dict[str, str]
    seed: int = 0
    event_delay: float = 0.0
    variant: str = "plain"  # the script's wire variant (mocks.variants), applied by the engine

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def data(self) -> dict[str, Any]:
        """The JSON body when it is an object, else an empty dict."""
        return self.json if isinstance(self.json, dict) else {}

    @property
    def prompt_bytes(self) -> bytes:
        """The body without its streaming switches (``stream``, ``stream_options``), as canonical JSON (keys
        sorted) when it is JSON: it seeds the default reply and sizes the prompt, so that a streamed and a
        non-streamed request for the same thing get the same answer and the same prompt token count."""
        if self.json is None:
            return self.body
        trimmed = {k: v for k, v in self.data.items() if k not in ("stream", "stream_options")} or self.json
        return json.dumps(trimmed, sort_keys=True, ensure_ascii=False).encode()

    def rng(self, dialect: str, salt: str = "") -> random.Random:
        """The generator of this request's default reply, seeded by the script seed, the dialect, the
        endpoint, the model or deployment in the path and ``prompt_bytes``."""
        model = self.params.get("model") or self.params.get("deployment") or ""
        return rng_for(str(self.seed), dialect, self.endpoint or "", model, self.prompt_bytes, salt)


def pick(obj: Any, camel: str, default: Any = None) -> Any:
    """``obj[camel]`` or its snake_case spelling (Gemini accepts both)."""
    if not isinstance(obj, dict):
        return default
    if camel in obj:
        return obj[camel]
    snake = re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()
    return obj.get(snake, default)


def text_pieces(text: str, rng: random.Random) -> list[str]:
    """``text`` cut into stream deltas of one to three words, each word carrying its leading space (as real
    streams do); the pieces join back to ``text``."""
    words = re.findall(r"\s*\S+|\s+$", text)
    out: list[str] = []
    i = 0
    while i < len(words):
        n = rng.randint(1, 3)
        out.append("".join(words[i : i + n]))
        i += n
    return out or [text]


def json_fragments(text: str, rng: random.Random) -> list[str]:
    """A JSON string cut every 3 to 8 characters, as tool-call argument deltas arrive."""
    out = []
    i = 0
    while i < len(text):
        n = rng.randint(3, 8)
        out.append(text[i : i + n])
        i += n
    return out


def tokens_before(body: bytes, marker: bytes) -> int:
    """Prompt tokens before the last cache marker of a request (0 without one): the cached prefix."""
    return max(0, body.rfind(marker)) // 4


def seconds_text(seconds: float) -> str:
    """A ``retry-after`` value: whole seconds as an integer, else the decimal."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def rfc3339(seconds_from_now: float) -> str:
    """An RFC 3339 UTC timestamp that many seconds from now (Anthropic's rate-limit resets)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + math.ceil(seconds_from_now)))


def status_entry(table: Mapping[int, tuple[Any, ...]], status: int) -> tuple[Any, ...]:
    """The row of a status table for ``status``, else the row of 400 (4xx) or 500 (5xx and others)."""
    return table.get(status) or table[400 if 400 <= status < 500 else 500]


class Dialect:
    """Base of the four dialects; subclasses fill in the class attributes and override the hooks."""

    name: ClassVar[str]
    base_path: ClassVar[str] = ""  # what an SDK's base URL ends with
    routes: ClassVar[tuple[Route, ...]] = ()
    chat_endpoints: ClassVar[frozenset[str]] = frozenset()

    # -- routing and protocol checks --

    def resolve(
        self, method: str, path: str, headers: Mapping[str, str]
    ) -> tuple[str, dict[str, str]] | None:
        for r in self.routes:
            if r.method != method or (r.header and r.header not in headers):
                continue
            m = r.pattern.fullmatch(path)
            if m:
                return r.endpoint, {**m.groupdict(), **r.extra}
        return None

    def credential(self, call: Call) -> str | None:
        """The API key the request carries, however this dialect carries it."""
        raise NotImplementedError

    def check(self, call: Call, auth: AuthPolicy) -> tuple[str, Body] | None:
        """Why and how the real upstream would turn the request away before looking at it (``auth``,
        ``protocol`` headers, unreadable ``json``), or ``None``."""
        verdict = auth.accepts(self.credential(call))
        if verdict != "ok":
            return "auth", self.auth_error(call, missing=verdict == "missing")
        if call.json_error is not None and call.endpoint in self.json_endpoints():
            return "json", self.error(
                call, ErrorFault(400, message=f"could not parse the JSON body: {call.json_error}")
            )
        return None

    def json_endpoints(self) -> frozenset[str]:
        """Endpoints whose body must be JSON."""
        return frozenset(r.endpoint for r in self.routes if r.method == "POST")

    def validate(self, call: Call) -> ErrorFault | None:
        """The 400 a real upstream gives a request missing what it requires, or ``None``."""
        return None

    # -- errors --

    def error(self, call: Call, fault: ErrorFault) -> Body:
        raise NotImplementedError

    def auth_error(self, call: Call, missing: bool) -> Body:
        raise NotImplementedError

    def not_found(self, call: Call, detail: str) -> Body:
        return self.error(call, ErrorFault(404, message=detail))

    def stream_error(self, call: Call, fault: StreamErrorFault) -> Event:
        raise NotImplementedError

    # -- replies --

    def headers(self, call: Call) -> dict[str, str]:
        """Headers this upstream puts on every reply (request ids, rate-limit state)."""
        return {}

    def json_body(self, obj: Any, status: int = 200) -> Body:
        """A JSON reply. Compact: the real APIs pretty-print some bodies, but clients parse them all the
        same, and the indenting encoder is pure Python (it would triple the cost of a reply)."""
        return Body(
            status=status, payload=json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
        )

    def framer(self, call: Call) -> Framer:
        raise NotImplementedError

    def stream_content_type(self, call: Call) -> str:
        return "text/event-stream; charset=utf-8"

    def trailer(self, call: Call) -> list[Event]:
        """Events a scripted stream ends with (OpenAI's ``[DONE]``)."""
        return []

    def ask(self, call: Call) -> Ask:
        raise NotImplementedError

    def render(self, call: Call, answer: Answer) -> Body:
        """``answer`` as this dialect sends it for ``call`` (streamed when the request streams)."""
        raise NotImplementedError

    def generated(self, call: Call) -> Body:
        """The default reply for the endpoint of ``call``: chat endpoints render a generated answer, other
        endpoints dispatch to ``endpoint_<name>``."""
        if call.endpoint in self.chat_endpoints:
            return self.render(call, answer_for(self.ask(call), call.rng(self.name)))
        handler = getattr(self, f"endpoint_{call.endpoint}", None)
        if handler is None:
            return self.not_found(call, f"no generated reply for {call.method} {call.path}")
        return handler(call)

    def stream_events(self, call: Call, payloads: list[Any], pads: list[int] | None = None) -> Body:
        """A streamed body of ``payloads`` (dicts or ready ``Event``s) framed for this dialect, each event
        delayed by the rule's ``event_delay_ms``."""
        events = [
            p if isinstance(p, Event) else Event(data=p, delay=call.event_delay, pad=pads[i] if pads else 0)
            for i, p in enumerate(payloads)
        ]
        return Body(content_type=self.stream_content_type(call), events=events, framer=self.framer(call))
