"""Anthropic Messages ↔ IR, requests, responses and streams (docs/wire.md#anthropic; ``providers.types.ir``).

Same-dialect round trips are exact: every wire field the IR has no slot for, every explicit ``null`` and
every field the writer would otherwise add by default is kept in the IR object's ``vendor["anthropic"]``
and restored on the way back. Two conventions make that work:

- *Leftovers.* ``vendor["anthropic"]`` of an IR object is its entry in the layout of
  ``providers.convert.leftovers``: ``rest`` holds the JSON of the wire fields its IR object does not carry
  (unknown fields, known-but-unmapped fields such as ``stop_details``, explicit nulls), which writing back
  adds after the fields built from the IR, never over them; ``absent`` lists fields that were absent and
  that the writer would otherwise add (a thinking block's ``signature``, a custom tool's
  ``input_schema``); a request's ``server_tools`` fact keeps server tools with their positions (the IR has
  no server-tool concept, so other dialects never see them).
- *Native objects.* A ``Message``, ``ToolChoice`` or ``Thinking`` whose ``vendor`` has an ``"anthropic"``
  entry (possibly empty) was read from Anthropic and is written back verbatim. Objects from other dialects
  are adapted to what the Messages API accepts: leading system/developer messages fold into ``system``, a
  later one becomes a user message, ``tool`` messages become user messages of ``tool_result`` blocks and
  adjacent ones are coalesced (parallel results must share one user turn, tool_result blocks first),
  unsigned reasoning and empty text blocks are dropped (the API rejects them), and reasoning settings
  become a thinking budget (``EFFORT_BUDGETS``) clamped into the API's range.

Tool-call arguments are JSON text in the IR and an object on this wire: they are parsed on the way out, and
text that is not a JSON object raises (``invalid_request`` for a request, ``decode`` for a response); an
empty string stands for ``{}``. ``max_tokens`` is required here: an IR request without one gets
``DEFAULT_MAX_TOKENS``. Usage: IR input = ``input_tokens``, cache read/write = ``cache_read_input_tokens`` /
``cache_creation_input_tokens``, output = ``output_tokens`` minus ``output_tokens_details.thinking_tokens``
when the upstream gives that split (then reasoning = thinking tokens), so output + reasoning is always the
wire's inclusive ``output_tokens``.

Streams: ``StreamToIR`` maps events one to one (``ping`` dropped; a server-tool block is gathered until its
stop and emitted whole, because an IR ``Other`` part takes no deltas). ``StreamFromIR`` writes a stream that
obeys the Messages grammar whatever IR it is fed: ``message_start`` first, one block open at a time with
dense indices (blocks that interleave upstream, such as OpenAI parallel tool-call fragments, are buffered
and replayed in turn), deltas only of the open block's kind, then ``message_delta`` and ``message_stop``.
An IR stream that ends without ``Finish`` was truncated: the open block is closed and no
``message_delta``/``message_stop`` is written, so the client sees the truncation.

Every field that does not survive a translation is listed in ``LOSSY``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from providers.convert import jsontext, leftovers
from providers.convert.dialect import Body, Converters, StreamOptions, parse_body
from providers.convert.tables import EFFORT_BUDGETS, LEDGER, Lossy, stop_from, stop_to
from providers.errors import ProviderError
from providers.types import anthropic as wire
from providers.types import ir

__all__ = ["DEFAULT_MAX_TOKENS", "DIALECT", "ERROR_STATUS", "LOSSY", "NAME", "StreamFromIR", "StreamToIR"]
__all__ += ["request_from_ir", "request_json_from_ir", "request_to_ir"]
__all__ += ["response_from_ir", "response_json_from_ir", "response_to_ir"]

NAME = "anthropic"
#: ``max_tokens`` sent when the IR request has none (the Messages API requires it).
DEFAULT_MAX_TOKENS = 4096
#: Reserved ``vendor["anthropic"]`` keys (meta data, never wire fields).
#: The named fact of a request entry: the server tools, as ``[position, tool]`` (the IR has no server tools).
SERVER_TOOLS = "server_tools"

#: Anthropic error ``type`` → HTTP status (docs.claude.com/en/api/errors), for in-stream errors.
ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_STATUS_ERROR = {status: name for name, status in ERROR_STATUS.items()}

_CHOICE_IN: dict[str, Any] = {"auto": "auto", "any": "required", "tool": "tool", "none": "none"}
_CHOICE_OUT = {"auto": "auto", "required": "any", "tool": "tool", "none": "none"}
_THINKING_MODES: dict[str, Literal["enabled", "disabled", "adaptive"]] = {
    "enabled": "enabled",
    "disabled": "disabled",
    "adaptive": "adaptive",
}
_DISPLAY_IN = {"summarized": True, "omitted": False}
_EFFORTS_OUT = {
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "max",
}
_MIN_BUDGET = 1024
_SYSTEM_ROLES = frozenset({"system", "developer"})
#: Citation shapes of other dialects (an OpenAI annotation; Gemini citation sources have no ``type``):
#: the Messages API and its SDK reject them, so they are dropped. Every Anthropic citation has a ``type``.
_FOREIGN_CITATIONS = frozenset({"url_citation", "file_citation", "file_path"})
_DELTA_USAGE_SKIP = frozenset({"service_tier", "inference_geo", "speed", "cache_creation"})

#: The wire fields of each wire object that its IR object carries (consumed): everything else of the
#: object is kept in its leftovers (``providers.convert.leftovers``), and so are consumed fields given as
#: explicit ``null``.
_CONSUMED: dict[str, frozenset[str]] = {
    "request": frozenset(
        {
            "model", "max_tokens", "messages", "system", "stop_sequences", "stream", "temperature", "top_p",
            "top_k", "metadata", "tools", "tool_choice", "thinking", "output_config",
        }
    ),
    "metadata": frozenset({"user_id"}),
    "message": frozenset({"role", "content"}),
    "text": frozenset({"type", "text", "cache_control", "citations"}),
    "image": frozenset({"type", "source", "cache_control"}),
    "document": frozenset({"type", "source", "title", "cache_control"}),
    "source": frozenset({"type", "media_type", "data", "url", "file_id"}),
    "tool_use": frozenset({"type", "id", "name", "input", "cache_control"}),
    "tool_result": frozenset({"type", "tool_use_id", "content", "is_error", "cache_control"}),
    "thinking_block": frozenset({"type", "thinking", "signature"}),
    "redacted_thinking": frozenset({"type", "data"}),
    "tool": frozenset({"name", "description", "input_schema", "cache_control", "strict"}),
    "tool_choice": frozenset({"type", "name", "disable_parallel_tool_use"}),
    "thinking": frozenset({"type", "budget_tokens", "display"}),
    "output_config": frozenset({"effort", "format"}),
    "response": frozenset({"id", "type", "role", "content", "model", "stop_reason", "stop_sequence", "usage"}),
    "usage": frozenset(
        {
            "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
            "output_tokens_details",
        }
    ),
    "output_tokens_details": frozenset({"thinking_tokens"}),
    "message_start": frozenset({"id", "model", "usage", "content"}),
    "message_delta": frozenset({"stop_reason", "stop_sequence"}),
}  # fmt: skip


# --- small helpers ---------------------------------------------------------------------------------


_dumps = jsontext.encoder(allow_nan=True)


def _omitted(vendor: ir.Vendor, name: str) -> bool:
    """Whether the wire object had no ``name`` (absent, or a kept value the writer must not replace)."""
    entry = vendor.get(NAME)
    return name in leftovers.rest(entry) or leftovers.is_absent(entry, name)


def _cache(value: wire.CacheControl | None) -> dict[str, Any] | None:
    return value.to_json() if value is not None else None


def _plain_text(parts: list[ir.Part]) -> str | None:
    """The text of a content list that a bare string can stand for (one Text with nothing else), else None."""
    if len(parts) == 1:
        part = parts[0]
        if (
            isinstance(part, ir.Text)
            and part.cache_control is None
            and part.citations is None
            and NAME not in part.vendor
        ):
            return part.text
    return None


def _citations(citations: list[Any]) -> list[Any]:
    kept = []
    for citation in citations:
        kind = citation.get("type") if isinstance(citation, dict) else None
        if isinstance(kind, str) and kind not in _FOREIGN_CITATIONS:
            kept.append(citation)
    return kept


def _tool_input(call: ir.ToolCall, error: Any) -> dict[str, Any]:
    text = call.arguments
    try:
        # call.input, with the JSON scanner called directly (this runs for every call written)
        value = jsontext.decode(text) if text.strip() else {}
    except ValueError:
        raise error(
            f"tool call {call.id!r} ({call.name}): arguments are not valid JSON: {call.arguments[:120]!r}"
        ) from None
    if not isinstance(value, dict):
        raise error(
            f"tool call {call.id!r} ({call.name}): arguments are JSON but not an object: {call.arguments[:120]!r}"
        )
    return value


# --- content: wire → IR ----------------------------------------------------------------------------


def _source_type(data: Any, url: Any, file_id: Any, media_type: str | None, *, document: bool) -> str | None:
    """The source ``type`` the writer picks for these IR fields."""
    if data is not None:
        return "text" if document and media_type is not None and media_type.startswith("text/") else "base64"
    if url is not None:
        return "url"
    if file_id is not None:
        return "file"
    return None


def _media_part(block: Any, *, document: bool) -> ir.Part:
    source: wire.Source = block.source
    kinds = ("base64", "url", "file", "text") if document else ("base64", "url", "file")
    if source.type not in kinds:
        return ir.Other(dialect=NAME, data=block.to_json())
    data = source.data
    if source.type == "text" and data is not None:
        data = base64.b64encode(data.encode("utf-8")).decode("ascii")
    source_left = leftovers.unconsumed(source, _CONSUMED["source"], keep_nulls=True)
    if source.type != _source_type(data, source.url, source.file_id, source.media_type, document=document):
        source_left["type"] = source.type
    left = leftovers.unconsumed(
        block, _CONSUMED["document"] if document else _CONSUMED["image"], keep_nulls=True
    )
    if source_left:
        left["source"] = source_left
    if document:
        return ir.File(
            data=data,
            media_type=source.media_type,
            url=source.url,
            file_id=source.file_id,
            filename=block.title,
            cache_control=_cache(block.cache_control),
            vendor=leftovers.packed(NAME, left),
        )
    return ir.Image(
        url=source.url,
        data=data,
        media_type=source.media_type,
        file_id=source.file_id,
        cache_control=_cache(block.cache_control),
        vendor=leftovers.packed(NAME, left),
    )


def _part(block: Any) -> ir.Part:
    """One content block as an IR part."""
    kind = type(block)
    if kind is wire.TextBlock:
        return ir.Text(
            text=block.text,
            cache_control=_cache(block.cache_control),
            citations=block.citations,
            vendor=leftovers.packed(NAME, leftovers.unconsumed(block, _CONSUMED["text"], keep_nulls=True)),
        )
    if kind is wire.ToolUseBlock:
        return ir.ToolCall(
            id=block.id,
            name=block.name,
            arguments=_dumps(block.input),
            cache_control=_cache(block.cache_control),
            vendor=leftovers.packed(
                NAME, leftovers.unconsumed(block, _CONSUMED["tool_use"], keep_nulls=True)
            ),
        )
    if kind is wire.ToolResultBlock:
        left = leftovers.unconsumed(block, _CONSUMED["tool_result"], keep_nulls=True)
        absent = None
        content = block.content
        shorthand = isinstance(content, str)
        if shorthand:
            parts: list[ir.Part] = [ir.Text(text=content)]
        elif content is None:
            parts = []
            if "content" not in block.__pydantic_fields_set__:
                absent = ["content"]
        else:
            parts = [_part(item) for item in content]
        return ir.ToolResult(
            call_id=block.tool_use_id,
            content=parts,
            is_error=block.is_error,
            shorthand=shorthand,
            cache_control=_cache(block.cache_control),
            vendor=leftovers.packed(NAME, left, absent=absent),
        )
    if kind is wire.ThinkingBlock:
        left = leftovers.unconsumed(block, _CONSUMED["thinking_block"], keep_nulls=True)
        absent = None if "signature" in block.__pydantic_fields_set__ else ["signature"]
        return ir.Reasoning(
            text=block.thinking, signature=block.signature, vendor=leftovers.packed(NAME, left, absent=absent)
        )
    if kind is wire.RedactedThinkingBlock:
        return ir.Reasoning(
            redacted=block.data,
            vendor=leftovers.packed(
                NAME, leftovers.unconsumed(block, _CONSUMED["redacted_thinking"], keep_nulls=True)
            ),
        )
    if kind is wire.ImageBlock:
        return _media_part(block, document=False)
    if kind is wire.DocumentBlock:
        return _media_part(block, document=True)
    return ir.Other(dialect=NAME, data=block.to_json())


def _parts(content: str | list[Any]) -> tuple[list[ir.Part], bool]:
    if isinstance(content, str):
        return [ir.Text(text=content)], True
    return [_part(block) for block in content], False


# --- content: IR → wire ----------------------------------------------------------------------------


def _media_block(part: ir.Image | ir.File, error: Any, *, document: bool) -> dict[str, Any]:
    left = leftovers.rest_of(part.vendor, NAME)
    source_left = left.get("source") or {}
    data, media_type, url = part.data, part.media_type, part.url
    if url is not None and data is None and url.startswith("data:") and ";base64," in url:
        head, _, data = url.partition(",")  # a data URL from another dialect: inline base64
        media_type = media_type or head[5:].split(";", 1)[0] or None
        url = None
    kind = source_left.get("type") or _source_type(data, url, part.file_id, media_type, document=document)
    if kind == "text" and data is not None:
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            kind = "base64" if "type" not in source_left else kind
    if kind is None:
        what = "document" if document else "image"
        raise error(f"an {what} with no data, URL or file id cannot be an Anthropic {what} block")
    source: dict[str, Any] = {"type": kind}
    if media_type is not None:
        source["media_type"] = media_type
    if data is not None:
        source["data"] = data
    if url is not None:
        source["url"] = url
    if part.file_id is not None:
        source["file_id"] = part.file_id
    block: dict[str, Any] = {
        "type": "document" if document else "image",
        "source": leftovers.rest_after(source, source_left),
    }
    if isinstance(part, ir.File) and part.filename is not None:
        block["title"] = part.filename
    if part.cache_control is not None:
        block["cache_control"] = part.cache_control
    return leftovers.rest_after(block, left)


def _block(part: ir.Part, error: Any) -> dict[str, Any] | None:
    """One IR part as a content block dict, or None when the Messages API has no place for it."""
    left = leftovers.rest_of(part.vendor, NAME)
    if isinstance(part, ir.Text):
        block: dict[str, Any] = {"type": "text", "text": part.text}
        if part.cache_control is not None:
            block["cache_control"] = part.cache_control
        if part.citations is not None:
            block["citations"] = _citations(part.citations)
        return leftovers.rest_after(block, left)
    if isinstance(part, ir.ToolCall):
        block = {"type": "tool_use", "id": part.id, "name": part.name, "input": _tool_input(part, error)}
        if part.cache_control is not None:
            block["cache_control"] = part.cache_control
        return leftovers.rest_after(block, left)
    if isinstance(part, ir.ToolResult):
        block = {"type": "tool_result", "tool_use_id": part.call_id}
        text = _plain_text(part.content) if part.shorthand else None
        if text is not None:
            block["content"] = text
        elif part.content or not _omitted(part.vendor, "content"):
            block["content"] = [b for b in (_block(p, error) for p in part.content) if b is not None]
        if part.is_error is not None:
            block["is_error"] = part.is_error
        if part.cache_control is not None:
            block["cache_control"] = part.cache_control
        return leftovers.rest_after(block, left)
    if isinstance(part, ir.Reasoning):
        if part.redacted is not None:
            return leftovers.rest_after({"type": "redacted_thinking", "data": part.redacted}, left)
        block = {"type": "thinking", "thinking": part.text}
        if part.signature is not None:
            block["signature"] = part.signature
        elif not _omitted(part.vendor, "signature"):
            block["signature"] = ""
        return leftovers.rest_after(block, left)
    if isinstance(part, ir.Image):
        return _media_block(part, error, document=False)
    if isinstance(part, ir.File):
        return _media_block(part, error, document=True)
    if isinstance(part, ir.Other) and part.dialect == NAME:
        return dict(part.data)
    return None  # Audio, or a part only another dialect understands


# --- request ---------------------------------------------------------------------------------------


def request_to_ir(req: wire.MessagesRequest) -> ir.Request:
    """A Messages request as an IR request; ``request_from_ir`` gives the same JSON back."""
    left = leftovers.unconsumed(req, _CONSUMED["request"], keep_nulls=True)
    out = ir.Request(
        model=req.model,
        max_tokens=req.max_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        top_k=req.top_k,
        stop=req.stop_sequences,
    )
    if req.stream:
        out.stream = True
    elif "stream" in req.__pydantic_fields_set__:
        left["stream"] = req.stream
    if req.system is not None:
        out.system, out.system_shorthand = _parts(req.system)
    messages = []
    message_fields = _CONSUMED["message"]
    for message in req.messages:
        content = message.content
        if isinstance(content, str):  # _parts, inline: this runs for every turn
            parts: list[ir.Part] = [ir.Text(text=content)]
        else:
            parts = [_part(block) for block in content]
        if message.__pydantic_fields_set__ == message_fields:  # both are required and never null
            vendor: ir.Vendor = {NAME: {}}  # nothing left over: the common turn
        else:
            vendor = leftovers.packed(
                NAME, leftovers.unconsumed(message, message_fields, keep_nulls=True), native=True
            )
        messages.append(
            ir.Message(role=message.role, content=parts, shorthand=isinstance(content, str), vendor=vendor)
        )
    out.messages = messages
    if req.metadata is not None:
        meta_left = leftovers.unconsumed(req.metadata, _CONSUMED["metadata"], keep_nulls=True)
        out.user = req.metadata.user_id
        if meta_left or out.user is None:
            left["metadata"] = meta_left
    server_tools = None
    if req.tools is not None:
        tools: list[ir.Tool] = []
        server: list[list[Any]] = []
        tool_fields = _CONSUMED["tool"]
        for position, tool in enumerate(req.tools):
            if tool.name is None or tool.type not in (None, "custom"):
                server.append([position, tool.to_json()])
                continue
            tool_left = leftovers.unconsumed(tool, tool_fields, keep_nulls=True)
            absent = None if "input_schema" in tool.__pydantic_fields_set__ else ["input_schema"]
            cache = tool.cache_control
            tools.append(
                ir.Tool(
                    name=tool.name,
                    description=tool.description,
                    parameters=tool.input_schema,
                    strict=tool.strict,
                    cache_control=cache.to_json() if cache is not None else None,  # _cache, inline
                    vendor=leftovers.packed(NAME, tool_left, absent=absent),
                )
            )
        if tools or not server:
            out.tools = tools
        if server:
            server_tools = server
    choice = req.tool_choice
    if choice is not None:
        mode = _CHOICE_IN.get(choice.type)
        if mode is None:
            left["tool_choice"] = choice.to_json()
        else:
            out.tool_choice = ir.ToolChoice(
                mode=mode,
                name=choice.name,
                vendor=leftovers.packed(
                    NAME, leftovers.unconsumed(choice, _CONSUMED["tool_choice"], keep_nulls=True), native=True
                ),
            )
            if choice.disable_parallel_tool_use is not None:
                out.parallel_tool_calls = not choice.disable_parallel_tool_use
    _thinking_to_ir(req, out, left)
    out.vendor = leftovers.packed(NAME, left)
    if server_tools:
        out.vendor.setdefault(NAME, {})[SERVER_TOOLS] = server_tools
    return out


def _thinking_to_ir(req: wire.MessagesRequest, out: ir.Request, left: dict[str, Any]) -> None:
    config, output = req.thinking, req.output_config
    effort = output.effort if output is not None else None
    if output is not None:
        output_left = leftovers.unconsumed(output, _CONSUMED["output_config"], keep_nulls=True)
        fmt = output.format
        if fmt is not None and fmt.get("type") == "json_schema":
            out.response_format = fmt
        elif fmt is not None:
            output_left["format"] = fmt
        left["output_config"] = output_left
    if config is None and effort is None:
        return
    thinking = ir.Thinking(effort=effort, vendor=leftovers.packed(NAME, {}, native=True))
    if config is not None:
        config_left = leftovers.unconsumed(config, _CONSUMED["thinking"], keep_nulls=True)
        mode = _THINKING_MODES.get(config.type)
        if mode is not None:
            thinking.mode = mode
        else:
            config_left["type"] = config.type
        thinking.budget_tokens = config.budget_tokens
        if config.display is not None:
            thinking.include_thoughts = _DISPLAY_IN.get(config.display)
            if thinking.include_thoughts is None:
                config_left["display"] = config.display
        thinking.vendor[NAME] = {leftovers.REST: config_left} if config_left else {}
    out.thinking = thinking


def request_from_ir(request: ir.Request) -> wire.MessagesRequest:
    """An IR request as a Messages request (raises ``invalid_request`` for tool arguments that are not a
    JSON object)."""
    return wire.MessagesRequest.model_validate(request_json_from_ir(request))


def request_json_from_ir(request: ir.Request) -> dict[str, Any]:
    """:func:`request_from_ir` as wire JSON, built without validating it again (the converters' output is
    proven valid by the tests): what a gateway that forwards bytes needs."""
    left = leftovers.rest_of(request.vendor, NAME)
    server_tools = (request.vendor.get(NAME) or {}).get(SERVER_TOOLS) or []
    error = ProviderError.invalid_request
    out: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS,
    }
    system, messages = _messages_from_ir(request, error)
    out["messages"] = messages
    if system is not None:
        out["system"] = system
    if request.stop is not None:
        out["stop_sequences"] = request.stop
    if request.stream:
        out["stream"] = True
    if request.temperature is not None:
        out["temperature"] = request.temperature
    if request.top_p is not None:
        out["top_p"] = request.top_p
    if request.top_k is not None:
        out["top_k"] = _integer_top_k(request.top_k)
    if request.user is not None:
        meta = left.get("metadata")
        out["metadata"] = {**(meta if isinstance(meta, dict) else {}), "user_id": request.user}
    tools = _tools_from_ir(request, server_tools)
    if tools is not None:
        out["tools"] = tools
    choice = _choice_from_ir(request, left, server_tools)
    if choice is not None:
        out["tool_choice"] = choice
    _thinking_from_ir(request, out, left)
    return leftovers.rest_after(out, left)


def _integer_top_k(value: Any) -> int:
    """Gemini's topK is a number; Anthropic's top_k an integer: 40.0 is sent as 40, 0.5 is refused."""
    if isinstance(value, float):
        if not value.is_integer():
            raise ProviderError.invalid_request(f"top_k {value} is not an integer, which Anthropic requires")
        return int(value)
    return value


def _messages_from_ir(request: ir.Request, error: Any) -> tuple[Any, list[dict[str, Any]]]:
    messages = request.messages
    lead = 0
    while lead < len(messages) and messages[lead].role in _SYSTEM_ROLES and NAME not in messages[lead].vendor:
        lead += 1
    system = _system_from_ir(request, messages[:lead], error)
    out: list[dict[str, Any]] = []
    tool_results_last = False  # the last message written is an adapted user turn of tool_result blocks only
    for message in messages[lead:]:
        native = message.vendor.get(NAME)
        if native is not None:
            text = _plain_text(message.content) if message.shorthand else None
            content: Any = text if text is not None else [_block(p, error) for p in message.content]
            if text is None:
                content = [b for b in content if b is not None]
            out.append(
                leftovers.rest_after({"role": message.role, "content": content}, leftovers.rest(native))
            )
            tool_results_last = False
            continue
        role = "assistant" if message.role == "assistant" else "user"
        text = _plain_text(message.content) if message.shorthand else None
        if text is not None:
            if text:  # the API rejects an empty turn
                out.append({"role": role, "content": text})
                tool_results_last = False
            continue
        blocks = []
        for part in message.content:  # a turn of plain texts only: text blocks, written directly
            if type(part) is not ir.Text or part.cache_control is not None or part.citations is not None:
                break
            if NAME in part.vendor:
                break
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        else:  # no block to drop but empty ones, none to reorder or merge
            if blocks:
                out.append({"role": role, "content": blocks})
                tool_results_last = False
            continue
        blocks = []
        for part in message.content:
            if isinstance(part, ir.Reasoning) and part.signature is None and part.redacted is None:
                continue  # unsigned reasoning (OpenAI reasoning_content): the API rejects it
            if isinstance(part, ir.Text) and not part.text:
                continue  # the API rejects empty text blocks
            block = _block(part, error)
            if block is not None:
                blocks.append(block)
        if not blocks:
            continue
        if role == "user":  # tool_result blocks must come first in their user turn
            blocks.sort(key=lambda b: b.get("type") != "tool_result")
        only_results = role == "user" and all(b.get("type") == "tool_result" for b in blocks)
        if only_results and tool_results_last:
            out[-1]["content"].extend(blocks)
            continue
        out.append({"role": role, "content": blocks})
        tool_results_last = only_results
    return system, out


def _system_from_ir(request: ir.Request, lead: list[ir.Message], error: Any) -> Any:
    if request.system is None and not lead:
        return None
    parts = list(request.system or [])
    for message in lead:
        parts.extend(message.content)
    shorthand = (
        request.system_shorthand
        if not lead
        else (request.system is None and len(lead) == 1 and lead[0].shorthand)
    )
    if shorthand:
        text = _plain_text(parts)
        if text is not None:
            return text
    blocks = []
    for part in parts:
        if lead and isinstance(part, ir.Text) and not part.text:
            continue
        block = _block(part, error)
        if block is not None:
            blocks.append(block)
    return blocks


def _tools_from_ir(request: ir.Request, server: list[Any]) -> list[dict[str, Any]] | None:
    if request.tools is None and not server:
        return None
    tools = []
    for tool in request.tools or []:
        tool_left = leftovers.rest_of(tool.vendor, NAME)
        out: dict[str, Any] = {"name": tool.name}
        if tool.description is not None:
            out["description"] = tool.description
        if tool.parameters is not None:
            out["input_schema"] = tool.parameters
        elif not _omitted(tool.vendor, "input_schema"):
            out["input_schema"] = {"type": "object", "properties": {}}
        if tool.strict is not None:
            out["strict"] = tool.strict
        if tool.cache_control is not None:
            out["cache_control"] = tool.cache_control
        tools.append(leftovers.rest_after(out, tool_left))
    return leftovers.insert_at(tools, server)


def _choice_from_ir(request: ir.Request, left: dict[str, Any], server: list[Any]) -> dict[str, Any] | None:
    choice = request.tool_choice
    parallel = request.parallel_tool_calls
    if choice is None:
        if parallel is False and (request.tools or server) and "tool_choice" not in left:
            return {"type": "auto", "disable_parallel_tool_use": True}
        return None
    native = choice.vendor.get(NAME)
    out: dict[str, Any] = {"type": _CHOICE_OUT[choice.mode]}
    if choice.name is not None:
        out["name"] = choice.name
    if parallel is not None and (native is not None or out["type"] != "none"):
        out["disable_parallel_tool_use"] = not parallel
    return leftovers.rest_after(out, leftovers.rest(native))


def _thinking_from_ir(request: ir.Request, out: dict[str, Any], left: dict[str, Any]) -> None:
    thinking = request.thinking
    output: dict[str, Any] = {}
    if request.response_format is not None:
        fmt = request.response_format
        if isinstance(fmt.get("json_schema"), dict):  # OpenAI's shape
            fmt = {"type": "json_schema", "schema": fmt["json_schema"].get("schema", {})}
        if fmt.get("type") == "json_schema":
            output["format"] = fmt
    if thinking is not None:
        native = thinking.vendor.get(NAME)
        if native is not None:
            config: dict[str, Any] = {}
            if thinking.mode is not None:
                config["type"] = thinking.mode
            if thinking.budget_tokens is not None:
                config["budget_tokens"] = thinking.budget_tokens
            if thinking.include_thoughts is not None:
                config["display"] = "summarized" if thinking.include_thoughts else "omitted"
            if config or native:
                out["thinking"] = leftovers.rest_after(config, leftovers.rest(native))
            if thinking.effort is not None:
                output["effort"] = thinking.effort
        else:
            _adapt_thinking(thinking, out, output)
    output_left = left.get("output_config", ...)
    if output or (output_left is not ... and output_left is not None):
        out["output_config"] = leftovers.rest_after(
            output, output_left if isinstance(output_left, dict) else None
        )


def _adapt_thinking(thinking: ir.Thinking, out: dict[str, Any], output: dict[str, Any]) -> None:
    """Reasoning settings from another dialect as a thinking config the API accepts."""
    mode, budget, effort = thinking.mode, thinking.budget_tokens, thinking.effort
    if mode is None and budget is not None:
        mode = "disabled" if budget == 0 else "adaptive" if budget < 0 else "enabled"
    if mode is None and effort is not None:
        mode = "disabled" if effort == "none" else "enabled"
    if mode is None:
        return
    config: dict[str, Any] = {"type": mode}
    if mode == "enabled":
        if budget is None or budget <= 0:
            budget = EFFORT_BUDGETS.get(effort or "", _MIN_BUDGET)
        budget = max(budget, _MIN_BUDGET)
        max_tokens = out["max_tokens"]
        if max_tokens <= _MIN_BUDGET:
            # The caller's cap counts reasoning too (OpenAI max_completion_tokens); Anthropic needs a
            # budget of at least 1024 below max_tokens, so thinking cannot fit: the cap wins, thinking
            # stays off rather than the cap being raised.
            return
        config["budget_tokens"] = min(budget, max_tokens - 1)
    if mode != "disabled" and thinking.include_thoughts is not None:
        config["display"] = "summarized" if thinking.include_thoughts else "omitted"
    out["thinking"] = config
    if mode == "adaptive" and effort in _EFFORTS_OUT:
        output["effort"] = _EFFORTS_OUT[effort]


# --- response --------------------------------------------------------------------------------------


def response_to_ir(resp: wire.MessagesResponse) -> ir.Response:
    """A Messages reply as an IR response; ``response_from_ir`` gives the same JSON back."""
    left = leftovers.unconsumed(resp, _CONSUMED["response"], keep_nulls=True)
    given = resp.__pydantic_fields_set__
    omit = [name for name in ("type", "role", "stop_reason", "stop_sequence") if name not in given]
    if "type" in given and resp.type != "message":
        left["type"] = resp.type
    if "role" in given and resp.role != "assistant":
        left["role"] = resp.role
    stop = None
    if resp.stop_reason is not None:
        stop = stop_from(NAME, resp.stop_reason, sequence=resp.stop_sequence)
    elif resp.stop_sequence is not None:
        left["stop_sequence"] = resp.stop_sequence
    return ir.Response(
        id=resp.id,
        model=resp.model,
        content=[_part(block) for block in resp.content],
        stop=stop,
        usage=_usage_to_ir(resp.usage),
        vendor=leftovers.packed(NAME, left, absent=omit),
    )


def response_from_ir(response: ir.Response) -> wire.MessagesResponse:
    """An IR response as a Messages reply (raises ``decode`` for tool arguments that are not a JSON object)."""
    return wire.MessagesResponse.model_validate(response_json_from_ir(response))


def response_json_from_ir(response: ir.Response) -> dict[str, Any]:
    """:func:`response_from_ir` as wire JSON, built without validating it again."""
    left = leftovers.rest_of(response.vendor, NAME)
    omit = (response.vendor.get(NAME) or {}).get(leftovers.ABSENT, ())
    content = [
        block
        for block in (_block(part, ProviderError.decode) for part in response.content)
        if block is not None
    ]
    out: dict[str, Any] = {"id": response.id}
    if "type" not in omit:
        out["type"] = left.get("type", "message")
    if "role" not in omit:
        out["role"] = left.get("role", "assistant")
    out["content"] = content
    out["model"] = response.model
    if response.stop is not None:
        out["stop_reason"] = _stop_word(
            response.stop, any(block.get("type") == "tool_use" for block in content)
        )
        if "stop_sequence" not in omit:
            out["stop_sequence"] = response.stop.sequence
    else:
        if "stop_reason" not in omit:
            out["stop_reason"] = None
        if "stop_sequence" not in omit and "stop_sequence" not in left:
            out["stop_sequence"] = None
    out["usage"] = _usage_from_ir(response.usage, delta=False)
    return leftovers.rest_after(out, left)


def _stop_word(stop: ir.Stop, tool_used: bool) -> str:
    word = stop_to(NAME, stop)
    if tool_used and stop.dialect != NAME and stop.reason in ("end_turn", "other"):
        return "tool_use"  # bifrost#6123: a turn with tool calls ends in tool_use
    return word or "end_turn"


def _usage_to_ir(usage: wire.Usage | wire.MessageDeltaUsage) -> ir.Usage:
    left = leftovers.unconsumed(usage, _CONSUMED["usage"], keep_nulls=True)
    output, reasoning = usage.output_tokens, None
    details = usage.output_tokens_details
    if details is not None:
        details_left = leftovers.unconsumed(details, _CONSUMED["output_tokens_details"], keep_nulls=True)
        if details.thinking_tokens is not None:
            reasoning = details.thinking_tokens
            output = output - reasoning
        if details_left or reasoning is None:
            left["output_tokens_details"] = details_left
    return ir.Usage(
        input_tokens=usage.input_tokens,
        output_tokens=output,
        cache_read_tokens=usage.cache_read_input_tokens,
        cache_write_tokens=usage.cache_creation_input_tokens,
        reasoning_tokens=reasoning,
        vendor=leftovers.packed(NAME, left),
    )


def _usage_from_ir(usage: ir.Usage | None, *, delta: bool) -> dict[str, Any]:
    if usage is None:
        return {"output_tokens": 0} if delta else {"input_tokens": 0, "output_tokens": 0}
    left = leftovers.rest_of(usage.vendor, NAME)
    out: dict[str, Any] = {}
    if usage.input_tokens is not None or not delta:
        out["input_tokens"] = usage.input_tokens or 0
    out["output_tokens"] = (usage.output_tokens or 0) + (usage.reasoning_tokens or 0)
    if usage.cache_write_tokens is not None:
        out["cache_creation_input_tokens"] = usage.cache_write_tokens
    if usage.cache_read_tokens is not None:
        out["cache_read_input_tokens"] = usage.cache_read_tokens
    if usage.reasoning_tokens is not None:
        details = left.get("output_tokens_details")
        out["output_tokens_details"] = {
            **(details if isinstance(details, dict) else {}),
            "thinking_tokens": usage.reasoning_tokens,
        }
    if delta:
        left = {k: v for k, v in left.items() if k not in _DELTA_USAGE_SKIP}
    return leftovers.rest_after(out, left)


def _merge_usage(start: ir.Usage | None, update: ir.Usage) -> ir.Usage:
    """Cumulative usage: the update's counts, and the start's where the update says nothing."""
    if start is None:
        return update
    vendor = {**leftovers.rest_of(start.vendor, NAME), **leftovers.rest_of(update.vendor, NAME)}
    return ir.Usage(
        input_tokens=update.input_tokens if update.input_tokens is not None else start.input_tokens,
        output_tokens=update.output_tokens if update.output_tokens is not None else start.output_tokens,
        cache_read_tokens=update.cache_read_tokens
        if update.cache_read_tokens is not None
        else start.cache_read_tokens,
        cache_write_tokens=update.cache_write_tokens
        if update.cache_write_tokens is not None
        else start.cache_write_tokens,
        reasoning_tokens=update.reasoning_tokens,
        vendor=leftovers.packed(NAME, vendor),
    )


# --- stream: wire → IR -----------------------------------------------------------------------------


class StreamToIR:
    """Anthropic stream events → IR stream events.

    ``skipped`` counts events the IR cannot hold (unknown event or delta types, deltas for a block that
    was never started, anything after ``message_stop``); ``remapped`` counts ``content_block_start``
    events whose upstream index was not the next dense index (the IR index is then the dense one).
    """

    def __init__(self) -> None:
        self.skipped = 0
        self.remapped = 0
        self._index: dict[int, int] = {}  # upstream block index → IR index
        self._next = 0
        self._start_usage: ir.Usage | None = None
        self._gathering: dict[int, tuple[dict[str, Any], list[str]]] = {}  # IR index → (Other data, json)
        self._ended = False

    def feed(self, item: Any) -> list[ir.StreamEvent]:
        if isinstance(item, dict | bytes | str):
            item = wire.parse_stream_event(item)
        if self._ended:
            self.skipped += 1
            return []
        kind = type(item)
        if kind is wire.ContentBlockDelta:
            return self._delta(item)
        if kind is wire.ContentBlockStart:
            return self._block_start(item)
        if kind is wire.ContentBlockStop:
            index = self._index.get(item.index)
            if index is None:
                self.skipped += 1
                return []
            gathered = self._gathering.pop(index, None)
            if gathered is not None:
                data, fragments = gathered
                text = "".join(fragments)
                if text.strip():
                    try:
                        data["input"] = json.loads(text)
                    except ValueError:
                        self.skipped += 1
                return [
                    ir.BlockStart(index=index, part=ir.Other(dialect=NAME, data=data)),
                    ir.BlockStop(index=index),
                ]
            return [ir.BlockStop(index=index)]
        if kind is wire.MessageStart:
            message = item.message
            usage = _usage_to_ir(message.usage)
            self._start_usage = usage
            return [
                ir.MessageStart(
                    id=message.id,
                    model=message.model,
                    usage=usage,
                    vendor=leftovers.packed(
                        NAME, leftovers.unconsumed(message, _CONSUMED["message_start"], keep_nulls=True)
                    ),
                ),
                ir.UsageUpdate(usage=usage),
            ]
        if kind is wire.MessageDelta:
            out: list[ir.StreamEvent] = [
                ir.UsageUpdate(usage=_merge_usage(self._start_usage, _usage_to_ir(item.usage)))
            ]
            delta = item.delta
            stop = stop_from(NAME, delta.stop_reason, sequence=delta.stop_sequence)
            if stop is not None:
                out.append(
                    ir.Finish(
                        stop=stop,
                        vendor=leftovers.packed(
                            NAME, leftovers.unconsumed(delta, _CONSUMED["message_delta"], keep_nulls=True)
                        ),
                    )
                )
            return out
        if kind is wire.MessageStop:
            self._ended = True
            return [ir.End()]
        if kind is wire.Ping:
            return []
        if kind is wire.ErrorEvent:
            self._ended = True
            error = item.error
            return [
                ir.StreamError(
                    status=ERROR_STATUS.get(error.type),
                    error_type=error.type,
                    message=error.message,
                    body=item.to_json(),
                )
            ]
        self.skipped += 1
        return []

    def close(self) -> list[ir.StreamEvent]:
        """Nothing is owed: Anthropic streams close their own blocks. A stream cut before ``message_stop``
        simply has no ``End`` (and an open block stays open), so the consumer can tell it was truncated."""
        return []

    def _block_start(self, item: wire.ContentBlockStart) -> list[ir.StreamEvent]:
        index = self._next
        self._next += 1
        if item.index != index:
            self.remapped += 1
        self._index[item.index] = index
        block = item.content_block
        kind = type(block)
        if kind is wire.ToolUseBlock:
            part: ir.Part = ir.ToolCall(
                id=block.id,
                name=block.name,
                arguments=_dumps(block.input) if block.input else "",
                cache_control=_cache(block.cache_control),
                vendor=leftovers.packed(
                    NAME, leftovers.unconsumed(block, _CONSUMED["tool_use"], keep_nulls=True)
                ),
            )
        else:
            part = _part(block)
            if isinstance(part, ir.Other):
                self._gathering[index] = (part.data, [])
                return []
        return [ir.BlockStart(index=index, part=part)]

    def _delta(self, item: wire.ContentBlockDelta) -> list[ir.StreamEvent]:
        index = self._index.get(item.index)
        delta = item.delta
        kind = type(delta)
        if index is None:
            self.skipped += 1
            return []
        gathered = self._gathering.get(index)
        if gathered is not None:
            if kind is wire.InputJsonDelta:
                gathered[1].append(delta.partial_json)
            else:
                self.skipped += 1
            return []
        if kind is wire.TextDelta:
            return [ir.BlockDelta(index=index, text=delta.text)]
        if kind is wire.InputJsonDelta:
            return [ir.BlockDelta(index=index, arguments=delta.partial_json)]
        if kind is wire.ThinkingDelta:
            return [ir.BlockDelta(index=index, reasoning=delta.thinking)]
        if kind is wire.SignatureDelta:
            return [ir.BlockDelta(index=index, signature=delta.signature)]
        if kind is wire.CitationsDelta:
            return [ir.BlockDelta(index=index, citation=delta.citation)]
        self.skipped += 1
        return []


# --- stream: IR → wire -----------------------------------------------------------------------------

#: Which IR delta field each wire block type takes (anything else is dropped).
_ACCEPTS: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "citation"}),
    "thinking": frozenset({"reasoning", "signature"}),
    "tool_use": frozenset({"arguments"}),
}
_INPUT_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})


@dataclass(slots=True)
class _Block:
    kind: str | None  # wire block type; None = a part this wire cannot carry (its deltas are dropped)
    start: Any = None  # the content_block_start event that opens it (its index is set when it opens)
    pending: list[ir.BlockDelta] = field(default_factory=list)
    stopped: bool = False
    done: bool = False


class StreamFromIR:
    """IR stream events → Anthropic stream events that obey the Messages grammar, whatever the IR order.

    ``dropped`` counts IR events with no place in the output (a delta for a closed block or of the wrong
    kind, a block of a part this wire cannot carry, anything after the end or after an error).
    ``message_id``/``model`` name the message when the IR stream has no ``MessageStart`` before content.
    Events are built as wire JSON; they are validated into models unless ``as_json`` (for gateways that
    forward bytes: the converter's output is proven valid by the tests).
    """

    def __init__(self, *, message_id: str = "msg_unknown", model: str = "", as_json: bool = False) -> None:
        self._as_json = as_json
        self.dropped = 0
        self._default_id, self._default_model = message_id, model
        self._started = False
        self._done = False
        self._start_usage: ir.Usage | None = None
        self._usage: ir.Usage | None = None
        self._stop: ir.Stop | None = None
        self._finish_left: dict[str, Any] = {}
        self._finished = False
        self._blocks: dict[int, _Block] = {}
        self._open: int | None = None  # IR index of the block open on the wire
        self._wire_index = -1
        self._queue: list[int] = []  # IR indices waiting for their turn
        self._tool_used = False

    # The public face.

    def feed(self, event: ir.StreamEvent) -> list[Any]:
        out = self._feed(event)
        return out if self._as_json else [wire.parse_stream_event(e) for e in out]

    def close(self) -> list[Any]:
        """The IR stream is over. After ``Finish`` the message is completed; without one the stream was
        truncated: open and waiting blocks are closed and no ``message_delta``/``message_stop`` follows."""
        out = self._close()
        return out if self._as_json else [wire.parse_stream_event(e) for e in out]

    def _feed(self, event: ir.StreamEvent) -> list[Any]:
        if self._done:
            self.dropped += 1
            return []
        out: list[Any] = []
        if isinstance(event, ir.BlockDelta):
            self._ensure_started(out)
            self._on_delta(event, out)
        elif isinstance(event, ir.BlockStart):
            self._ensure_started(out)
            self._on_start(event, out)
        elif isinstance(event, ir.BlockStop):
            self._on_stop(event.index, out)
        elif isinstance(event, ir.MessageStart):
            if self._started:
                self.dropped += 1
            else:
                self._start(event, out)
        elif isinstance(event, ir.UsageUpdate):
            self._usage = event.usage
        elif isinstance(event, ir.Finish):
            self._ensure_started(out)
            self._stop = event.stop
            self._finish_left = leftovers.rest_of(event.vendor, NAME)
            self._finished = True
            self._flush(out)
        elif isinstance(event, ir.End):
            self._ensure_started(out)
            self._finish(out)
        elif isinstance(event, ir.StreamError):
            out.append(self._error(event))
            self._done = True
        else:
            self.dropped += 1
        return out

    def _close(self) -> list[Any]:
        if self._done or not self._started:
            self._done = True
            return []
        out: list[Any] = []
        if self._finished:
            self._finish(out)
        else:
            self._flush(out)
            self._done = True
        return out

    # Message level.

    def _ensure_started(self, out: list[Any]) -> None:
        if not self._started:
            self._start(ir.MessageStart(id=self._default_id, model=self._default_model), out)

    def _start(self, event: ir.MessageStart, out: list[Any]) -> None:
        self._started = True
        self._start_usage = event.usage
        left = leftovers.rest_of(event.vendor, NAME)
        message = {
            "id": event.id,
            "type": left.get("type", "message"),
            "role": left.get("role", "assistant"),
            "model": event.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _usage_from_ir(event.usage, delta=False),
        }
        out.append({"type": "message_start", "message": leftovers.rest_after(message, left)})

    def _finish(self, out: list[Any]) -> None:
        self._flush(out)
        stop = self._stop
        if stop is not None:
            word = _stop_word(stop, self._tool_used)
            sequence = stop.sequence
        else:  # ended without a finish reason
            word, sequence = ("tool_use" if self._tool_used else "end_turn"), None
        usage = self._usage
        if usage is None:
            usage = self._start_usage
        elif self._start_usage is not None:
            usage = _merge_usage(self._start_usage, usage)
        out.append(
            {
                "type": "message_delta",
                "delta": leftovers.rest_after(
                    {"stop_reason": word, "stop_sequence": sequence}, self._finish_left
                ),
                "usage": _usage_from_ir(usage, delta=True),
            }
        )
        out.append({"type": "message_stop"})
        self._done = True

    def _error(self, event: ir.StreamError) -> Any:
        body = event.body
        if (
            isinstance(body, dict)
            and body.get("type") == "error"
            and isinstance(body.get("error"), dict)
            and isinstance(body["error"].get("type"), str)
            and isinstance(body["error"].get("message"), str)
        ):
            return body
        error_type = event.error_type or _STATUS_ERROR.get(event.status or 0) or "api_error"
        return {"type": "error", "error": {"type": error_type, "message": event.message}}

    # Blocks.

    def _on_start(self, event: ir.BlockStart, out: list[Any]) -> None:
        index = event.index
        if index in self._blocks:
            self.dropped += 1
            return
        block = self._new_block(event.part)
        self._blocks[index] = block
        if block.kind is None:
            return
        if self._open is None and not self._queue:
            self._open_block(index, block, out)
        else:
            self._queue.append(index)

    def _on_delta(self, event: ir.BlockDelta, out: list[Any]) -> None:
        index = event.index
        block = self._blocks.get(index)
        if block is None:  # a delta with no start: open an implicit text or thinking block
            if event.text is not None:
                self._on_start(ir.BlockStart(index=index, part=ir.Text(text="")), out)
            elif event.reasoning is not None or event.signature is not None:
                self._on_start(ir.BlockStart(index=index, part=ir.Reasoning()), out)
            block = self._blocks.get(index)
            if block is None:
                self.dropped += 1
                return
        if block.kind is None or block.stopped or block.done:
            self.dropped += 1
        elif index == self._open:
            self._emit_delta(block, event, out)
        else:
            block.pending.append(event)

    def _on_stop(self, index: int, out: list[Any]) -> None:
        block = self._blocks.get(index)
        if block is None or block.stopped or block.done:
            self.dropped += 1
            return
        block.stopped = True
        if index == self._open:
            self._close_open(out)
            self._advance(out)

    def _new_block(self, part: ir.Part) -> _Block:
        left = leftovers.rest_of(part.vendor, NAME)
        if isinstance(part, ir.Text):
            start: dict[str, Any] = {"type": "text", "text": ""}
            if part.citations is not None:
                start["citations"] = _citations(part.citations)
            block = _Block("text", self._start_event(leftovers.rest_after(start, left)))
            if part.text:
                block.pending.append(ir.BlockDelta(index=0, text=part.text))
            return block
        if isinstance(part, ir.Reasoning):
            if part.redacted is not None:
                start = leftovers.rest_after({"type": "redacted_thinking", "data": part.redacted}, left)
                return _Block("redacted_thinking", self._start_event(start))
            start = leftovers.rest_after(
                {"type": "thinking", "thinking": "", "signature": part.signature or ""}, left
            )
            block = _Block("thinking", self._start_event(start))
            if part.text:
                block.pending.append(ir.BlockDelta(index=0, reasoning=part.text))
            return block
        if isinstance(part, ir.ToolCall):
            start = leftovers.rest_after(
                {"type": "tool_use", "id": part.id, "name": part.name, "input": {}}, left
            )
            block = _Block("tool_use", self._start_event(start))
            if part.arguments:
                block.pending.append(ir.BlockDelta(index=0, arguments=part.arguments))
            return block
        if isinstance(part, ir.Other) and part.dialect == NAME:
            data = dict(part.data)
            block_type = str(data.get("type"))
            payload = data.get("input")
            if block_type in _INPUT_BLOCKS and isinstance(payload, dict):
                data["input"] = {}
                block = _Block(block_type, self._start_event(data))
                if payload:
                    block.pending.append(ir.BlockDelta(index=0, arguments=_dumps(payload)))
                return block
            return _Block(block_type, self._start_event(data))
        return _Block(None)

    @staticmethod
    def _start_event(content_block: dict[str, Any]) -> dict[str, Any]:
        return {"type": "content_block_start", "index": 0, "content_block": content_block}

    def _open_block(self, index: int, block: _Block, out: list[Any]) -> None:
        self._wire_index += 1
        self._open = index
        block.start["index"] = self._wire_index
        out.append(block.start)
        if block.kind in _INPUT_BLOCKS:
            self._tool_used = self._tool_used or block.kind == "tool_use"
        pending, block.pending = block.pending, []
        for delta in pending:
            self._emit_delta(block, delta, out)
        if block.stopped:
            self._close_open(out)

    def _close_open(self, out: list[Any]) -> None:
        index = self._open
        if index is None:
            return
        self._blocks[index].done = True
        self._open = None
        out.append({"type": "content_block_stop", "index": self._wire_index})

    def _advance(self, out: list[Any]) -> None:
        """Open the waiting blocks in turn, replaying what they buffered, until one is still running."""
        while self._open is None and self._queue:
            index = self._queue.pop(0)
            self._open_block(index, self._blocks[index], out)

    def _flush(self, out: list[Any]) -> None:
        """Close everything: the open block, then each waiting block (opened, replayed, closed)."""
        while True:
            if self._open is not None:
                self._blocks[self._open].stopped = True
                self._close_open(out)
            if not self._queue:
                return
            index = self._queue.pop(0)
            self._blocks[index].stopped = True
            self._open_block(index, self._blocks[index], out)

    def _emit_delta(self, block: _Block, event: ir.BlockDelta, out: list[Any]) -> None:
        index = self._wire_index
        kind = block.kind
        accepts = _ACCEPTS.get(kind or "")
        if accepts is None:
            accepts = _ACCEPTS["tool_use"] if kind in _INPUT_BLOCKS else frozenset()
        if event.text is not None and "text" in accepts:
            delta: dict[str, Any] = {"type": "text_delta", "text": event.text}
        elif event.arguments is not None and "arguments" in accepts:
            delta = {"type": "input_json_delta", "partial_json": event.arguments}
        elif event.reasoning is not None and "reasoning" in accepts:
            delta = {"type": "thinking_delta", "thinking": event.reasoning}
        elif event.signature is not None and "signature" in accepts:
            delta = {"type": "signature_delta", "signature": event.signature}
        elif event.citation is not None and "citation" in accepts:
            delta = {"type": "citations_delta", "citation": event.citation}
        else:
            self.dropped += 1
            return
        out.append({"type": "content_block_delta", "index": index, "delta": delta})


# --- the lossiness ledger and the Dialect object ------------------------------------------------------

#: Anthropic fields with no IR slot (kept in ``vendor["anthropic"]``, never seen by another dialect), and
#: IR fields the Messages API cannot express with what is sent instead (its rows of lossy.toml).
LOSSY: list[Lossy] = list(LEDGER[NAME])


def _read_request(body: Body, model: str | None) -> ir.Request:
    """``request_to_ir`` of any ``Body``: the body names its model, so ``model`` (the URL's) is not read."""
    return request_to_ir(parse_body(body, wire.MessagesRequest))


def _write_stream(options: StreamOptions) -> StreamFromIR:
    """``message_id`` and ``model`` name a message whose IR stream has no ``MessageStart``."""
    message_id = "msg_unknown" if options.message_id is None else options.message_id
    return StreamFromIR(message_id=message_id, model=options.model or "", as_json=options.as_json)


#: Anthropic Messages as a :class:`providers.convert.dialect.Dialect`.
DIALECT: Final = Converters(
    NAME,
    _read_request,
    request_json_from_ir,
    lambda body: response_to_ir(parse_body(body, wire.MessagesResponse)),
    response_json_from_ir,
    StreamToIR,
    _write_stream,
)
