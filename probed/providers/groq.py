"""Groq: OpenAI-compatible; `x-ratelimit-limit-requests` counts per day, 498 is flex-tier
capacity, and retired models answer `model_decommissioned` (read by the generic rules)."""

from __future__ import annotations

from probed.providers.base import ProviderSpec

SPEC = ProviderSpec(
    id="groq",
    display_name="Groq",
    api="openai",
    base_url="https://api.groq.com/openai/v1",
    model="llama-3.1-8b-instant",
)
