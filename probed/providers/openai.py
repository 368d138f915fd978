"""OpenAI (Chat Completions). Its structured `error.code` values are read by the generic rules,
which every OpenAI-shaped provider shares; what is OpenAI's own is listed here."""

from __future__ import annotations

from probed.providers.base import ProviderSpec
from probed.providers.openai_codex import codex_signals

SPEC = ProviderSpec(
    id="openai",
    display_name="OpenAI",
    api="openai",
    base_url="https://api.openai.com/v1",
    model="gpt-4.1-nano",
    # Codex subscription errors are often pasted under plain `openai`: read their resets too.
    reset_readers=(codex_signals,),
)
