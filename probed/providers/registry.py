"""The one registry of providers and the one alias table.

Each provider module defines `SPEC`; listing the module in `_MODULES` is all it takes to add a
provider. Ids are OpenClaw's, lower-case; aliases fold the other spellings seen in logs and
configuration (`gemini`, `kimi-coding`, `claude` ...) onto them. Any other id is an
OpenAI-compatible API (the contract's rule), with generic rules only.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from probed.providers import (
    anthropic,
    deepseek,
    google,
    groq,
    kimi,
    litellm,
    minimax,
    mistral,
    moonshot,
    openai,
    openai_codex,
    openrouter,
    xai,
    zai,
)
from probed.providers.base import ProviderSpec

_MODULES = (
    anthropic,
    openai,
    openai_codex,
    google,
    openrouter,
    deepseek,
    moonshot,
    kimi,
    groq,
    mistral,
    xai,
    litellm,
    zai,
    minimax,
)


def _build() -> tuple[Mapping[str, ProviderSpec], Mapping[str, str]]:
    specs: dict[str, ProviderSpec] = {}
    aliases: dict[str, str] = {}
    for module in _MODULES:
        spec: ProviderSpec = module.SPEC
        if spec.id in specs or spec.id in aliases:
            raise RuntimeError(f"provider id {spec.id!r} is registered twice")
        specs[spec.id] = spec
        for alias in spec.aliases:
            if alias in specs or aliases.get(alias, spec.id) != spec.id:
                raise RuntimeError(f"provider alias {alias!r} is registered twice")
            aliases[alias] = spec.id
    return MappingProxyType(specs), MappingProxyType(aliases)


SPECS, ALIASES = _build()


def canonical(provider: str) -> str:
    """The contract's id for an OpenClaw id or alias (`Gemini` -> `google`); others unchanged."""
    pid = provider.strip().lower()
    return ALIASES.get(pid, pid)


def spec_for(provider: str) -> ProviderSpec | None:
    """The spec of a known provider (aliases folded), or None for an OpenAI-compatible other."""
    return SPECS.get(canonical(provider))


def is_known(provider: str) -> bool:
    return canonical(provider) in SPECS


def display_name(provider: str) -> str:
    spec = spec_for(provider)
    if spec is not None:
        return spec.display_name
    return provider.strip() or "the provider"
