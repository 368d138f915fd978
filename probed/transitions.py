"""What each repair does to OpenClaw's state payload, as pure functions (no I/O, no clock).

Every function takes the `{version, order, lastGood, usageStats}` payload and returns a new one;
the input is never modified. What a function leaves as it was is shared between input and
output, not copied (each one-profile change copied a store of 1,000 windows whole, in every
write): both are values, read-only, and a store hands its mutator a copy of its own.

The field sets copy OpenClaw's own writers exactly, because OpenClaw rebuilds each `usageStats`
entry through a whitelist on its next write and drops anything else:

- `mark_success`   = markAuthProfileSuccess (>= 2026.5.12), with the stamps of the store it
  lands in (`SuccessFields`: the 9.6 shared main store gets fewer);
- `mark_clear`     = clearAuthProfileCooldown (the manual reset: keeps lastUsed);
- `mark_failure_window` = the window/counter part of computeNextProfileUsageStats, but with the
  deadline probed computed (from the provider's reset time and probed's own backoff);
- `clamp_billing`  = the clamp-on-read OpenClaw never shipped (PR #87694), anchored to
  lastFailureAt so applying it twice changes nothing.

New keys are inserted where OpenClaw's whitelist order puts them; keys already present keep
their place, and fields OpenClaw does not know are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from probed.clock import valid_ms
from probed.model import SQLITE_ONLY_FIELDS, USAGE_FIELDS, normalize_provider
from probed.reasons import OPENCLAW_MODEL_SCOPED, OPENCLAW_REASONS, OpenClawLane

State = dict[str, Any]

STATE_SECTIONS: tuple[str, ...] = ("version", "order", "lastGood", "usageStats")
FAILURE_WINDOW_MS = 24 * 3600 * 1000  # OpenClaw's failureWindowMs: counters older than this reset

_BLOCKED = ("blockedUntil", "blockedReason", "blockedSource", "blockedModel", "blockedScope")
_COOLDOWN = ("cooldownUntil", "cooldownReason", "cooldownClassification", "cooldownModel")
_DISABLED = ("disabledUntil", "disabledReason")
# markAuthProfileSuccess / clearAuthProfileCooldown remove exactly these (lastFailureAt stays).
SUCCESS_REMOVES: tuple[str, ...] = (*_BLOCKED, *_COOLDOWN, *_DISABLED, "failureCounts")


def insert_ordered(
    mapping: Mapping[str, Any], key: str, value: Any, order: Iterable[str]
) -> dict[str, Any]:
    """`mapping` with key=value: in place if present, else where `order` puts it."""
    if key in mapping:
        return {**mapping, key: value}
    rank = {k: i for i, k in enumerate(order)}
    mine = rank.get(key, len(rank))
    out: dict[str, Any] = {}
    placed = False
    for k, v in mapping.items():
        if not placed and k in rank and rank[k] > mine:
            out[key] = value
            placed = True
        out[k] = v
    if not placed:
        out[key] = value
    return out


def _set(entry: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return insert_ordered(entry, key, value, USAGE_FIELDS)


def _without(entry: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    drop = set(keys)
    return {k: v for k, v in entry.items() if k not in drop}


def _entry(state: Mapping[str, Any], profile_id: str) -> dict[str, Any] | None:
    stats = state.get("usageStats")
    if not isinstance(stats, Mapping):
        return None
    raw = stats.get(profile_id)
    return dict(raw) if isinstance(raw, Mapping) else None


def _with_entry(state: Mapping[str, Any], profile_id: str, entry: dict[str, Any]) -> State:
    out = dict(state)
    stats = out.get("usageStats")
    stats = dict(stats) if isinstance(stats, Mapping) else {}
    stats[profile_id] = entry
    return insert_ordered(out, "usageStats", stats, STATE_SECTIONS)


def _num(entry: Mapping[str, Any], key: str) -> int | None:
    value = entry.get(key)
    return int(value) if valid_ms(value) else None  # 1e20, Infinity, NaN: not a time


# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SuccessFields:
    """Which bookkeeping fields OpenClaw's own success path stamps, in one kind of store.

    Every store gets the same clearing (`SUCCESS_REMOVES` gone, `errorCount: 0`, lastFailureAt
    kept); they differ in what else is written, and a repair must look exactly like OpenClaw's
    own success where it lands (seen in the real releases, `tests/test_interop_success.py`):

    - JSON files (5.28 and older): `lastUsed = now`, `lastGood[provider] = id`, no lastProbeAt
      (5.28's whitelist drops it);
    - a 9.6 agent's own database: `lastUsed`, `lastGood` and `lastProbeAt = now`;
    - 9.6's shared main store: `lastProbeAt = now` only; lastUsed stays as it was and lastGood
      is not written (OpenClaw keeps both out of the shared row).
    """

    last_used: bool
    last_good: bool
    last_probe_at: bool


JSON_SUCCESS = SuccessFields(last_used=True, last_good=True, last_probe_at=False)
AGENT_DB_SUCCESS = SuccessFields(last_used=True, last_good=True, last_probe_at=True)
SHARED_DB_SUCCESS = SuccessFields(last_used=False, last_good=False, last_probe_at=True)


def mark_success(
    state: Mapping[str, Any],
    profile_id: str,
    *,
    provider: str,
    now_ms: int,
    fields: SuccessFields,
) -> State:
    """markAuthProfileSuccess as the store's own OpenClaw writes it (`fields`, above): every
    blocked*/cooldown*/disabled* field and failureCounts removed, errorCount = 0, lastFailureAt
    kept, plus the store's own stamps."""
    entry = _without(_entry(state, profile_id) or {}, SUCCESS_REMOVES)
    if fields.last_used:
        entry = _set(entry, "lastUsed", now_ms)
    entry = _set(entry, "errorCount", 0)
    if fields.last_probe_at:
        entry = _set(entry, "lastProbeAt", now_ms)
    out = _with_entry(state, profile_id, entry)
    if not fields.last_good:
        return out
    last_good = out.get("lastGood")
    last_good = dict(last_good) if isinstance(last_good, Mapping) else {}
    last_good[normalize_provider(provider)] = profile_id
    return insert_ordered(out, "lastGood", last_good, STATE_SECTIONS)


def mark_clear(state: Mapping[str, Any], profile_id: str) -> State:
    """clearAuthProfileCooldown: the success field set without touching lastUsed or lastGood.
    A profile with no entry has nothing to clear and the state comes back unchanged."""
    current = _entry(state, profile_id)
    if current is None:
        return dict(state)
    entry = _set(_without(current, SUCCESS_REMOVES), "errorCount", 0)
    return _with_entry(state, profile_id, entry)


# Answers that say the credential itself was refused, and answers that could only come once it
# was accepted. Between them they tell which earlier window a new failure proves wrong.
_CREDENTIAL_WORDS = frozenset({"auth", "auth_permanent"})
_ACCEPTED_WORDS = frozenset({"billing", "rate_limit", "model_not_found", "format"})


def _contradicts(new_word: str, old_word: object) -> bool:
    """Does a provider answering `new_word` now show that an earlier `old_word` was wrong?

    A refused credential makes every earlier word a misreading of it (an expired token recorded
    as billing); an answer that needs an accepted credential ends an earlier auth window. Any
    other pair is two things that may both be true (out of credit *and* rate limited)."""
    if old_word not in OPENCLAW_REASONS:
        return True
    if new_word in _CREDENTIAL_WORDS:
        return True
    return old_word in _CREDENTIAL_WORDS and new_word in _ACCEPTED_WORDS


def _other_lane_stays(
    entry: Mapping[str, Any], lane: str, *, word: str, until: int, now: int
) -> bool:
    """The other lane survives a new window only while it is active, ends later, and is not
    contradicted: unrelated evidence must never shorten how long a profile stays out."""
    old_until = _num(entry, f"{lane}Until")
    if old_until is None or old_until <= now or old_until <= until:
        return False
    return not _contradicts(word, entry.get(f"{lane}Reason"))


def mark_failure_window(
    state: Mapping[str, Any],
    profile_id: str,
    *,
    lane: OpenClawLane,
    until_ms: int,
    model: str | None,
    now_ms: int,
    scoped_reasons: frozenset[str] = OPENCLAW_MODEL_SCOPED,
    keep_rate_limit_count: bool = False,
    failure_window_ms: int = FAILURE_WINDOW_MS,
) -> State:
    """Open or extend one lane with OpenClaw's field names and counters.

    - Same lane, same reason, window still active: the later deadline wins (never shortened).
    - An active window of another reason that ends later stays as it is, unless the new answer
      contradicts it (`_contradicts`): a billing window that a probe shows to be an expired
      token becomes an auth cooldown, an auth window ends once the provider accepts the key.
      Otherwise the new window replaces it.
    - The other lane goes when it has ended, ends no later than the new window, or is
      contradicted; it stays otherwise.
    - Counters as computeNextProfileUsageStats: errorCount and failureCounts[word] +1, or reset
      to 1 when the previous window has expired or lastFailureAt is older than 24 h; with
      `keep_rate_limit_count` (OpenClaw 2026.9.3+, the SQLite era) the rate_limit count survives
      the reset, as OpenClaw's own rate-limit backoff is keyed on it.
    - cooldownModel only for the words this OpenClaw scopes (`scoped_reasons`: rate_limit,
      timeout, model_not_found in 9.x; rate_limit alone in the JSON era) with a model. While a
      cooldown is active, a failure on another model, or one for every model, keeps it
      profile-wide, as OpenClaw does: an active profile-wide window is never narrowed.
    - cooldownClassification is dropped (OpenClaw clears it on every failure); blocked* (a
      provider-reported subscription block) is left to OpenClaw.
    """
    word = lane.word
    if word not in OPENCLAW_REASONS:
        raise ValueError(f"{word!r} is not a reason OpenClaw accepts")
    entry = _entry(state, profile_id) or {}

    ends = [
        t for t in (_num(entry, k) for k in ("blockedUntil", "cooldownUntil", "disabledUntil")) if t
    ]
    previous_expired = bool(ends) and now_ms >= max(ends)
    last_failure = _num(entry, "lastFailureAt")
    window_expired = last_failure is not None and now_ms - last_failure > failure_window_ms
    reset = previous_expired or window_expired

    counts_raw = entry.get("failureCounts")
    counts = (
        {k: v for k, v in counts_raw.items() if k in OPENCLAW_REASONS}
        if isinstance(counts_raw, Mapping)
        else {}
    )
    old_errors = _num(entry, "errorCount") or 0
    if reset:
        kept = _num(counts, "rate_limit") if keep_rate_limit_count else None
        errors, counts = 1, {word: 1}
        if kept:
            counts["rate_limit"] = kept + (1 if word == "rate_limit" else 0)
    else:
        errors = old_errors + 1
        prev = counts.get(word)
        counts = {**counts, word: (int(prev) if isinstance(prev, int | float) else 0) + 1}

    entry = _without(entry, ("cooldownClassification",))
    if lane.lane == "disabled":
        old_until = _num(entry, "disabledUntil") or 0
        active = entry.get("disabledReason") == word and old_until > now_ms
        new_until = max(until_ms, old_until) if active else until_ms
        if not _other_lane_stays(entry, "cooldown", word=word, until=new_until, now=now_ms):
            entry = _without(entry, _COOLDOWN)
        entry = _set(entry, "disabledUntil", new_until)
        entry = _set(entry, "disabledReason", word)
    else:
        old_until = _num(entry, "cooldownUntil") or 0
        old_word = entry.get("cooldownReason")
        old_model = entry.get("cooldownModel") if old_word in scoped_reasons else None
        active = old_until > now_ms
        contradicted = active and old_word != word and _contradicts(word, old_word)
        wanted = model if (model and word in scoped_reasons) else None
        if active and not contradicted and old_word != word and old_until > until_ms:
            new_until, reason, scoped = old_until, str(old_word), old_model  # it stands
        else:
            same = active and old_word == word
            new_until = max(until_ms, old_until) if same else until_ms
            reason = word
            scoped = wanted
            if active and not contradicted and wanted != old_model:
                scoped = None  # another model, or every model: profile-wide, never narrowed
        if not _other_lane_stays(entry, "disabled", word=word, until=new_until, now=now_ms):
            entry = _without(entry, _DISABLED)
        entry = _set(entry, "cooldownUntil", new_until)
        entry = _set(entry, "cooldownReason", reason)
        if scoped:
            entry = _set(entry, "cooldownModel", scoped)
        else:
            entry = _without(entry, ("cooldownModel",))

    entry = _set(entry, "errorCount", errors)
    entry = _set(entry, "failureCounts", counts)
    entry = _set(entry, "lastFailureAt", now_ms)
    return _with_entry(state, profile_id, entry)


@dataclass(frozen=True, slots=True)
class ClampChange:
    profile: str
    old_until_ms: int
    new_until_ms: int


CLAMP_SLACK_MS = 1000


def clamp_billing(state: Mapping[str, Any], *, cap_ms: int) -> tuple[State, list[ClampChange]]:
    """disabledReason == "billing" and disabledUntil > lastFailureAt + cap -> lastFailureAt + cap.

    Anchored to lastFailureAt (not now), so a second pass finds nothing to do and a window can
    never slide later. Entries without lastFailureAt cannot be anchored and are left alone. A
    window less than `CLAMP_SLACK_MS` past the cap is not stale: it is a window of the cap's own
    length whose two timestamps were read a millisecond apart (probed's own capped backoff).
    """
    out = dict(state)
    stats = out.get("usageStats")
    if not isinstance(stats, Mapping):
        return out, []
    stats = out["usageStats"] = dict(stats)
    changes: list[ClampChange] = []
    for pid, raw in list(stats.items()):
        if not isinstance(raw, Mapping) or raw.get("disabledReason") != "billing":
            continue
        until, last = _num(raw, "disabledUntil"), _num(raw, "lastFailureAt")
        if until is None or last is None or until <= last + cap_ms + CLAMP_SLACK_MS:
            continue
        stats[pid] = _set(dict(raw), "disabledUntil", last + cap_ms)
        changes.append(ClampChange(pid, until, last + cap_ms))
    return out, changes


def json_era_fields_only(entry: Mapping[str, Any]) -> bool:
    """True when an entry carries no field that only the SQLite era (9.x) keeps."""
    return not any(k in SQLITE_ONLY_FIELDS for k in entry)
