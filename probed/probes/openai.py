"""Every OpenAI-compatible API: OpenAI, OpenRouter, DeepSeek, Moonshot, Groq, Mistral, xAI,
LiteLLM and custom `openclaw.json` providers. Bearer auth, Chat Completions.

A 200 is not always a success: OpenRouter reports errors raised after routing as HTTP 200 with an
`error` object in the body, so the body is read and such an error is classified like a status.
"""

from __future__ import annotations

from typing import Any

from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint
from probed.probes.http import EmbeddedError, Request, Response


def headers(secret: Secret) -> dict[str, str]:
    return {"authorization": f"Bearer {secret.value}", "content-type": "application/json"}


def generation(endpoint: Endpoint, model: str) -> Request:
    """`max_tokens: 1`, no tools, no streaming. Chat Completions rather than Responses: the
    Responses API refuses fewer than 16 output tokens."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 1,
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
