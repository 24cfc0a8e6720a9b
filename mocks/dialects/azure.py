"""Azure OpenAI (docs/wire.md#azure): the OpenAI wire under ``/openai/deployments/{deployment}/...``.

Differences from OpenAI kept here: no body needs ``model`` (the deployment in the path routes the call);
the ``api-version`` query parameter is required (missing: 404
``Resource not found``; not a date-shaped version: 400); credentials come as ``api-key`` (or an Entra ID
``Authorization: Bearer`` token); errors are ``{"error": {"code", "message"}}`` with the live spelling
``innererror`` / ``content_filter_result`` for content-filter 400s; replies carry ``apim-request-id``
and the content-filter annotations (``prompt_filter_results`` on the response, or a first stream chunk
with empty ``choices`` and ``object: ""``; ``content_filter_results`` on every choice); no
``obfuscation`` pad.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from mocks.dialects.common import Call, route
from mocks.dialects.openai import OpenAI
from mocks.faults import ErrorFault, StreamErrorFault
from mocks.framing import Body, Event
from mocks.script import AuthPolicy

_D = r"/openai/deployments/(?P<deployment>[^/]+)"
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
_SAFE = {"filtered": False, "severity": "safe"}
_FILTERS = {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}
_MESSAGES = {
    401: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource.",
    404: "Resource not found",
    429: "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded "
    "token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.",
    500: "The server had an error while processing your request. Sorry about that!",
}


class Azure(OpenAI):
    name = "azure"
    base_path = ""
    routes = (
        route("POST", _D + r"/chat/completions", "chat"),
        route("POST", _D + r"/embeddings", "embeddings"),
        route("POST", _D + r"/images/generations", "images"),
        route("POST", _D + r"/audio/speech", "speech"),
        route("POST", _D + r"/audio/transcriptions", "transcriptions"),
    )
    obfuscate = False

    def credential(self, call: Call) -> str | None:
        return call.headers.get("api-key") or super().credential(call)

    def check(self, call: Call, auth: AuthPolicy) -> tuple[str, Body] | None:
        version = call.q("api-version")
        if version is None:
            return "protocol", self.error(call, ErrorFault(404, message="Resource not found"))
        if not _VERSION.fullmatch(version):
            return "protocol", self.error(
                call, ErrorFault(400, message="API version not supported", code="BadRequest")
            )
        return super().check(call, auth)

    def headers(self, call: Call) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        return {
            "apim-request-id": request_id,
            "x-request-id": request_id,
            "x-ms-region": "East US 2",
            "x-ratelimit-remaining-requests": "119",
            "x-ratelimit-remaining-tokens": "119968",
        }

    def error(self, call: Call, fault: ErrorFault) -> Body:
        if fault.code == "content_filter":
            return self._content_filter(fault)
        code = fault.code or str(fault.status)
        message = (
            fault.message or _MESSAGES.get(fault.status) or _MESSAGES[500 if fault.status >= 500 else 404]
        )
        body = self.json_body({"error": {"code": code, "message": message}}, fault.status)
        if fault.retry_after is not None:
            body.headers["retry-after"] = str(max(1, round(fault.retry_after)))
        if fault.status == 429:
            body.headers["x-ratelimit-remaining-requests"] = "0"
        body.headers.update(fault.headers)
        return body

    def _content_filter(self, fault: ErrorFault) -> Body:
        result = {**_FILTERS, "violence": {"filtered": True, "severity": "medium"}}
        message = fault.message or (
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
            "Please modify your prompt and retry."
        )
        obj = {
            "error": {
                "message": message,
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": fault.status,
                "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": result},
            }
        }
        return self.json_body(obj, fault.status)

    def auth_error(self, call: Call, missing: bool) -> Body:
        if missing:
            message = (
                "Access denied due to missing subscription key. Make sure to include subscription key when "
                "making requests to an API."
            )
            return self.error(call, ErrorFault(401, message=message))
        return self.error(call, ErrorFault(401))

    def not_found(self, call: Call, detail: str) -> Body:
        return self.error(call, ErrorFault(404, message=detail))

    def stream_error(self, call: Call, fault: StreamErrorFault) -> Event:
        return Event(data={"error": {"code": str(fault.status), "message": fault.message or _MESSAGES[500]}})

    def choice_extra(self) -> dict[str, Any]:
        return {"content_filter_results": dict(_FILTERS)}

    def response_extra(self) -> dict[str, Any]:
        return {"prompt_filter_results": [{"prompt_index": 0, "content_filter_results": dict(_FILTERS)}]}

    def stream_prelude(self, call: Call) -> list[dict[str, Any]]:
        return [{"choices": [], "created": 0, "id": "", "model": "", "object": "", **self.response_extra()}]
