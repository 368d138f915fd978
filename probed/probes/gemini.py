"""Google Gemini API (`generativelanguage.googleapis.com`): key in `x-goog-api-key` (never in the
URL, where it would end up in logs), `generateContent` with one output token and thinking off."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint
from probed.probes.http import EmbeddedError, Request, Response


def headers(secret: Secret, endpoint: Endpoint | None = None) -> dict[str, str]:
    if secret.oauth:
        return {"authorization": f"Bearer {secret.value}", "content-type": "application/json"}
    return {"x-goog-api-key": secret.value, "content-type": "application/json"}


def generation(endpoint: Endpoint, model: str, secret: Secret | None = None) -> Request:
    name = model.removeprefix("models/")
    config: dict[str, Any] = {"maxOutputTokens": 1}
    thinking = thinking_budget(name)
    if thinking is not None:
        config["thinkingConfig"] = {"thinkingBudget": thinking}
    return Request(
        "POST",
        endpoint.url(f"v1beta/models/{quote(name, safe='.-_')}:generateContent"),
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": config},
    )


def thinking_budget(model: str) -> int | None:
    """Flash models can switch thinking off (0); 2.5 Pro cannot go below 128 (0 is a 400)."""
    if "flash" in model:
        return 0
    if "2.5-pro" in model:
        return 128
    return None


def read_generation(resp: Response) -> EmbeddedError | None:
    data = resp.json()
    if not isinstance(data, dict):
        return EmbeddedError(None, resp.text)
    if data.get("error"):
        return EmbeddedError(None, resp.text)
    if "promptFeedback" in data and "candidates" not in data:
        return None  # the prompt was filtered, but the key and its quota were accepted
    if not isinstance(data.get("candidates"), list):
        return EmbeddedError(None, resp.text)
    return None
