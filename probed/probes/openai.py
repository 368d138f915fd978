"""Every OpenAI-compatible API: OpenAI, OpenRouter, DeepSeek, Moonshot, Groq, Mistral, xAI,
LiteLLM and custom `openclaw.json` providers. Bearer auth, Chat Completions.

A 200 is not always a success: OpenRouter reports errors raised after routing as HTTP 200 with an
`error` object in the body, so the body is read and such an error is classified like a status.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint
from probed.probes.http import EmbeddedError, Request, Response

# Where OpenClaw's completions transport sends `max_tokens` (its `maxTokensField`); everywhere
# else it sends `max_completion_tokens`, the only field reasoning models (o-series, gpt-5)
# accept. By provider id, and by host for the same APIs behind another id.
MAX_TOKENS_PROVIDERS = frozenset(
    {"mistral", "moonshot", "together", "zai", "chutes", "cloudflare-ai-gateway"}
)
MAX_TOKENS_HOSTS = (
    "api.mistral.ai",
    "api.moonshot.ai",
    "api.moonshot.cn",
    "api.together.ai",
    "api.together.xyz",
    "gateway.ai.cloudflare.com",
    "api.z.ai",
    "llm.chutes.ai",
)


def headers(secret: Secret, endpoint: Endpoint | None = None) -> dict[str, str]:
    return {"authorization": f"Bearer {secret.value}", "content-type": "application/json"}


def max_tokens_field(endpoint: Endpoint) -> str:
    host = urlsplit(endpoint.base_url).hostname or ""
    if endpoint.provider in MAX_TOKENS_PROVIDERS or any(
        host == h or host.endswith("." + h) for h in MAX_TOKENS_HOSTS
    ):
        return "max_tokens"
    return "max_completion_tokens"


def generation(endpoint: Endpoint, model: str, secret: Secret | None = None) -> Request:
    """One output token, no tools, no streaming. Chat Completions rather than Responses: the
    Responses API refuses fewer than 16 output tokens. The token limit goes in the field the
    gateway uses for this endpoint (`max_completion_tokens` unless it sends `max_tokens`)."""
    body: dict[str, Any] = {
        "model": model,
        max_tokens_field(endpoint): 1,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }
    if endpoint.provider == "openrouter":
        body["reasoning"] = {"enabled": False}
    return Request("POST", endpoint.url("chat/completions"), body)


def read_generation(resp: Response) -> EmbeddedError | None:
    data = resp.json()
    if not isinstance(data, dict):
        return EmbeddedError(None, resp.text)
    error = data.get("error")
    if error:
        code = error.get("code") if isinstance(error, dict) else None
        status = code if isinstance(code, int) and 400 <= code <= 599 else None
        return EmbeddedError(status, resp.text)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        return EmbeddedError(None, resp.text)
    first = choices[0]
    if isinstance(first, dict) and first.get("finish_reason") == "error":
        return EmbeddedError(None, resp.text)
    return None
