"""The Azure OpenAI reference provider (docs/wire.md#azure): the OpenAI provider with Azure's routing and
auth.

``{endpoint}/openai/deployments/{deployment}/{chat/completions|embeddings|images/generations|audio/speech|
audio/transcriptions}?api-version=…`` where ``deployment = deployments.get(model, model)``; auth
``api-key: <key>`` or ``Authorization: Bearer <Entra ID token>``. Everything else is inherited: ALL the
OpenAI methods, the raw stream and the passthrough included (crabllm's Azure declares itself
OpenAI-compatible but lacks both), and the translated Anthropic/Gemini/IR paths (which fail on crabllm's
Azure because they go through a ``complete`` it does not have; docs/contract.md#crabllm-compat-flags).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote

import httpx

from providers._dialect import HTTPProvider, merge_headers, openai_error_parser
from providers.errors import ProviderError
from providers.openai import OpenAIProvider
from providers.transport import RetryPolicy, Timeouts

DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIProvider(OpenAIProvider):
    """Azure OpenAI at ``endpoint`` (``https://{resource}.openai.azure.com``). Give ``api_key`` or
    ``azure_ad_token`` (one of them). ``deployments`` maps a model name to its deployment; a model not in
    it is used as the deployment name itself."""

    name = "azure"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        endpoint: str,
        api_version: str = DEFAULT_API_VERSION,
        deployments: Mapping[str, str] | None = None,
        azure_ad_token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if (api_key is None) == (azure_ad_token is None):
            raise ValueError("AzureOpenAIProvider needs exactly one of api_key and azure_ad_token")
        auth = {"api-key": api_key} if api_key is not None else {"authorization": f"Bearer {azure_ad_token}"}
        self.deployments = dict(deployments or {})
        self.api_version = api_version
        HTTPProvider.__init__(
            self,
            endpoint,
            headers=merge_headers(auth, headers),
            params={"api-version": api_version},
            error_parser=openai_error_parser,
            timeouts=timeouts,
            retry=retry,
            client=client,
            sleep=sleep,
        )

    def path(self, endpoint: str, model: str | None) -> str:
        if not model:
            raise ProviderError.invalid_request(
                f"Azure OpenAI routes {endpoint} by deployment: the request needs a model"
            )
        deployment = self.deployments.get(model, model)
        return f"/openai/deployments/{quote(deployment, safe='')}/{endpoint}"
