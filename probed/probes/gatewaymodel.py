"""The model the gateway itself would send a profile's next request to: pure, no I/O.

A probe on another model can answer for another bucket (a 402 for one model behind an
aggregator, a model the key may not use), so the probe asks for the model the gateway uses:
the cooldown's own model, else the agent's configured model for that provider in
`openclaw.json` (its `model` there: a `"provider/model"` string or `{primary, fallbacks}`; the
agent's entry in `agents.entries` / `agents.list` first, then `agents.defaults`; the primary
before the fallbacks), else whatever the endpoint says (`[providers.<id>] model`, the built-in
default). This module picks the middle one; recover.py puts the three in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from probed.model import canonical_provider
from probed.openclawjson import normalize_agent_id


def gateway_model(doc: Mapping[str, Any], agent: str, provider: str) -> str | None:
    """The first model of `provider` in the agent's configured models, or None."""
    want = canonical_provider(provider)
    for ref in agent_model_refs(doc, agent):
        head, sep, model = ref.partition("/")
        if sep and model and canonical_provider(head) == want:
            return model
    return None


def agent_model_refs(doc: Mapping[str, Any], agent: str) -> tuple[str, ...]:
    """The agent's `provider/model` refs in the gateway's order: its own, then the defaults."""
    agents = doc.get("agents")
    if not isinstance(agents, Mapping):
        return ()
    refs: list[str] = []
    own = _entry(agents, normalize_agent_id(agent))
    if own is not None:
        refs.extend(_refs(own.get("model")))
    defaults = agents.get("defaults")
    if isinstance(defaults, Mapping):
        refs.extend(_refs(defaults.get("model")))
    return tuple(dict.fromkeys(r.strip() for r in refs if r.strip()))


def _entry(agents: Mapping[str, Any], agent: str) -> Mapping[str, Any] | None:
    entries = agents.get("entries")
    if isinstance(entries, Mapping):
        for key, entry in entries.items():
            if isinstance(key, str) and normalize_agent_id(key) == agent:
                return entry if isinstance(entry, Mapping) else None
        return None
    listed = agents.get("list")
    if isinstance(listed, list):
        for entry in listed:
            if (
                isinstance(entry, Mapping)
                and isinstance(entry.get("id"), str)
                and normalize_agent_id(entry["id"]) == agent
            ):
                return entry
    return None


def _refs(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        primary = value.get("primary")
        if isinstance(primary, str):
            yield primary
        fallbacks = value.get("fallbacks")
        if isinstance(fallbacks, list):
            yield from (f for f in fallbacks if isinstance(f, str))
