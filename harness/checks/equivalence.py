"""Family ``equivalence``: the same upstream answer through sibling methods (docs/contract.md#equivalences).

- ``equivalence.stream``: a streaming method's output, accumulated, gives what its non-streaming twin
  returns for the same scripted answer: text, thinking, tool calls (name and parsed arguments), stop
  reason and usage.
- ``equivalence.raw``: a raw method's bytes parse to exactly the typed twin's JSON (item by item for
  streams). The runner replays the very bytes the upstream sent to the first call, so any difference is
  the provider's. Values a provider mints itself per call (``id`` fields, ``created`` timestamps) are
  compared by shape: same type, same prefix, same length (timestamps within 5 s).

Which twins run is the case's ``expect.equivalence`` (default ``auto``: every twin the method has,
unless the case expects an error or scripts a fault).
"""

from __future__ import annotations

from typing import Any

from harness.checks import check
from harness.checks.facts import Facts, describe_error
from harness.checks.subset import show

#: Keys whose values a provider may mint per call.
VOLATILE = frozenset({"id", "created", "responseId", "createTime", "system_fingerprint"})


def _twin(f: Facts, role: str) -> tuple[Any, list[str] | None]:
    twin = f.siblings.get(role)
    if twin is None or twin.not_applicable is not None or not f.main.ok:
        return None, None
    if twin.error is not None:
        return None, [f"the {role} twin {twin.method} failed: {describe_error(twin.error)}"]
    return twin, None


@check("equivalence.stream")
def stream(f: Facts) -> list[str] | None:
    """The accumulated stream equals the non-streaming twin's answer."""
    twin, problems = _twin(f, "stream")
    if twin is None:
        return problems
    mine, why = f.main.accumulated
    theirs, why_twin = twin.accumulated
    if mine is None:
        return [f"stream: {why}"]
    if theirs is None:
        return [f"{twin.method}: {why_twin}"]
    a, b = f.main.semantic, twin.semantic
    out = []
    for key in ("text", "thinking", "stop", "usage"):
        if key == "usage" and a[key] is None:
            continue  # a stream carries usage only when asked (OpenAI's stream_options); fields.usage judges it
        if a[key] != b[key]:
            out.append(f"{key}: stream {show(a[key], 200)} but {twin.method} {show(b[key], 200)}")
    calls_a = [(c["name"], c["arguments"]) for c in a["tool_calls"]]
    calls_b = [(c["name"], c["arguments"]) for c in b["tool_calls"]]
    if calls_a != calls_b:
        out.append(f"tool_calls: stream {show(calls_a, 200)} but {twin.method} {show(calls_b, 200)}")
    return out


@check("equivalence.raw")
def raw(f: Facts) -> list[str] | None:
    """The raw method's bytes parse to exactly the typed method's JSON."""
    twin, problems = _twin(f, "raw")
    if twin is None:
        return problems
    raw_o, typed_o = (f.main, twin) if f.main.raw else (twin, f.main)
    if raw_o.streamed:
        got, want = raw_o.item_json, typed_o.item_json
        label = f"{raw_o.method} events vs {typed_o.method} items"
    else:
        got, want = raw_o.result_json, typed_o.result_json
        label = f"{raw_o.method} bytes vs {typed_o.method} JSON"
    diffs = compare(want, got, "$")
    return [f"{label}: {d}" for d in diffs[:20]]


def _prefix_end(value: str) -> int:
    """Where an id's kind prefix ends: after its first ``_`` or ``-`` (``msg_``, ``chatcmpl-``; a minted
    ``msg_<uuid>`` has more dashes after it), 0 when it has none."""
    found = [i for i in (value.find("_"), value.find("-")) if i >= 0]
    return min(found) + 1 if found else 0


def _same_shape(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return len(a) == len(b) and a[: _prefix_end(a)] == b[: _prefix_end(b)]
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        return abs(a - b) <= 5
    return a == b


def compare(want: Any, got: Any, where: str, key: str | None = None) -> list[str]:
    """Exact JSON equality (key sets included), volatile keys by shape; one line per difference."""
    if key in VOLATILE and not isinstance(want, dict | list):
        return [] if _same_shape(want, got) else [f"{where}: typed {show(want)}, raw {show(got)}"]
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for k in want.keys() | got.keys():
            if k not in got:
                out.append(f"{where}.{k}: in the typed result ({show(want[k])}) but not in the raw bytes")
            elif k not in want:
                out.append(f"{where}.{k}: in the raw bytes ({show(got[k])}) but not in the typed result")
            else:
                out.extend(compare(want[k], got[k], f"{where}.{k}", k))
        return sorted(out)
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{where}: typed has {len(want)} items, raw {len(got)}"]
        return [
            d for i, (w, g) in enumerate(zip(want, got, strict=True)) for d in compare(w, g, f"{where}[{i}]")
        ]
    same = (type(want) is type(got) or (isinstance(want, int | float) and isinstance(got, int | float))) and (
        want == got
    )
    return [] if same else [f"{where}: typed {show(want)}, raw {show(got)}"]
