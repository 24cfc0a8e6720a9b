"""OpenAI Chat Completions ⇄ IR: requests, responses and streams (docs/wire.md#openai-chat-request,
docs/wire.md#openai-chat-response, docs/wire.md#openai-streaming).

Lossless by construction. Each converter into the IR works on the wire JSON of the object (``to_json()``)
and *takes* (pops) the fields the IR has a slot for; whatever is left over (unknown fields, fields the IR
does not model, explicit ``null`` of a modelled field) is kept in the IR object's ``vendor["openai"]``
and merged back by the converter out of the IR. A field a converter out always writes (``type``,
``role``, ``object``...) but the wire omitted is remembered in ``absent``. So OpenAI → IR → OpenAI gives
the same JSON, while another dialect reading the IR sees only the IR slots. An IR request, response or
stream that came from OpenAI always carries a ``vendor["openai"]`` dict (maybe empty): that is how the
converters out tell a same-dialect round trip from a translation.

The vendor entry of one IR object has the layout of ``providers.convert.leftovers`` (only the keys that
apply): ``rest`` (left-over wire fields of that object, placed first when written back), ``absent``
(always-written keys the wire omitted), and named facts:
``empty`` (content was ``[]``), and per object: ``inner`` (left-over fields of a part's nested object,
``image_url``/``input_audio``/``file``), ``function`` (of a tool call's or tool's ``function``),
``refusal`` (``"part"``: a refusal content part, ``"field"``: the message's ``refusal``), ``key``
(``"reasoning"`` when the reasoning text came in that field instead of ``reasoning_content``), ``raw``
(a ``file_data`` that was not a data URL), ``slot`` (``"tool_calls"`` for an Other that was a tool call),
``max_tokens_field``, ``stream_options``, ``response_format``, ``tools_other`` (request), ``choice``,
``message``, ``choices`` (response: the rest of choice 0, of its message, and the choices after it),
``prompt_details``/``completion_details``/``total_tokens`` (usage details and a total that is not prompt + completion).

Decisions (documented in ``LOSSY`` where they lose something):
- ``ir.Request.response_format`` holds the *flattened* JSON-schema form ``{"type": "json_schema",
  "name", "schema", "strict", "description"}`` (Anthropic's ``output_config.format`` plus OpenAI's extra
  keys), or ``{"type": "json_object"}``; ``{"type": "text"}`` stays vendor-only (it is the default).
- A refusal (content part or ``message.refusal``) becomes an ``ir.Text`` flagged ``refusal``: OpenAI gets
  its refusal back, other dialects see the refusal as text.
- Reasoning text (``reasoning_content``, or ``reasoning`` as vLLM/Cerebras send it) is ``ir.Reasoning``,
  first in the message. Translated *requests* drop reasoning (OpenAI rejects the field in messages);
  translated responses and streams carry it as ``reasoning_content``.
- Gemini thought signatures ride on tool calls as ``extra_content.google.thought_signature`` (Google's own
  OpenAI-compatible convention, seen in real traffic) and become ``ir.ToolCall.signature``.
- LiteLLM-style ``cache_control`` on a content part or tool is read into the IR slot (for Anthropic) and
  kept in the vendor rest; it is never written to OpenAI from another dialect.
- Translated finish: ``tool_calls`` whenever the turn holds a tool call (Gemini says STOP), except that a
  ``max_tokens`` stop stays ``length`` (the call is then cut and the client must know it).
- A tool result's non-text parts cannot live in a ``role: "tool"`` message: they move, in order, to the
  user message that follows the tool messages. Coming in, a tool result is named after the call it
  answers (``ir.ToolResult.name``, which Gemini needs; OpenAI pairs by id only).
- A translated request that streams asks for ``stream_options.include_usage`` (the other dialects always
  report usage on streams); a translated assistant turn's text blocks are joined into one string.
- Streams: text and reasoning blocks close when the kind changes; tool-call blocks stay open until the
  finish, because OpenAI addresses fragments by tool index and parallel calls may interleave (so IR tool
  blocks may overlap other blocks). Finish comes at the finish chunk, the usage chunk after it gives a
  UsageUpdate, ``[DONE]`` (``close()``) gives End.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from providers.convert import leftovers
from providers.convert.dialect import Body, Converters, StreamOptions
from providers.convert.tables import LEDGER, Lossy, effort_for_budget, stop_from, stop_to
from providers.errors import ProviderError
from providers.types import ir
from providers.types._base import Wire
from providers.types.openai import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ErrorBody,
)

NAME: Final = "openai"

__all__ = ["DIALECT", "LOSSY", "NAME", "OpenAIDialect", "StreamFromIR", "StreamToIR"]
__all__ += ["request_from_ir", "request_json_from_ir", "request_to_ir"]
__all__ += ["response_from_ir", "response_json_from_ir", "response_to_ir"]

_DATA_URL = re.compile(r"data:([^;,]*);base64,(.*)", re.DOTALL)
_EFFORTS: Final = frozenset({"minimal", "low", "medium", "high", "xhigh", "max"})
_TOOL_CHOICE_MODES: Final = frozenset({"none", "auto", "required"})
_SAMPLING: Final = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "seed", "user")


class _Nothing:
    """Marks "write no ``content`` key" (distinct from ``None``, which writes ``null``)."""


_NOTHING: Final = _Nothing()

W = TypeVar("W", bound=Wire)


def _as_json(item: Any, model: type[W], *, shallow: bool = False) -> dict[str, Any]:
    """The wire JSON of ``item`` (a model, or a dict/bytes validated first); a fresh dict we may mutate.

    A dict or bytes is validated (a malformed body fails here, naming the field) and then copied, not
    dumped from the model: the validated input already is the wire JSON, and a copy costs half a dump.
    ``shallow``: a dict is copied one level only (for a converter that copies each nested object before
    taking it apart; what it keeps whole is then the caller's own, read-only like its outputs)."""
    if shallow and type(item) is dict:  # first: a dict is no model (pydantic's isinstance is Python code)
        model.check(item)  # the validated model is not kept: checked without building it
        return dict(item)
    if isinstance(item, model):
        return item.to_json()
    if isinstance(item, bytes | str):
        try:
            loaded = json.loads(item)
        except ValueError:
            model.parse(item)  # raises the decode error, with the position
            raise
        model.check(loaded)
        return loaded
    if type(item) is dict:
        model.check(item)  # as above: the model is not kept
    else:
        model.parse(item)
    return to_jsonable_python(item)


def _build(model: type[W], data: dict[str, Any]) -> W:
    """Validate what a converter out built; a failure means the IR held something the wire cannot."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise ProviderError.invalid_request(
            f"IR cannot be expressed as OpenAI {model.__name__}: field {path}: {first['msg']}"
        ) from None


def _identity(data: dict[str, Any]) -> dict[str, Any]:
    return data


def _chunk_model(data: dict[str, Any]) -> ChatCompletionChunk:
    return _build(ChatCompletionChunk, data)


def _take_object(
    fields: dict[str, Any], key: str, entry: dict[str, Any], kept_as: str, **wanted: type
) -> dict[str, Any]:
    """Move the object ``fields[key]`` out of ``fields``: its members named in ``wanted`` whose values are
    of the type given there are returned, the rest of it is kept as ``entry[kept_as]``. When ``fields[key]``
    is absent or not an object, nothing moves and nothing is returned."""
    nested = fields.get(key)
    if not isinstance(nested, dict):
        return {}
    del fields[key]
    nested = dict(nested)  # taken apart: a copy (the caller's may be shared, see _as_json)
    taken = {name: nested.pop(name) for name, kind in wanted.items() if isinstance(nested.get(name), kind)}
    entry[kept_as] = nested
    return taken


def _split_data_url(url: str) -> tuple[str, str] | None:
    message = _DATA_URL.fullmatch(url)
    return (message.group(1), message.group(2)) if message else None


def _signature(extra: Mapping[str, Any] | None) -> str | None:
    """``extra_content.google.thought_signature`` of a tool call (Gemini's OpenAI-compatible API)."""
    if not extra:
        return None
    google = extra.get("extra_content")
    google = google.get("google") if isinstance(google, dict) else None
    sig = google.get("thought_signature") if isinstance(google, dict) else None
    return sig if isinstance(sig, str) else None


# ================================================================================================
# Requests
# ================================================================================================


def request_to_ir(req: ChatCompletionRequest | Mapping[str, Any] | bytes | str) -> ir.Request:
    """An OpenAI chat request as IR. System/developer messages stay in ``messages`` where they stood."""
    fields = _as_json(req, ChatCompletionRequest)
    entry: dict[str, Any] = {}
    request = ir.Request(
        model=fields.pop("model"),
        messages=[_message_in(message) for message in fields.pop("messages")],
        vendor={NAME: entry},
    )
    if fields.get("stream") is True:
        request.stream = fields.pop("stream")
    stream_options = _take_object(fields, "stream_options", entry, "stream_options", include_usage=bool)
    if "include_usage" in stream_options:
        request.include_usage = stream_options["include_usage"]
    if isinstance(fields.get("max_completion_tokens"), int):
        request.max_tokens = fields.pop("max_completion_tokens")
    elif isinstance(fields.get("max_tokens"), int):
        request.max_tokens = fields.pop("max_tokens")
        entry["max_tokens_field"] = "max_tokens"
    for key in _SAMPLING:
        if fields.get(key) is not None:
            setattr(request, key, fields.pop(key))
    if isinstance(fields.get("parallel_tool_calls"), bool):
        request.parallel_tool_calls = fields.pop("parallel_tool_calls")
    stop = fields.get("stop")
    if isinstance(stop, str):
        request.stop, request.stop_shorthand = [fields.pop("stop")], True
    elif isinstance(stop, list):
        request.stop = fields.pop("stop")
    tools = fields.get("tools")
    if isinstance(tools, list):
        del fields["tools"]
        request.tools = []
        other = []
        for i, tool in enumerate(tools):
            if tool.get("type") == "function":
                request.tools.append(_tool_in(tool))
            else:
                other.append([i, tool])
        if other:
            entry["tools_other"] = other
    choice = _tool_choice_in(fields.get("tool_choice"))
    if choice is not None:
        del fields["tool_choice"]
        request.tool_choice = choice
    _response_format_in(fields, request, entry)
    effort = fields.get("reasoning_effort")
    if isinstance(effort, str):
        del fields["reasoning_effort"]
        mode = "disabled" if effort == "none" else "enabled" if effort in _EFFORTS else None
        request.thinking = ir.Thinking(effort=effort, mode=mode)
    leftovers.take_rest(fields, entry)
    _name_results(request.messages)
    return request


def _name_results(messages: list[ir.Message]) -> None:
    """Give each ToolResult the name of the call it answers (Gemini pairs results by function name;
    an OpenAI tool message names only the call id). OpenAI itself never sees this name again."""
    names: dict[str, str] = {}
    for message in messages:
        for part in message.content:
            if isinstance(part, ir.ToolCall):
                names[part.id] = part.name
            elif isinstance(part, ir.ToolResult) and part.name is None:
                part.name = names.get(part.call_id)


def _message_in(fields: dict[str, Any]) -> ir.Message:
    entry: dict[str, Any] = {}
    message = ir.Message(role=fields.pop("role"))
    if isinstance(fields.get("name"), str):
        message.name = fields.pop("name")
    parts, shorthand = _content_in(fields, entry)
    if message.role == "tool":
        result = ir.ToolResult(call_id="", content=parts, shorthand=shorthand, name=message.name)
        if isinstance(fields.get("tool_call_id"), str):
            result.call_id = fields.pop("tool_call_id")
        else:  # absent or null (the rest keeps a null)
            leftovers.mark_absent(entry, "tool_call_id")
        message.content = [result]
    elif message.role == "assistant":
        message.content = _assistant_parts_in(fields, parts)
        message.shorthand = shorthand
    else:
        message.content, message.shorthand = parts, shorthand
    leftovers.take_rest(fields, entry)
    leftovers.attach(message.vendor, NAME, entry)
    return message


def _content_in(fields: dict[str, Any], entry: dict[str, Any]) -> tuple[list[ir.Part], bool]:
    """Take ``content``: a bare string is one Text and ``shorthand``; ``null`` stays in the rest."""
    content = fields.get("content")
    if isinstance(content, str):
        del fields["content"]
        return [ir.Text(text=content)], True
    if isinstance(content, list):
        del fields["content"]
        if not content:
            entry["empty"] = True
        return [_part_in(part) for part in content], False
    return [], False


def _assistant_parts_in(fields: dict[str, Any], parts: list[ir.Part]) -> list[ir.Part]:
    """Reasoning first, then the content parts, then the refusal text, then the tool calls."""
    out: list[ir.Part] = []
    if isinstance(fields.get("reasoning_content"), str):
        out.append(ir.Reasoning(text=fields.pop("reasoning_content")))
    elif isinstance(fields.get("reasoning"), str):
        out.append(ir.Reasoning(text=fields.pop("reasoning"), vendor={NAME: {"key": "reasoning"}}))
    out.extend(parts)
    if isinstance(fields.get("refusal"), str):
        out.append(ir.Text(text=fields.pop("refusal"), vendor={NAME: {"refusal": "field"}}))
    calls = fields.get("tool_calls")
    if isinstance(calls, list) and calls:
        del fields["tool_calls"]
        out.extend(_tool_call_in(c) for c in calls)
    return out


def _cache_control(part: Any, rest: dict[str, Any]) -> None:
    """LiteLLM-style ``cache_control``: read into the IR slot, left in the rest for OpenAI."""
    cache_control = rest.get("cache_control")
    if isinstance(cache_control, dict):
        part.cache_control = cache_control


def _part_in(part_json: dict[str, Any]) -> ir.Part:
    kind = part_json["type"]
    entry: dict[str, Any] = {}
    part: ir.Part
    if kind == "text":
        del part_json["type"]
        part = ir.Text(text=part_json.pop("text"))
        _cache_control(part, part_json)
    elif kind == "refusal":
        del part_json["type"]
        part = ir.Text(text=part_json.pop("refusal"))
        entry["refusal"] = "part"
    elif kind == "image_url":
        del part_json["type"]
        inner = part_json.pop("image_url")
        url = inner.pop("url")
        part = ir.Image()
        split = _split_data_url(url)
        if split:
            part.media_type, part.data = split
        else:
            part.url = url
        if isinstance(inner.get("detail"), str):
            part.detail = inner.pop("detail")
        _cache_control(part, part_json)
        if inner:
            entry["inner"] = inner
    elif kind == "input_audio":
        del part_json["type"]
        inner = part_json.pop("input_audio")
        part = ir.Audio(data=inner.pop("data"), format=inner.pop("format"))
        if inner:
            entry["inner"] = inner
    elif kind == "file":
        del part_json["type"]
        inner = part_json.pop("file")
        part = ir.File()
        data = inner.get("file_data")
        if isinstance(data, str):
            del inner["file_data"]
            split = _split_data_url(data)
            if split:
                part.media_type, part.data = split
            else:
                part.data = data
                entry["raw"] = True
        for key in ("file_id", "filename"):
            if isinstance(inner.get(key), str):
                setattr(part, key, inner.pop(key))
        _cache_control(part, part_json)
        if inner:
            entry["inner"] = inner
    else:
        return ir.Other(dialect=NAME, data=part_json)
    leftovers.take_rest(part_json, entry)
    leftovers.attach(part.vendor, NAME, entry)
    return part


def _tool_call_in(call_json: dict[str, Any]) -> ir.ToolCall | ir.Other:
    """A function tool call; anything else (custom tools) is kept whole as an Other."""
    function = call_json.get("function")
    if call_json.get("type", "function") != "function" or not isinstance(function, dict):
        return ir.Other(dialect=NAME, data=call_json, vendor={NAME: {"slot": "tool_calls"}})
    call_json, function = dict(call_json), dict(function)  # taken apart: copies (see _as_json)
    entry: dict[str, Any] = {}
    if "type" in call_json:
        del call_json["type"]
    else:
        leftovers.mark_absent(entry, "type")
    del call_json["function"]
    call = ir.ToolCall(id=call_json.pop("id"), name=function.pop("name"), arguments=function.pop("arguments"))
    call.signature = _signature(call_json)
    if function:
        entry["function"] = function
    leftovers.take_rest(call_json, entry)
    leftovers.attach(call.vendor, NAME, entry)
    return call


def _tool_in(tool_json: dict[str, Any]) -> ir.Tool:
    entry: dict[str, Any] = {}
    del tool_json["type"]
    function = tool_json.pop("function")
    tool = ir.Tool(name=function.pop("name"))
    for key in ("description", "parameters", "strict"):
        if function.get(key) is not None:
            setattr(tool, key, function.pop(key))
    _cache_control(tool, tool_json)
    if function:
        entry["function"] = function
    leftovers.take_rest(tool_json, entry)
    leftovers.attach(tool.vendor, NAME, entry)
    return tool


def _tool_choice_in(choice: Any) -> ir.ToolChoice | None:
    if isinstance(choice, str):
        return ir.ToolChoice(mode=choice) if choice in _TOOL_CHOICE_MODES else None
    if isinstance(choice, dict) and choice.get("type") == "function":
        function = choice.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            out = ir.ToolChoice(mode="tool", name=function["name"])
            rest = {k: x for k, x in choice.items() if k not in ("type", "function")}
            inner = {k: x for k, x in function.items() if k != "name"}
            leftovers.attach(
                out.vendor,
                NAME,
                ({leftovers.REST: rest} if rest else {}) | ({"function": inner} if inner else {}),
            )
            return out
    return None  # allowed_tools, custom, an unknown mode or null: vendor-only


def _response_format_in(fields: dict[str, Any], request: ir.Request, entry: dict[str, Any]) -> None:
    response_format = fields.get("response_format")
    if not isinstance(response_format, dict):
        return
    kind = response_format.get("type")
    schema = response_format.get("json_schema")
    if kind == "json_schema" and isinstance(schema, dict) and "type" not in schema:
        request.response_format = {"type": "json_schema", **schema}
        outer = {k: x for k, x in response_format.items() if k not in ("type", "json_schema")}
    elif kind == "json_object":
        request.response_format = {"type": "json_object"}
        outer = {k: x for k, x in response_format.items() if k != "type"}
    else:
        return
    del fields["response_format"]
    if outer:
        entry["response_format"] = outer


def request_from_ir(request: ir.Request) -> ChatCompletionRequest:
    """The OpenAI chat request for an IR request. Raises ``ProviderError.invalid_request`` for a part
    OpenAI cannot take (an image or file by ``file_id``/URL it cannot address, audio without format)."""
    return _build(ChatCompletionRequest, request_json_from_ir(request))


def request_json_from_ir(request: ir.Request) -> dict[str, Any]:
    """:func:`request_from_ir` as wire JSON, built without validating it again (the converters' output is
    proven valid by the tests): what a gateway that forwards bytes needs."""
    entry = request.vendor.get(NAME)
    same = entry is not None
    entry = entry or {}
    out: dict[str, Any] = leftovers.rest_first(entry)
    out["model"] = request.model
    messages: list[dict[str, Any]] = []
    if request.system:
        texts = [part.text for part in request.system if isinstance(part, ir.Text)]
        if texts:
            single = request.system_shorthand and len(texts) == 1
            content = texts[0] if single else [{"type": "text", "text": t} for t in texts]
            messages.append({"role": "system", "content": content})
    for message in request.messages:
        messages.extend(_message_out(message, same))
    out["messages"] = messages
    if request.stream:
        out["stream"] = True
    if same:
        if "stream_options" in entry or request.include_usage is not None:
            stream_options = dict(entry.get("stream_options", ()))
            if request.include_usage is not None:
                stream_options["include_usage"] = request.include_usage
            out["stream_options"] = stream_options
    elif request.stream:  # ask for the usage chunk: an Anthropic or Gemini client always gets usage (D3 #26)
        out["stream_options"] = {
            "include_usage": request.include_usage if request.include_usage is not None else True
        }
    if request.max_tokens is not None:
        out[entry.get("max_tokens_field", "max_completion_tokens")] = request.max_tokens
    if request.temperature is not None:  # _SAMPLING, unrolled: this runs for every request
        out["temperature"] = request.temperature
    if request.top_p is not None:
        out["top_p"] = request.top_p
    if request.presence_penalty is not None:
        out["presence_penalty"] = request.presence_penalty
    if request.frequency_penalty is not None:
        out["frequency_penalty"] = request.frequency_penalty
    if request.seed is not None:
        out["seed"] = request.seed
    if request.user is not None:
        out["user"] = request.user
    if request.parallel_tool_calls is not None:
        out["parallel_tool_calls"] = request.parallel_tool_calls
    if request.stop is not None:
        out["stop"] = (
            request.stop[0] if request.stop_shorthand and len(request.stop) == 1 else list(request.stop)
        )
    if request.tools is not None or "tools_other" in entry:
        tools = leftovers.insert_at([_tool_out(t) for t in request.tools or ()], entry.get("tools_other", ()))
        if tools or same:
            out["tools"] = tools
    if request.tool_choice is not None:
        out["tool_choice"] = _tool_choice_out(request.tool_choice)
    if request.response_format is not None:
        out["response_format"] = _response_format_out(
            request.response_format, entry.get("response_format"), same
        )
    effort = _effort_out(request.thinking)
    if effort is not None:
        out["reasoning_effort"] = effort
    return out


def _message_out(message: ir.Message, same: bool) -> list[dict[str, Any]]:
    entry = message.vendor.get(NAME)
    if entry is None and message.role != "assistant" and message.name is None and len(message.content) == 1:
        part = message.content[0]
        if type(part) is ir.Text and NAME not in part.vendor:
            # the common translated turn, one text and nothing of OpenAI's to put back: what the general
            # path below gives for it, without its bookkeeping (this runs for every turn)
            if message.shorthand:
                return [{"role": message.role, "content": part.text}]
            return [{"role": message.role, "content": [{"type": "text", "text": part.text}]}]
    if (
        entry is None
        and not same
        and message.role == "assistant"
        and message.name is None
        and message.content
    ):
        texts = []
        calls = []
        for part in message.content:
            if type(part) is ir.ToolCall:
                calls.append(_tool_call_out(part))
            elif type(part) is ir.Text and NAME not in part.vendor:
                texts.append(part.text)
            else:
                break
        else:  # a translated assistant turn of texts and calls: what _assistant_out gives, without its bookkeeping
            written: dict[str, Any] = {"role": "assistant"}
            if texts:
                written["content"] = "".join(texts)
            if calls:
                written["tool_calls"] = calls
            return [written]
    entry = entry or {}
    if message.role == "assistant":
        return [_assistant_out(message, entry, same)]
    if any(isinstance(part, ir.ToolResult) for part in message.content):
        return _tool_results_out(message, entry, same)
    out: dict[str, Any] = leftovers.rest_first(entry)
    out["role"] = message.role
    content = _content_out(message.content, message.shorthand, entry, same)
    if content is not _NOTHING:
        out["content"] = content
    elif not same:
        out["content"] = ""  # required for every role but assistant
    if message.name is not None:
        out["name"] = message.name
    return [out]


def _content_out(parts: list[ir.Part], shorthand: bool, entry: dict[str, Any], same: bool) -> Any:
    if (
        shorthand
        and len(parts) == 1
        and isinstance(parts[0], ir.Text)
        and not leftovers.entry_of(parts[0].vendor, NAME)
    ):
        return parts[0].text
    if not parts:
        return [] if entry.get("empty") else _NOTHING
    out = [x for part in parts if (x := _part_out(part)) is not None]
    return out if out or same else _NOTHING


def _data_url(media_type: str | None, data: str) -> str:
    return f"data:{media_type if media_type is not None else 'application/octet-stream'};base64,{data}"


def _part_out(part: ir.Part) -> dict[str, Any] | None:
    """One content part, or None for a part OpenAI content cannot hold (dropped; see LOSSY)."""
    if isinstance(part, ir.Other):
        return part.data if part.dialect == NAME else None
    if not isinstance(part, ir.Text | ir.Image | ir.Audio | ir.File):
        return None
    entry = leftovers.entry_of(part.vendor, NAME)
    out: dict[str, Any] = leftovers.rest_first(entry)
    inner: dict[str, Any] = dict(entry.get("inner", ()))
    if isinstance(part, ir.Text):
        if entry.get("refusal") == "part":
            out["type"], out["refusal"] = "refusal", part.text
        else:
            out["type"], out["text"] = "text", part.text
        return out
    if isinstance(part, ir.Image):
        if part.url is not None:
            inner["url"] = part.url
        elif part.data is not None:
            inner["url"] = _data_url(part.media_type, part.data)
        else:
            raise ProviderError.invalid_request(
                "an image by file_id cannot be sent to OpenAI Chat Completions"
            )
        if part.detail is not None:
            inner["detail"] = part.detail
        out["type"], out["image_url"] = "image_url", inner
        return out
    if isinstance(part, ir.Audio):
        if part.format is None:
            raise ProviderError.invalid_request("OpenAI input_audio needs a format (wav or mp3)")
        inner["data"], inner["format"] = part.data, part.format
        out["type"], out["input_audio"] = "input_audio", inner
        return out
    if part.data is not None:
        inner["file_data"] = part.data if entry.get("raw") else _data_url(part.media_type, part.data)
    elif part.file_id is None and part.url is not None:
        raise ProviderError.invalid_request("a file by URL cannot be sent to OpenAI Chat Completions")
    if part.file_id is not None:
        inner["file_id"] = part.file_id
    if part.filename is not None:
        inner["filename"] = part.filename
    out["type"], out["file"] = "file", inner
    return out


def _assistant_out(message: ir.Message, entry: dict[str, Any], same: bool) -> dict[str, Any]:
    out: dict[str, Any] = leftovers.rest_first(entry)
    out["role"] = "assistant"
    reasoning: list[ir.Reasoning] = []
    content: list[ir.Part] = []
    refusal: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, ir.Reasoning):
            reasoning.append(part)
        elif isinstance(part, ir.ToolCall):
            calls.append(_tool_call_out(part))
        elif isinstance(part, ir.Other) and leftovers.entry_of(part.vendor, NAME).get("slot") == "tool_calls":
            calls.append(part.data)
        elif isinstance(part, ir.Text) and leftovers.entry_of(part.vendor, NAME).get("refusal") == "field":
            refusal.append(part.text)
        elif not isinstance(part, ir.ToolResult) and not (
            isinstance(part, ir.Other) and part.dialect != NAME
        ):
            content.append(part)
    if same:
        if reasoning:
            out[leftovers.entry_of(reasoning[0].vendor, NAME).get("key", "reasoning_content")] = "".join(
                part.text for part in reasoning
            )
        value = _content_out(content, message.shorthand, entry, same)
        if value is not _NOTHING:
            out["content"] = value
        if refusal:
            out["refusal"] = "".join(refusal)
    elif content and all(isinstance(part, ir.Text) for part in content):
        out["content"] = "".join(part.text for part in content)
    else:
        value = _content_out(content, False, entry, same)
        if value is not _NOTHING:
            out["content"] = value
        elif not calls:
            out["content"] = ""
    if calls:
        out["tool_calls"] = calls
    if message.name is not None:
        out["name"] = message.name
    return out


def _tool_call_out(call: ir.ToolCall) -> dict[str, Any]:
    entry = call.vendor.get(NAME)
    if not entry:  # a translated call: nothing of OpenAI's to put back (the general path's output, directly)
        out: dict[str, Any] = {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        if call.signature is not None:
            out["extra_content"] = {"google": {"thought_signature": call.signature}}
        return out
    out = leftovers.rest_first(entry)
    out["id"] = call.id
    if not leftovers.is_absent(entry, "type"):
        out["type"] = "function"
    function = dict(entry.get("function", ()))
    function["name"], function["arguments"] = call.name, call.arguments
    out["function"] = function
    if call.signature is not None and not entry:
        out["extra_content"] = {"google": {"thought_signature": call.signature}}
    return out


def _tool_results_out(message: ir.Message, entry: dict[str, Any], same: bool) -> list[dict[str, Any]]:
    """Each ToolResult → one ``role: "tool"`` message, in order; everything else → one user message after."""
    same_tool = same and message.role == "tool"
    out: list[dict[str, Any]] = []
    trailing: list[ir.Part] = []
    for part in message.content:
        if not isinstance(part, ir.ToolResult):
            trailing.append(part)
            continue
        msg: dict[str, Any] = leftovers.rest_first(entry) if same_tool else {}
        msg["role"] = "tool"
        if not (same_tool and leftovers.is_absent(entry, "tool_call_id")):
            msg["tool_call_id"] = part.call_id
        if same_tool:
            content = _content_out(part.content, part.shorthand, entry, same)
            if content is not _NOTHING:
                msg["content"] = content
            if message.name is not None:
                msg["name"] = message.name
        elif part.shorthand and len(part.content) == 1 and type(part.content[0]) is ir.Text:
            msg["content"] = part.content[0].text  # the bare string (the case below, without its lists)
        else:
            texts = [q for q in part.content if isinstance(q, ir.Text)]
            trailing.extend(q for q in part.content if not isinstance(q, ir.Text))
            if part.shorthand and len(texts) == 1 and len(part.content) == 1:
                msg["content"] = texts[0].text
            elif texts:
                msg["content"] = [{"type": "text", "text": text.text} for text in texts]
            else:
                msg["content"] = ""
        out.append(msg)
    if trailing:
        parts = [x for q in trailing if (x := _part_out(q)) is not None]
        if parts:
            out.append({"role": "user", "content": parts})
    return out


def _tool_out(tool: ir.Tool) -> dict[str, Any]:
    entry = tool.vendor.get(NAME)
    function: dict[str, Any] = dict(entry.get("function", ())) if entry else {}
    function["name"] = tool.name
    if tool.description is not None:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    out: dict[str, Any] = leftovers.rest_first(entry)
    out["type"], out["function"] = "function", function
    return out


def _tool_choice_out(choice: ir.ToolChoice) -> Any:
    if choice.mode != "tool":
        return choice.mode
    entry = leftovers.entry_of(choice.vendor, NAME)
    return {
        **leftovers.rest(entry),
        "type": "function",
        "function": {**entry.get("function", {}), "name": choice.name},
    }


def _response_format_out(
    response_format: dict[str, Any], outer: dict[str, Any] | None, same: bool
) -> dict[str, Any]:
    kind = response_format.get("type")
    if kind == "json_schema":
        inner = {k: x for k, x in response_format.items() if k != "type"}
        if not same and "name" not in inner:
            inner = {"name": "response", **inner}  # OpenAI requires a name
        return {**(outer or {}), "type": "json_schema", "json_schema": inner}
    if kind == "json_object":
        return {**(outer or {}), "type": "json_object"}
    return dict(response_format)


def _effort_out(tool: ir.Thinking | None) -> str | None:
    if tool is None:
        return None
    if tool.effort is not None:
        return tool.effort
    if tool.budget_tokens is not None:
        return effort_for_budget(tool.budget_tokens)
    return "none" if tool.mode == "disabled" else None  # enabled without a budget, adaptive: the default


# ================================================================================================
# Usage
# ================================================================================================


def _usage_in(usage_json: dict[str, Any]) -> ir.Usage:
    """OpenAI counts overlap (prompt ⊇ cached, completion ⊇ reasoning); the IR's parts do not."""
    entry: dict[str, Any] = {}
    prompt, completion, total = (
        usage_json.pop("prompt_tokens"),
        usage_json.pop("completion_tokens"),
        usage_json.pop("total_tokens"),
    )
    usage = ir.Usage()
    if "prompt_tokens_details" not in usage_json and "completion_tokens_details" not in usage_json:
        # no details (the common reply): the counts alone, without taking the absent objects apart
        usage.input_tokens, usage.output_tokens = prompt, completion
        if total != prompt + completion:
            entry["total_tokens"] = total
        leftovers.take_rest(usage_json, entry)
        leftovers.attach(usage.vendor, NAME, entry)
        return usage
    prompt_details = _take_object(
        usage_json,
        "prompt_tokens_details",
        entry,
        "prompt_details",
        cached_tokens=int,
        cache_write_tokens=int,
    )
    if "cached_tokens" in prompt_details:
        usage.cache_read_tokens = prompt_details["cached_tokens"]
    if "cache_write_tokens" in prompt_details:
        usage.cache_write_tokens = prompt_details["cache_write_tokens"]
    completion_details = _take_object(
        usage_json, "completion_tokens_details", entry, "completion_details", reasoning_tokens=int
    )
    if "reasoning_tokens" in completion_details:
        usage.reasoning_tokens = completion_details["reasoning_tokens"]
    usage.input_tokens = prompt - (usage.cache_read_tokens or 0) - (usage.cache_write_tokens or 0)
    usage.output_tokens = completion - (usage.reasoning_tokens or 0)
    if total != prompt + completion:
        entry["total_tokens"] = total  # e.g. Gemini's OpenAI API counts thoughts only in the total
    leftovers.take_rest(usage_json, entry)
    leftovers.attach(usage.vendor, NAME, entry)
    return usage


def _usage_out(usage: ir.Usage) -> dict[str, Any]:
    """Never double-counts: prompt = input + cache read + cache write, and ``cached_tokens`` is the read."""
    entry = leftovers.entry_of(usage.vendor, NAME)
    prompt, completion = usage.prompt_total, usage.completion_total
    out: dict[str, Any] = leftovers.rest_first(entry)
    out["prompt_tokens"], out["completion_tokens"] = prompt, completion
    out["total_tokens"] = entry.get("total_tokens", prompt + completion)
    if (
        "prompt_details" in entry
        or usage.cache_read_tokens is not None
        or usage.cache_write_tokens is not None
    ):
        prompt_details = dict(entry.get("prompt_details", ()))
        if usage.cache_read_tokens is not None:
            prompt_details["cached_tokens"] = usage.cache_read_tokens
        if usage.cache_write_tokens is not None:
            prompt_details["cache_write_tokens"] = usage.cache_write_tokens
        out["prompt_tokens_details"] = prompt_details
    if "completion_details" in entry or usage.reasoning_tokens is not None:
        completion_details = dict(entry.get("completion_details", ()))
        if usage.reasoning_tokens is not None:
            completion_details["reasoning_tokens"] = usage.reasoning_tokens
        out["completion_tokens_details"] = completion_details
    return out


# ================================================================================================
# Responses
# ================================================================================================


def response_to_ir(resp: ChatCompletionResponse | Mapping[str, Any] | bytes | str) -> ir.Response:
    """Choice 0 becomes the IR content and stop; further choices (``n > 1``) are vendor-only."""
    fields = _as_json(resp, ChatCompletionResponse, shallow=True)  # each object taken apart is copied below
    entry: dict[str, Any] = {}
    response = ir.Response(
        id=fields.pop("id"), model=fields.pop("model"), created=fields.pop("created"), vendor={NAME: entry}
    )
    if fields.get("object") == "chat.completion":
        del fields["object"]
    else:  # absent, or another value the rest keeps
        leftovers.mark_absent(entry, "object")
    choices = fields.pop("choices")
    if choices:
        _choice_in(dict(choices[0]), response, entry)
        if len(choices) > 1:
            entry["choices"] = choices[1:]
    else:
        entry["choice"] = None
    usage = fields.get("usage")
    if isinstance(usage, dict):
        del fields["usage"]
        response.usage = _usage_in(dict(usage))
    leftovers.take_rest(fields, entry)
    return response


def _choice_in(choice: dict[str, Any], response: ir.Response, entry: dict[str, Any]) -> None:
    choice_entry: dict[str, Any] = {}
    absent: list[str] = []
    if choice.get("index") == 0:
        del choice["index"]
    finish = choice.get("finish_reason")
    if isinstance(finish, str):
        del choice["finish_reason"]
        response.stop = stop_from(NAME, finish)
    else:
        absent.append("finish_reason")
    msg = choice.get("message")
    if isinstance(msg, dict):
        del choice["message"]
        message_entry: dict[str, Any] = {}
        response.content = _response_message_in(dict(msg), message_entry)
        if message_entry:
            choice_entry["message"] = message_entry
    else:
        absent.append("message")
    if absent:
        leftovers.mark_absent(choice_entry, *absent)
    leftovers.take_rest(choice, choice_entry)
    if choice_entry:
        entry["choice"] = choice_entry


def _response_message_in(message: dict[str, Any], entry: dict[str, Any]) -> list[ir.Part]:
    """Empty strings stay vendor-only, as a stream's empty deltas open no block (stream ≡ non-stream)."""
    if message.get("role") == "assistant":
        del message["role"]
    else:
        leftovers.mark_absent(entry, "role")
    out: list[ir.Part] = []
    if "reasoning_content" in message or "reasoning" in message:  # the loop only when one is there (rare)
        for key in ("reasoning_content", "reasoning"):
            if isinstance(message.get(key), str) and message[key]:
                vendor = {NAME: {"key": key}} if key == "reasoning" else {}
                out.append(ir.Reasoning(text=message.pop(key), vendor=vendor))
                break
    content = message.get("content")  # each field read once (this runs for every reply)
    if isinstance(content, str) and content:
        del message["content"]
        out.append(ir.Text(text=content))
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        del message["refusal"]
        out.append(ir.Text(text=refusal, vendor={NAME: {"refusal": "field"}}))
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        del message["tool_calls"]
        out.extend(_tool_call_in(c) for c in calls)
    leftovers.take_rest(message, entry)
    return out


def response_from_ir(response: ir.Response) -> ChatCompletionResponse:
    """One choice (plus the vendor-kept ones); ``created`` is now when the upstream gave none."""
    return _build(ChatCompletionResponse, response_json_from_ir(response))


def response_json_from_ir(response: ir.Response) -> dict[str, Any]:
    """:func:`response_from_ir` as wire JSON, built without validating it again."""
    entry = response.vendor.get(NAME)
    same = entry is not None
    entry = entry or {}
    out: dict[str, Any] = leftovers.rest_first(entry)
    out["id"] = response.id
    if not leftovers.is_absent(entry, "object"):
        out["object"] = "chat.completion"
    out["created"] = response.created if response.created is not None else int(time.time())
    out["model"] = response.model
    choices: list[Any] = []
    if "choice" not in entry or entry["choice"] is not None or response.content or response.stop is not None:
        choices.append(_choice_out(response, entry.get("choice") or {}, same))
    choices.extend(entry.get("choices", ()))
    out["choices"] = choices
    if response.usage is not None:
        out["usage"] = _usage_out(response.usage)
    return out


def _finish_out(stop: ir.Stop | None, called: bool) -> str:
    if stop is not None and stop.dialect == NAME and stop.raw is not None:
        return stop.raw
    if called and (stop is None or stop.reason != "max_tokens"):
        return "tool_calls"
    return stop_to(NAME, stop) or "stop"


def _choice_out(response: ir.Response, choice_entry: dict[str, Any], same: bool) -> dict[str, Any]:
    absent = choice_entry.get(leftovers.ABSENT, ()) if same else ()
    out: dict[str, Any] = leftovers.rest_first(choice_entry)
    out.setdefault("index", 0)
    if "message" not in absent:
        out["message"] = _response_message_out(response.content, choice_entry.get("message") or {}, same)
    if "finish_reason" not in absent:
        out["finish_reason"] = _finish_out(
            response.stop, any(isinstance(part, ir.ToolCall) for part in response.content)
        )
    return out


def _response_message_out(content: list[ir.Part], entry: dict[str, Any], same: bool) -> dict[str, Any]:
    out: dict[str, Any] = leftovers.rest_first(entry)
    if not leftovers.is_absent(entry, "role"):
        out["role"] = "assistant"
    reasoning: list[ir.Reasoning] = []
    texts: list[str] = []
    refusal: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, ir.Reasoning):
            reasoning.append(part)
        elif isinstance(part, ir.Text):
            (refusal if leftovers.entry_of(part.vendor, NAME).get("refusal") == "field" else texts).append(
                part.text
            )
        elif isinstance(part, ir.ToolCall):
            calls.append(_tool_call_out(part))
        elif (
            isinstance(part, ir.Other)
            and part.dialect == NAME
            and leftovers.entry_of(part.vendor, NAME).get("slot") == "tool_calls"
        ):
            calls.append(part.data)
    if reasoning:
        out[leftovers.entry_of(reasoning[0].vendor, NAME).get("key", "reasoning_content")] = "".join(
            part.text for part in reasoning
        )
    if texts:
        out["content"] = "".join(texts)
    elif not same:
        out["content"] = None
    if refusal:
        out["refusal"] = "".join(refusal)
    if calls:
        out["tool_calls"] = calls
    return out


# ================================================================================================
# Streams
# ================================================================================================


_USAGE_PARTS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


def _merge_usage(before: ir.Usage | None, now: ir.Usage) -> ir.Usage:
    """Cumulative usage where a part the latest update leaves unsaid (``None``) keeps its earlier value:
    Anthropic states input and cache counts in message_start and often not again (a gateway that read only
    the last delta reported 0 prompt tokens: agentgateway/agentgateway PR#1108)."""
    if before is None or all(getattr(now, k) is not None or getattr(before, k) is None for k in _USAGE_PARTS):
        return now
    merged = {k: getattr(now, k) if getattr(now, k) is not None else getattr(before, k) for k in _USAGE_PARTS}
    return ir.Usage(**merged, vendor=now.vendor)


class StreamToIR:
    """OpenAI chunks → IR events. Feed each parsed ``data:`` item (a chunk, or ``{"error": ...}``);
    ``[DONE]`` is not an item: call :meth:`close` after it (or when the upstream ended).

    - The first chunk gives MessageStart (id, model, created; ``system_fingerprint``/``service_tier`` in
      vendor). A leading chunk with no choices and no usage (Azure's ``prompt_filter_results``) is kept in
      the MessageStart's vendor (``pre``) rather than starting the message with its empty id.
    - Text, refusal and reasoning deltas open a block when their kind changes (closing the previous one);
      empty strings open nothing. A tool-call delta with a new ``index`` opens a ToolCall block with its id
      and name; later fragments of that index go to that block, even after other blocks opened.
    - ``finish_reason`` closes the open blocks and gives Finish; a usage chunk gives UsageUpdate.
    - :meth:`close` gives End only if a finish reason was seen: a stream cut before it ends without End.
    Only choice 0 is read; per-chunk ``logprobs``, ``obfuscation`` and filter results are not kept.
    """

    def __init__(self) -> None:
        self._started = False
        self._pre: list[dict[str, Any]] = []
        self._next = 0
        self._open: int | None = None
        self._open_kind: str | None = None
        self._tools: dict[int, int] = {}
        self._finished = False
        self._failed = False
        self._closed = False

    def feed(self, item: ChatCompletionChunk | ErrorBody | Mapping[str, Any]) -> list[ir.StreamEvent]:
        if self._failed or self._closed:
            return []
        if isinstance(item, Mapping):
            if "error" in item and "choices" not in item:
                item = ErrorBody.parse(item)
            else:
                item = ChatCompletionChunk.parse(item)
        if isinstance(item, ErrorBody):
            self._failed = True
            err = item.error
            status = err.code if isinstance(err.code, int) else None
            return [
                ir.StreamError(status=status, error_type=err.type, message=err.message, body=item.to_json())
            ]
        return self._chunk(item)

    def _chunk(self, chunk: ChatCompletionChunk) -> list[ir.StreamEvent]:
        out: list[ir.StreamEvent] = []
        if not self._started:
            if not chunk.choices and chunk.usage is None:
                self._pre.append(chunk.to_json())
                return out
            self._started = True
            entry: dict[str, Any] = {}
            for key in ("system_fingerprint", "service_tier"):
                if key in chunk.model_fields_set:
                    entry[key] = getattr(chunk, key)
            if self._pre:
                entry["pre"] = self._pre
            out.append(
                ir.MessageStart(id=chunk.id, model=chunk.model, created=chunk.created, vendor={NAME: entry})
            )
        for choice in chunk.choices:
            if choice.index == 0 and not self._finished:  # nothing of choice 0 may follow its finish
                self._choice(choice, out)
        if chunk.usage is not None:
            out.append(ir.UsageUpdate(usage=_usage_in(chunk.usage.to_json())))
        return out

    def _choice(self, choice: Any, out: list[ir.StreamEvent]) -> None:
        delta = choice.delta
        reasoning = delta.reasoning_content
        if reasoning is None and delta.__pydantic_extra__:
            reasoning = delta.__pydantic_extra__.get("reasoning")
        if reasoning and isinstance(reasoning, str):
            self._text("reasoning", reasoning, out)
        if delta.content:
            self._text("text", delta.content, out)
        if delta.refusal:
            self._text("refusal", delta.refusal, out)
        for call in delta.tool_calls or ():
            self._tool(call, out)
        if choice.finish_reason is not None:
            self._close_open(out)
            out.extend(ir.BlockStop(index=i) for i in sorted(self._tools.values()))
            self._finished = True
            out.append(ir.Finish(stop=stop_from(NAME, choice.finish_reason)))

    def _new_block(self, part: ir.Part, out: list[ir.StreamEvent]) -> int:
        index = self._next
        self._next += 1
        out.append(ir.BlockStart(index=index, part=part))
        return index

    def _close_open(self, out: list[ir.StreamEvent]) -> None:
        if self._open is not None:
            out.append(ir.BlockStop(index=self._open))
            self._open = self._open_kind = None

    def _text(self, kind: str, text: str, out: list[ir.StreamEvent]) -> None:
        if self._open_kind != kind:
            self._close_open(out)
            part: ir.Part
            if kind == "reasoning":
                part = ir.Reasoning()
            elif kind == "refusal":
                part = ir.Text(text="", vendor={NAME: {"refusal": "field"}})
            else:
                part = ir.Text(text="")
            self._open, self._open_kind = self._new_block(part, out), kind
        if kind == "reasoning":
            out.append(ir.BlockDelta(index=self._open, reasoning=text))
        else:
            out.append(ir.BlockDelta(index=self._open, text=text))

    def _tool(self, call: Any, out: list[ir.StreamEvent]) -> None:
        function = call.function
        sig = _signature(call.__pydantic_extra__)
        index = self._tools.get(call.index)
        if index is None:
            self._close_open(out)
            name = function.name if function is not None and function.name else ""
            part = ir.ToolCall(id=call.id or "", name=name, arguments="", signature=sig)
            index = self._tools[call.index] = self._new_block(part, out)
        elif sig is not None:
            out.append(ir.BlockDelta(index=index, signature=sig))
        if function is not None and function.arguments:
            out.append(ir.BlockDelta(index=index, arguments=function.arguments))

    def close(self) -> list[ir.StreamEvent]:
        """End if the stream finished; nothing if it was cut (no End: the caller sees a truncation)."""
        if self._closed:
            return []
        self._closed = True
        return [ir.End()] if self._finished and not self._failed else []


class StreamFromIR:
    """IR events → OpenAI chunks, valid for any IR event order an upstream could produce:

    - every chunk has the MessageStart's id, ``object: "chat.completion.chunk"``, the same created and
      model; the first chunk is ``delta: {"role": "assistant", "content": ""}``;
    - tool calls are numbered 0, 1, 2... in order of first appearance (never the IR block index); ``id``,
      ``type`` and ``function.name`` are on the first fragment only, later ones carry ``index`` and
      ``function.arguments``;
    - exactly one chunk carries a ``finish_reason`` (``tool_calls`` when a call was made, unless the
      stop is ``max_tokens``), made up at End if the IR had no Finish;
    - usage (MessageStart's, updated by each UsageUpdate; a part an update leaves ``None`` keeps its earlier
      value) is a separate last chunk with ``choices: []`` when ``include_usage``;
    - reasoning → ``delta.reasoning_content``; signatures, citations, redacted thinking and Other blocks
      have no place and are dropped (LOSSY).
    An IR StreamError raises ``ProviderError(kind="upstream")`` from :meth:`feed` (a chunk cannot carry
    it; the caller writes ``data: {"error": ...}``). :meth:`close` without a prior End raises
    ``ProviderError(kind="transport", reason="disconnect")``: the caller must not write ``[DONE]``.
    With ``as_json`` the chunks are wire JSON dicts, not validated models (for byte-forwarding gateways).
    """

    def __init__(self, *, include_usage: bool = True, as_json: bool = False) -> None:
        self.include_usage = include_usage
        self._emit = _identity if as_json else _chunk_model
        self._started = False
        self._head: dict[str, Any] = {}
        self._blocks: dict[int, Any] = {}  # IR block index → "text" | "refusal" | "reasoning" | "other" | int
        self._tools = 0
        self._finished = False
        self._ended = False
        self._usage: ir.Usage | None = None

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> Any:
        return self._emit({**self._head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    def _start(self, event: ir.MessageStart | None, out: list[Any]) -> None:
        self._started = True
        entry = leftovers.entry_of(event.vendor, NAME) if event is not None else {}
        self._head = {
            "id": event.id if event is not None else f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion.chunk",
            "created": event.created if event is not None and event.created is not None else int(time.time()),
            "model": event.model if event is not None else "",
        }
        for key in ("system_fingerprint", "service_tier"):
            if key in entry:
                self._head[key] = entry[key]
        self._usage = event.usage if event is not None else None
        out.extend(self._emit(dict(pre)) for pre in entry.get("pre", ()))
        out.append(self._chunk({"role": "assistant", "content": ""}))

    def feed(self, event: ir.StreamEvent) -> list[Any]:
        out: list[Any] = []
        if self._ended:
            return out
        if isinstance(event, ir.MessageStart):
            if not self._started:
                self._start(event, out)
            return out
        if isinstance(event, ir.StreamError):
            body = None if event.body is None else json.dumps(event.body, ensure_ascii=False).encode()
            raise ProviderError.upstream(
                event.status if event.status is not None else 200,
                event.message,
                error_type=event.error_type,
                body=body,
            )
        if not self._started:
            self._start(None, out)
        if isinstance(event, ir.UsageUpdate):
            self._usage = _merge_usage(self._usage, event.usage)
        elif isinstance(event, ir.End):
            if not self._finished:
                out.append(self._finish(None))
            if self._usage is not None and self.include_usage:
                usage = {**self._head, "choices": [], "usage": _usage_out(self._usage)}
                out.append(self._emit(usage))
            self._ended = True
        elif self._finished:
            pass  # nothing may follow the finish chunk but usage
        elif isinstance(event, ir.Finish):
            out.append(self._finish(event.stop))
        elif isinstance(event, ir.BlockStart):
            self._block_start(event, out)
        elif isinstance(event, ir.BlockDelta):
            self._block_delta(event, out)
        return out

    def _finish(self, stop: ir.Stop | None) -> Any:
        self._finished = True
        return self._chunk({}, _finish_out(stop, self._tools > 0))

    def _block_start(self, event: ir.BlockStart, out: list[Any]) -> None:
        if event.index in self._blocks:
            return
        part = event.part
        if isinstance(part, ir.ToolCall):
            index = self._blocks[event.index] = self._tools
            self._tools += 1
            call: dict[str, Any] = {
                "index": index,
                "id": part.id,
                "type": "function",
                "function": {"name": part.name, "arguments": part.arguments},
            }
            if part.signature is not None:
                call["extra_content"] = {"google": {"thought_signature": part.signature}}
            out.append(self._chunk({"tool_calls": [call]}))
        elif isinstance(part, ir.Text):
            kind = self._blocks[event.index] = (
                "refusal" if leftovers.entry_of(part.vendor, NAME).get("refusal") == "field" else "text"
            )
            if part.text:
                out.append(self._chunk({"content" if kind == "text" else "refusal": part.text}))
        elif isinstance(part, ir.Reasoning):
            self._blocks[event.index] = "reasoning"
            if part.text:
                out.append(self._chunk({"reasoning_content": part.text}))
        else:
            self._blocks[event.index] = "other"

    def _block_delta(self, event: ir.BlockDelta, out: list[Any]) -> None:
        kind = self._blocks.get(event.index)
        if event.text:
            if kind in (None, "text"):
                out.append(self._chunk({"content": event.text}))
            elif kind == "refusal":
                out.append(self._chunk({"refusal": event.text}))
        elif event.reasoning:
            if kind in (None, "reasoning"):
                out.append(self._chunk({"reasoning_content": event.reasoning}))
        elif event.arguments:
            if isinstance(kind, int):
                out.append(
                    self._chunk({"tool_calls": [{"index": kind, "function": {"arguments": event.arguments}}]})
                )
        elif event.signature and isinstance(kind, int):
            # the SDK's stream helper asserts that every fragment of a function call has `function`
            sig = {"google": {"thought_signature": event.signature}}
            call = {"index": kind, "function": {"arguments": ""}, "extra_content": sig}
            out.append(self._chunk({"tool_calls": [call]}))

    def close(self) -> list[Any]:
        """Nothing after End; without End the IR stream was truncated, which raises (see the class doc)."""
        if self._ended:
            return []
        self._ended = True
        raise ProviderError.transport("disconnect", "the IR stream ended without End (truncated upstream)")


# ================================================================================================
# The lossiness ledger and the Dialect object
# ================================================================================================

#: What does not survive a translation from or into OpenAI, and why (its rows of lossy.toml).
LOSSY: list[Lossy] = list(LEDGER[NAME])


def _read_request(body: Body, model: str | None) -> ir.Request:
    """``request_to_ir`` of any ``Body``: the body names its model, so ``model`` (the URL's) is not read."""
    return request_to_ir(_unwired(body, ChatCompletionRequest))


def _read_response(body: Body) -> ir.Response:
    return response_to_ir(_unwired(body, ChatCompletionResponse))


def _write_stream(options: StreamOptions) -> StreamFromIR:
    """``include_usage`` is the only stream option this wire has."""
    return StreamFromIR(include_usage=options.include_usage, as_json=options.as_json)


def _unwired(body: Body, model: type[W]) -> W | Mapping[str, Any] | bytes | str:
    """``body`` as ``request_to_ir``/``response_to_ir`` take it (they validate JSON themselves)."""
    if isinstance(body, model):
        return body
    if isinstance(body, Wire):
        raise TypeError(f"expected {model.__name__} or its wire JSON, got {type(body).__name__}")
    return body


class OpenAIDialect(Converters):
    """OpenAI Chat Completions as a :class:`providers.convert.dialect.Dialect`: ``DIALECT``'s class, built
    without arguments so that a variant can derive from it."""

    def __init__(self) -> None:
        read, write = _read_request, request_json_from_ir
        super().__init__(NAME, read, write, _read_response, response_json_from_ir, StreamToIR, _write_stream)


DIALECT: Final = OpenAIDialect()
