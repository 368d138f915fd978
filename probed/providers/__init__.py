"""Provider knowledge in one place: one module per provider, one registry, one alias table.

See `probed/providers/base.py` for what a provider module defines and docs/providers.md for how
to add one.
"""

from __future__ import annotations

from probed.providers.base import Finding, FreeCheck, ProviderSpec, Reading, Verdict
from probed.providers.registry import ALIASES, SPECS, canonical, display_name, is_known, spec_for

__all__ = [
    "ALIASES",
    "SPECS",
    "Finding",
    "FreeCheck",
    "ProviderSpec",
    "Reading",
    "Verdict",
    "canonical",
    "display_name",
    "is_known",
    "spec_for",
]
