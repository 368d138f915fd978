"""OpenAI Codex through a ChatGPT subscription (OpenClaw's `openai-codex` OAuth profiles).

A used-up plan window is a 429 `usage_limit_reached` whose body says when it ends
(`resets_at`, epoch seconds; `resets_in_seconds`), and whose `x-codex-{primary,secondary}-*`
headers give each window's use and reset. `GET /backend-api/wham/usage` shows the same windows
for free.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from probed import resets
from probed.providers.base import (
    Finding,
    FreeCheck,
    ProviderSpec,
    Reading,
    Verdict,
    epoch_at,
    number,
    seconds_at,
    window_used_up,
    windows_have_room,
)
from probed.providers.base import verdict as _v
from probed.reasons import Reason
from probed.resets import Signal


def rules(r: Reading) -> Verdict | None:
    if r.etype == "usage_limit_reached" or r.ecode == "usage_limit_reached":
        return _v(Reason.QUOTA, "profile")
    if any(
        r.headers.get(f"x-codex-{w}-used-percent", "").strip() in ("100", "100.0")
        for w in ("primary", "secondary")
    ):
        return _v(Reason.QUOTA, "profile")
    return None


def codex_signals(
    headers: Mapping[str, str], doc: Any, message: str, now: datetime
) -> list[Signal]:
    """`resets_at` / `resets_in_seconds` in the body, `x-codex-<window>-reset-at` headers for
    each window that is used up (or whose use is not given)."""
    out: list[Signal | None] = []
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        at = number(err.get("resets_at"))
        if at is not None:
            out.append(resets.at_epoch(now, at, "body:error.resets_at"))
        secs = number(err.get("resets_in_seconds"))
        if secs is not None:
            out.append(resets.after(now, secs, "body:error.resets_in_seconds"))
    for window in ("primary", "secondary"):
        used = number(headers.get(f"x-codex-{window}-used-percent"))
        if used is not None and used < 100:
            continue
        reset_at = number(headers.get(f"x-codex-{window}-reset-at"))
        if reset_at is not None:
            out.append(resets.at_epoch(now, reset_at, f"header:x-codex-{window}-reset-at"))
            continue
        after = number(headers.get(f"x-codex-{window}-reset-after-seconds"))
        if after is not None:
            out.append(resets.after(now, after, f"header:x-codex-{window}-reset-after-seconds"))
    return [s for s in out if s is not None]


def read_usage(data: Any, now: datetime) -> Finding | None:
    """`GET /backend-api/wham/usage`: `rate_limit.limit_reached` (or not `allowed`) is a quota
    until the latest reset of a used-up window; otherwise the plan has room."""
    if not isinstance(data, dict):
        return None
    rl = data.get("rate_limit")
    if not isinstance(rl, dict):
        return None
    windows = [
        w for w in (rl.get("primary_window"), rl.get("secondary_window")) if isinstance(w, dict)
    ]
    blocked = rl.get("limit_reached") is True or rl.get("allowed") is False
    if not blocked:
        if rl.get("allowed") is True:
            return windows_have_room("the ChatGPT plan's Codex windows have room")
        return None
    full = [w for w in windows if (number(w.get("used_percent")) or 0) >= 100] or windows
    return window_used_up(
        "the ChatGPT plan's Codex usage limit is reached",
        (
            epoch_at(now, w.get("reset_at")) or seconds_at(now, w.get("reset_after_seconds"))
            for w in full
        ),
        "free:wham/usage",
    )


SPEC = ProviderSpec(
    id="openai-codex",
    display_name="OpenAI Codex (ChatGPT plan)",
    api="openai",
    # Not probed until a Responses-shaped family exists: Chat Completions would be refused there
    # and the refusal written as the profile's failure. Classification and the free reader work.
    base_url=None,
    model=None,
    aliases=("codex", "chatgpt"),
    free_checks=(FreeCheck("codex_usage", "/backend-api/wham/usage", read_usage, advisory=True),),
    models_check=False,
    rules=rules,
    reset_readers=(codex_signals,),
)
