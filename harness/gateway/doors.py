"""The door probe: at start, one minimal valid request to each front door of the gateway, to find the doors
it does not have.

A door that answers 404 or 405, or refuses the connection, is *absent*: every case of that door is
not applicable, and the reason quotes the probe (method, path, status and the start of the body) so the
report shows the evidence. Any other answer (a 200, a 401, a 502 from a broken upstream) means the door
is there; what it does is for the cases to judge. The probe runs through the lane like a case (the mock
generates an answer for whatever reaches it), with the headers a case of that door would send, for the
first upstream the door reaches. Every request has a timeout; nothing a gateway answers stops the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.gateway.adapter import Adapter, render
from harness.gateway.process import RunningGateway
from harness.gateway.provider import GatewayProvider

__all__ = ["ABSENT", "probe_doors"]

#: Statuses that say the door is not there.
ABSENT = (404, 405)
#: A model of each upstream dialect's vendor, for the probe request.
_MODELS = {
    "openai": "gpt-4o",
    "azure": "gpt-4o",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
}
_GENERATE = {"fallback": "generate"}


def _request(
    door: str, base: str, model: str, key: str, api_version: str, auth: str
) -> tuple[str, Any, dict]:
    """(url, JSON body, headers) of the minimal valid request of ``door``."""
    ping = "ping"
    if door == "openai":
        body = {"model": model, "messages": [{"role": "user", "content": ping}], "max_tokens": 1}
        return base + "/chat/completions", body, {"authorization": f"Bearer {key}"}
    if door == "anthropic":
        body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": ping}]}
        credential = {"authorization": f"Bearer {key}"} if auth == "bearer" else {"x-api-key": key}
        return base + "/v1/messages", body, {**credential, "anthropic-version": "2023-06-01"}
    body = {"contents": [{"role": "user", "parts": [{"text": ping}]}]}
    return f"{base}/{api_version}/models/{model}:generateContent", body, {"x-goog-api-key": key}


async def probe_doors(adapter: Adapter, gateway: RunningGateway, lane: Any, client: Any) -> dict[str, str]:
    """Front door → why it is absent (the probe's evidence), for the doors that are; the others are not
    listed. ``lane``: the run's isolation (a call is registered for each probe)."""
    import httpx

    absent: dict[str, str] = {}
    key = gateway.master_key or "wirecheck-no-key"
    for door_name, door in adapter.front_doors.items():
        dialect = next((d for d in adapter.dialects if adapter.models[d].reached_by(door_name)), None)
        if dialect is None:
            continue
        route = adapter.models[dialect]
        model = route.effective(_MODELS[dialect])
        provider = GatewayProvider.bind(
            "probe", gateway.url, adapter.front_doors, dialect, route, gateway.values
        ).for_model(route.upstream_model(model))
        values = provider.header_values(key)
        url, body, headers = _request(
            door_name,
            gateway.url + door.base_path,
            route.client_model(model),
            key,
            door.api_version,
            door.auth,
        )
        headers.update({k: render(v, values) for k, v in {**door.headers, **route.headers}.items()})
        token, _ = lane.register(_GENERATE)
        try:
            response = await client.post(url, json=body, headers=headers, timeout=10.0)
        except httpx.ConnectError as exc:
            absent[door_name] = f"the door probe POST {url} could not connect: {exc or type(exc).__name__}"
            continue
        except httpx.HTTPError:
            continue  # it answered something: the door is there, the cases judge what
        finally:
            lane.release(token)
            lane.take_strays()
        if response.status_code in ABSENT:
            shown = " ".join(response.text[:200].split())
            absent[door_name] = f"the door probe POST {url} answered {response.status_code}: {shown}"
    return absent


def absent_reason(adapter: Adapter, door: str, evidence: Mapping[str, str]) -> str | None:
    """The not-applicable reason of a case of ``door`` when the probe found it absent."""
    if door not in evidence:
        return None
    return f"gateway {adapter.name} has no {door} front door ({evidence[door]})"


__all__ += ["absent_reason"]
