"""The one registry of providers and the one alias table.

Each provider module defines `SPEC`; the registry finds every module of the package, so adding a
provider is adding its module. Ids are OpenClaw's, lower-case; aliases fold the other spellings
seen in logs and configuration (`gemini`, `kimi-coding`, `claude` ...) onto them. Any other id is an
OpenAI-compatible API (the contract's rule), with generic rules only.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

from probed.providers.base import ProviderSpec

# Modules of the package that hold machinery, not a provider.
_SUPPORT = frozenset({"base", "family", "registry"})


def _specs() -> Iterator[ProviderSpec]:
    """Every `SPEC` of the package's provider modules, in name order (so ids and aliases are
    checked the same way on every machine)."""
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]))
    for name in names:
        if name in _SUPPORT or name.startswith("_"):
            continue
        module = importlib.import_module(f"probed.providers.{name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, ProviderSpec):
            raise TypeError(f"probed/providers/{name}.py defines no SPEC = ProviderSpec(...)")
        yield spec


def _build() -> tuple[Mapping[str, ProviderSpec], Mapping[str, str]]:
    specs: dict[str, ProviderSpec] = {}
    aliases: dict[str, str] = {}
    for spec in _specs():
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
