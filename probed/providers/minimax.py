"""MiniMax (Anthropic-compatible endpoint): plan windows arrive as a 429 `rate_limit_error`
whose message names the window and its reset ("5-hour usage limit reached ..., resets at
2026-05-15T15:00:00Z (2056)"); the generic plan-window rule reads them."""

from __future__ import annotations

from probed.providers.base import ProviderSpec

SPEC = ProviderSpec(
    id="minimax",
    display_name="MiniMax",
    api="anthropic",
    # International (api.minimax.io) and mainland (api.minimaxi.com) accounts live on different
    # hosts: the endpoint must come from configuration or openclaw.json.
    base_url=None,
    model="MiniMax-M2",
)
