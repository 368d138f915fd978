"""Where a provider's API lives and how to check it cheaply.

Resolution, per field, first hit wins: `[providers.<id>]` in probed's configuration, then
OpenClaw's own `openclaw.json` (`models.providers.<id>`: `baseUrl`, `api`, `models[].id`), then the
built-in table, which is the provider specs' (`probed/providers/`). Base URLs are kept the way
each official SDK takes them: Anthropic without `/v1`, Gemini without `/v1beta`,
OpenAI-compatible with `/v1` (or whatever prefix the provider's chat route sits under). An id
found nowhere but given a base URL is an OpenAI-compatible API; an id with no base URL anywhere
is an error that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from probed.config import Api, Config
from probed.errors import ConfigError
from probed.model import normalize_provider
from probed.openclawjson import load_openclaw_json
from probed.providers import SPECS, FreeCheck, ProviderSpec
from probed.providers import canonical as canonical_provider

__all__ = [
    "BUILTIN",
    "Endpoint",
    "FreeCheck",
    "OpenClawProvider",
    "canonical",
    "openclaw_providers",
    "resolve",
]


@dataclass(frozen=True, slots=True)
class Endpoint:
    provider: str  # canonical id (aliases folded)
    api: Api
    base_url: str
    model: str | None  # the model a paid probe uses when nothing narrower is known
    models: tuple[str, ...]  # every model this provider is known to serve here (may be empty)
    free_checks: tuple[FreeCheck, ...]
    source: str  # where base_url came from: "config", "openclaw.json" or "built-in"

    def url(self, path: str) -> str:
        if path.startswith("/"):
            parts = urlsplit(self.base_url)
            return f"{parts.scheme}://{parts.netloc}{path}"
        return f"{self.base_url.rstrip('/')}/{path}"


_MODELS_CHECK: Mapping[Api, FreeCheck] = {
    "anthropic": FreeCheck("models", "v1/models?limit=1"),
    "openai": FreeCheck("models", "models"),
    "gemini": FreeCheck("models", "v1beta/models?pageSize=1"),
}

# The built-in table is the provider specs' (`probed/providers/`): one owner per fact.
BUILTIN: Mapping[str, ProviderSpec] = SPECS

# OpenClaw's `api` adapter names -> probed's three families. Others are not probed.
_OPENCLAW_APIS: Mapping[str, Api] = {
    "openai-completions": "openai",
    "openai-responses": "openai",
    "openai-chatgpt-responses": "openai",
    "azure-openai-responses": "openai",
    "ollama": "openai",
    "anthropic-messages": "anthropic",
    "google-generative-ai": "gemini",
}


canonical = canonical_provider


@dataclass(frozen=True, slots=True)
class OpenClawProvider:
    api: Api | None
    api_word: str | None  # as written, for messages
    base_url: str | None
    models: tuple[str, ...]


def openclaw_providers(doc: Mapping[str, Any]) -> dict[str, OpenClawProvider]:
    models = doc.get("models")
    table = models.get("providers") if isinstance(models, Mapping) else None
    out: dict[str, OpenClawProvider] = {}
    if not isinstance(table, Mapping):
        return out
    for pid, raw in table.items():
        if not isinstance(pid, str) or not isinstance(raw, Mapping):
            continue
        api_word = raw.get("api") if isinstance(raw.get("api"), str) else None
        base = raw.get("baseUrl")
        ids = tuple(
            m["id"]
            for m in raw.get("models") or ()
            if isinstance(m, Mapping) and isinstance(m.get("id"), str) and m["id"]
        )
        out[canonical(pid)] = OpenClawProvider(
            api=_OPENCLAW_APIS.get(api_word) if api_word else None,
            api_word=api_word,
            base_url=base.rstrip("/")
            if isinstance(base, str) and base.startswith(("http://", "https://"))
            else None,
            models=ids,
        )
    return out


def resolve(
    provider: str, config: Config, openclaw: Mapping[str, OpenClawProvider] | None = None
) -> Endpoint:
    """The endpoint for `provider`; ConfigError naming it when no base URL is known anywhere."""
    pid = canonical(provider)
    if openclaw is None:
        openclaw = openclaw_providers(load_openclaw_json(config.openclaw.state_dir))
    mine = config.providers.get(pid) or config.providers.get(normalize_provider(provider))
    theirs = openclaw.get(pid)
    builtin = BUILTIN.get(pid)

    if theirs is not None and theirs.api_word and theirs.api is None and not (mine and mine.api):
        raise ConfigError(
            f"provider {pid!r}: openclaw.json api {theirs.api_word!r} is not one probed can "
            f"probe; set [providers.{pid}] api to anthropic, openai or gemini"
        )
    api: Api | None = (mine.api if mine else None) or (theirs.api if theirs else None)
    base_url, source = None, "built-in"
    if mine and mine.base_url:
        base_url, source = mine.base_url, "config"
    elif theirs and theirs.base_url:
        base_url, source = theirs.base_url, "openclaw.json"
    elif builtin and builtin.base_url:
        base_url = builtin.base_url
    if base_url is None:
        raise ConfigError(
            f"provider {pid!r} has no known endpoint; set [providers.{pid}] base_url "
            "(and api) in probed's configuration"
        )
    if api is None:
        # OpenClaw's own rule (recorded on 2026.9.6): an openclaw.json provider with a baseUrl
        # and no api is openai-completions, built-in ids included (kimi or google pointed at a
        # proxy), unless the baseUrl is the provider's own host; anthropic stays Messages.
        foreign = (
            theirs is not None
            and theirs.base_url is not None
            and pid != "anthropic"
            and (builtin is None or _host(theirs.base_url) != _host(builtin.base_url or ""))
        )
        api = "openai" if foreign or builtin is None else builtin.api
    served = (*(mine.models if mine else ()), *(theirs.models if theirs else ()))
    models = tuple(dict.fromkeys(served))
    model = mine.model if mine else None
    if model is None and builtin is not None and builtin.api == api:
        model = builtin.model
    if model is None and models:
        model = models[0]
    checks: tuple[FreeCheck, ...] = (_MODELS_CHECK[api],)
    if builtin and builtin.api == api:
        own = builtin.free_checks
        checks = (*checks, *own) if builtin.models_check else own
    return Endpoint(
        provider=pid,
        api=api,
        base_url=_sdk_base(api, base_url),
        model=model,
        models=models,
        free_checks=checks,
        source=source,
    )


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _sdk_base(api: Api, url: str) -> str:
    url = url.rstrip("/")
    if api == "anthropic" and url.endswith("/v1"):
        return url[: -len("/v1")]
    if api == "gemini":
        for suffix in ("/v1beta", "/v1"):
            if url.endswith(suffix):
                return url[: -len(suffix)]
    return url
