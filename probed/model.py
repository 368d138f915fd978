"""A profile and its failure state, read the way OpenClaw reads them.

Values only: nothing here touches a file. `Usage` is one `usageStats` entry; `view()` answers
"is this profile usable now, and if not, which lane, why and until when" exactly as OpenClaw's
`resolveProfileUnusableUntil` / `isProfileInCooldown` would, including the providers OpenClaw
never cools down and the per-model scoping of some cooldowns.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, TypeGuard

from probed.clock import valid_ms
from probed.providers.registry import canonical
from probed.reasons import OPENCLAW_MODEL_SCOPED

CredentialType = Literal["api_key", "token", "oauth"]
CREDENTIAL_TYPES: tuple[CredentialType, ...] = ("api_key", "token", "oauth")
StateKind = Literal["ok", "cooldown", "disabled", "blocked"]

# OpenClaw writes nothing for these and ignores stale entries (isAuthCooldownBypassedForProvider).
BYPASS_PROVIDERS = frozenset({"openrouter", "kilocode"})

# usageStats fields OpenClaw keeps, in the order its whitelist rebuilds them (9.6). 5.28 lacks
# the last three; we only write those on SQLite-era stores.
USAGE_FIELDS: tuple[str, ...] = (
    "lastUsed",
    "blockedUntil",
    "blockedReason",
    "blockedSource",
    "blockedModel",
    "blockedScope",
    "cooldownUntil",
    "cooldownReason",
    "cooldownClassification",
    "cooldownModel",
    "disabledUntil",
    "disabledReason",
    "errorCount",
    "failureCounts",
    "lastFailureAt",
    "lastProbeAt",
)
_WINDOW_FIELDS = frozenset({"cooldownUntil", "disabledUntil", "blockedUntil"})
SQLITE_ONLY_FIELDS = frozenset({"blockedScope", "cooldownClassification", "lastProbeAt"})


def normalize_provider(provider: str) -> str:
    return provider.strip().lower()


# The one alias table lives with the provider specs; this name stays for the callers that
# match targets and filters (`probed status --provider gemini`).
canonical_provider = canonical


@dataclass(frozen=True, slots=True)
class SecretRef:
    """OpenClaw's SecretRef: where a key lives instead of the key itself."""

    source: Literal["env", "file", "exec"]
    provider: str
    id: str


@dataclass(frozen=True, slots=True)
class Credential:
    """The secret half of a profile. Its repr shows which fields are set, never their values."""

    type: CredentialType
    key: str | None = field(default=None, repr=False)
    key_ref: SecretRef | None = None
    token: str | None = field(default=None, repr=False)
    token_ref: SecretRef | None = None
    access: str | None = field(default=None, repr=False)
    expires_ms: int | None = None  # token / oauth expiry, epoch ms
    refreshable: bool = False  # an OAuth refresh token is stored (OpenClaw renews `access`)

    def __repr__(self) -> str:
        held = [
            name
            for name in ("key", "key_ref", "token", "token_ref", "access")
            if getattr(self, name) is not None
        ]
        return (
            f"Credential(type={self.type!r}, holds={held}, expires_ms={self.expires_ms}, "
            f"refreshable={self.refreshable})"
        )


@dataclass(frozen=True, slots=True)
class Listed:
    """What a listing shows of a profile (`probed status`): its provider and credential type.

    The one rule for which `profiles` entries OpenClaw keeps lives here, and `Profile.from_json`
    applies it too, so a display read (probed.stores.display) lists exactly the profiles a full
    read parses, without reading a single credential field."""

    provider: str  # normalized, as Profile.provider
    type: CredentialType

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Listed | None:
        """The entry's provider and type; None for entries OpenClaw itself would drop."""
        kind = raw.get("type", raw.get("mode"))
        provider = raw.get("provider")
        if kind not in CREDENTIAL_TYPES or not isinstance(provider, str):
            return None
        return _listed(provider, kind)


@functools.lru_cache(maxsize=4096)
def _listed(provider: str, kind: CredentialType) -> Listed | None:
    """A fleet has a handful of (provider, type) pairs over 100,000 profiles: each is checked
    and normalized once, and shared."""
    return Listed(normalize_provider(provider), kind) if provider.strip() else None


class Profile(NamedTuple):
    """One `profiles` entry OpenClaw keeps.

    A named tuple, as `Usage` is: the daemon parses every profile at start-up (100,000 in a big
    fleet) and again when its cell changes, and a frozen dataclass's `__init__` (one
    `object.__setattr__` per field) was a third of each parse. Immutable all the same. Its
    `credential` stays a frozen dataclass: a tuple's items are easily serialized or formatted
    by accident, and that one holds the secret."""

    id: str
    provider: str  # normalized: trimmed, lower-case (OpenClaw's normalizeProviderId)
    type: CredentialType
    credential: Credential
    email: str | None = None

    def __repr__(self) -> str:  # the credential's own repr is safe; it is left out all the same
        return (
            f"Profile(id={self.id!r}, provider={self.provider!r}, type={self.type!r}, "
            f"email={self.email!r})"
        )

    @classmethod
    def from_json(cls, profile_id: str, raw: Mapping[str, Any]) -> Profile | None:
        """Parse one `profiles` entry; None for entries OpenClaw itself would drop."""
        listed = Listed.from_json(raw)
        if listed is None:
            return None
        kind = listed.type
        key = raw.get("key", raw.get("apiKey"))
        token, access, expires = raw.get("token"), raw.get("access"), raw.get("expires")
        refresh = raw.get("refresh")
        credential = Credential(  # by position, in the fields' order: keywords cost a third more
            kind,
            key if isinstance(key, str) and key else None,  # key
            _secret_ref(raw.get("keyRef")),  # key_ref
            token if isinstance(token, str) and token else None,  # token
            _secret_ref(raw.get("tokenRef")),  # token_ref
            access if isinstance(access, str) and access else None,  # access
            int(expires) if valid_ms(expires) else None,  # expires_ms
            isinstance(refresh, str) and bool(refresh),  # refreshable
        )
        email = raw.get("email")
        return _new_profile(
            cls,
            (
                profile_id,
                listed.provider,
                kind,
                credential,
                email if isinstance(email, str) else None,
            ),
        )


_new_profile = tuple.__new__  # `Profile._make` without its Python frame and length check


def _secret_ref(raw: object) -> SecretRef | None:
    if raw is None or (type(raw) is not dict and not isinstance(raw, Mapping)):  # no ABC check
        return None
    source, provider, ref_id = raw.get("source"), raw.get("provider"), raw.get("id")
    if source not in ("env", "file", "exec") or not isinstance(ref_id, str):
        return None
    return SecretRef(
        source=source, provider=provider if isinstance(provider, str) else "", id=ref_id
    )


def _finite_number(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _time(key: str, value: object, bad: list[tuple[str, str]]) -> int | None:
    """An epoch-ms field's value when it is a time (`valid_ms`), else None.

    Absent, null and 0 (JavaScript's "unset") are simply None; anything else that is not a time
    (`1e20`, negative, NaN, a string) is also noted in `bad` as (field, value shown short), so the
    profile can be reported by name while every other profile goes on as usual."""
    if valid_ms(value):
        return int(value)
    if value is not None and not (value == 0 and not isinstance(value, bool)):
        bad.append((key, repr(value)[:40]))
    return None


def _str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) and value else None


# usageStats' time and text fields, and the Usage field each one fills (see Usage.from_json)
_TIME_FIELDS = {
    "lastUsed": "last_used",
    "cooldownUntil": "cooldown_until",
    "disabledUntil": "disabled_until",
    "blockedUntil": "blocked_until",
    "lastFailureAt": "last_failure_at",
    "lastProbeAt": "last_probe_at",
}
_TIME_ORDER = {key: i for i, key in enumerate(_TIME_FIELDS)}
_TEXT_FIELDS = {
    "cooldownReason": "cooldown_reason",
    "cooldownModel": "cooldown_model",
    "disabledReason": "disabled_reason",
    "blockedReason": "blocked_reason",
    "blockedModel": "blocked_model",
    "blockedScope": "blocked_scope",
}


class View(NamedTuple):
    """A profile's state at one instant, as `probed status` shows it.

    A named tuple, as `Usage` is: one is made for each window at every look (10,000 windows at
    100,000 profiles), and a frozen dataclass's `__init__` was most of `Usage.view`."""

    state: StateKind
    reason: str | None  # OpenClaw's recorded word for the active lane
    until_ms: int | None  # when the profile becomes usable again (max of active lanes)
    model: str | None  # the model a cooldown is scoped to, if any

    @property
    def usable(self) -> bool:
        return self.state == "ok"


OK_VIEW = View("ok", None, None, None)


_NO_COUNTS: Mapping[str, int] = MappingProxyType({})


class Usage(NamedTuple):
    """One `usageStats` entry. All times are epoch milliseconds, as OpenClaw stores them.

    A named tuple, not a frozen dataclass like the rest: status and the daemon's start-up parse
    one per window (10,000 at 100,000 profiles), and a frozen dataclass's `__init__` (one
    `object.__setattr__` per field, sixteen of them) was half of each parse. Immutable all the
    same, compared by value."""

    last_used: int | None = None
    cooldown_until: int | None = None
    cooldown_reason: str | None = None
    cooldown_model: str | None = None
    disabled_until: int | None = None
    disabled_reason: str | None = None
    blocked_until: int | None = None
    blocked_reason: str | None = None
    blocked_model: str | None = None
    blocked_scope: str | None = None
    error_count: int = 0
    failure_counts: Mapping[str, int] = _NO_COUNTS
    last_failure_at: int | None = None
    last_probe_at: int | None = None
    # the reasons this store's OpenClaw scopes to cooldownModel (its era decides)
    scoped_reasons: frozenset[str] = OPENCLAW_MODEL_SCOPED
    # time fields that hold something that is not a time: (field, value), ignored above
    invalid: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_json(
        cls, raw: object, *, scoped_reasons: frozenset[str] = OPENCLAW_MODEL_SCOPED
    ) -> Usage:
        """One walk over the entry's own keys (a handful), each put in its field's place, not a
        lookup of every field by name: status and start-up parse 10,000 windows at 100,000
        profiles."""
        if type(raw) is not dict and not isinstance(raw, Mapping):  # JSON's own: no ABC check
            return cls(scoped_reasons=scoped_reasons)
        values = list(_USAGE_DEFAULTS)
        bad: list[tuple[str, str]] = []
        for key, value in raw.items():
            slot = _USAGE_SLOTS.get(key)
            if slot is None:
                continue
            kind, i = slot
            if kind is _TIME:
                ms = _time(key, value, bad)
                if ms is not None:
                    values[i] = ms
            elif kind is _TEXT:
                if isinstance(value, str) and value:
                    values[i] = value
            elif kind is _COUNT:
                if _finite_number(value):
                    values[i] = int(value)
            elif type(value) is dict or isinstance(value, Mapping):  # failureCounts
                values[i] = {
                    k: int(v) for k, v in value.items() if isinstance(k, str) and _finite_number(v)
                }
        if len(bad) > 1:  # named in the fields' own order, whatever the entry's
            bad.sort(key=lambda kv: _TIME_ORDER[kv[0]])
        values[_SCOPED_SLOT] = scoped_reasons
        values[_INVALID_SLOT] = tuple(bad)
        return _new_usage(cls, values)

    def invalid_note(self, profile_id: str) -> str | None:
        """One sentence naming the profile and its fields that are not times, if any."""
        if not self.invalid:
            return None
        fields = ", ".join(f"usageStats.{k} = {v}" for k, v in self.invalid)
        what = "is not a time" if len(self.invalid) == 1 else "are not times"
        note = f"profile {profile_id}: {fields} {what}, so probed ignores it"
        if any(k in _WINDOW_FIELDS for k, _ in self.invalid):
            note += (
                f" (OpenClaw may keep the profile out); `probed clear {profile_id}` resets the "
                "profile's failure state"
            )
        return note

    def unusable_until(self) -> int | None:
        """OpenClaw's resolveProfileUnusableUntil: the latest of the three lanes, active or not."""
        ends = [t for t in (self.blocked_until, self.cooldown_until, self.disabled_until) if t]
        return max(ends) if ends else None

    def recorded(self) -> View | None:
        """The lane that ends last, active or not; None when no window was ever recorded.

        OpenClaw clears expired windows only in memory, so a store keeps them (and their reason)
        until the next write: this is what the daemon recovers and what a probe must prove.
        """
        lanes = [
            (until, order, state, reason, model)
            for order, (until, state, reason, model) in enumerate(
                (
                    (self.cooldown_until, "cooldown", self.cooldown_reason, self._scoped_model()),
                    (self.blocked_until, "blocked", self.blocked_reason, self.blocked_model),
                    (self.disabled_until, "disabled", self.disabled_reason, None),
                )
            )
            if until is not None
        ]
        if not lanes:
            return None
        until, _, state, reason, model = max(lanes)
        return View(state, reason, until, model)  # type: ignore[arg-type]

    def _scoped_model(self) -> str | None:
        return self.cooldown_model if self.cooldown_reason in self.scoped_reasons else None

    def view(self, provider: str, now_ms: int, for_model: str | None = None) -> View:
        """Which lane keeps the profile out now, if any (OpenClaw's isProfileInCooldown).

        With `for_model`, a cooldown scoped to another model does not count, unless a disabled
        or blocked window is also active (those always take the whole profile out).
        """
        if normalize_provider(provider) in BYPASS_PROVIDERS:
            return OK_VIEW
        disabled = self.disabled_until is not None and now_ms < self.disabled_until
        blocked = self.blocked_until is not None and now_ms < self.blocked_until
        if blocked and for_model and self.blocked_scope == "model" and self.blocked_model:
            blocked = self.blocked_model == for_model
        cooldown = self.cooldown_until is not None and now_ms < self.cooldown_until
        scoped_model = self._scoped_model()
        if (
            cooldown
            and for_model
            and scoped_model
            and scoped_model != for_model
            and not (disabled or blocked)
        ):
            cooldown = False
        if not (disabled or blocked or cooldown):
            return OK_VIEW
        # the latest end of the lanes active now (each one active has an end)
        until = max(
            self.disabled_until if disabled and self.disabled_until is not None else 0,
            self.blocked_until if blocked and self.blocked_until is not None else 0,
            self.cooldown_until if cooldown and self.cooldown_until is not None else 0,
        )
        if disabled:  # by position, as `_new_usage` builds a Usage
            return _new_view(View, ("disabled", self.disabled_reason, until, None))
        if blocked:
            return _new_view(View, ("blocked", self.blocked_reason, until, self.blocked_model))
        return _new_view(View, ("cooldown", self.cooldown_reason, until, scoped_model))


# Where each usageStats key goes in a Usage, and how it is read (see Usage.from_json).
_TIME, _TEXT, _COUNT, _COUNTS = "time", "text", "count", "counts"
_USAGE_DEFAULTS: tuple[Any, ...] = tuple(Usage._field_defaults[f] for f in Usage._fields)
_USAGE_SLOTS: dict[str, tuple[str, int]] = {
    **{key: (_TIME, Usage._fields.index(name)) for key, name in _TIME_FIELDS.items()},
    **{key: (_TEXT, Usage._fields.index(name)) for key, name in _TEXT_FIELDS.items()},
    "errorCount": (_COUNT, Usage._fields.index("error_count")),
    "failureCounts": (_COUNTS, Usage._fields.index("failure_counts")),
}
_SCOPED_SLOT = Usage._fields.index("scoped_reasons")
_INVALID_SLOT = Usage._fields.index("invalid")
# `Usage._make` without its Python frame and length check: `values` has every field
_new_usage = tuple.__new__
_new_view = tuple.__new__  # the same for a View


def usage_of(
    state: Mapping[str, Any],
    profile_id: str,
    *,
    scoped_reasons: frozenset[str] = OPENCLAW_MODEL_SCOPED,
) -> Usage:
    """The Usage of one profile in a state payload ({version, order, lastGood, usageStats})."""
    stats = state.get("usageStats")
    if type(stats) is not dict and not isinstance(stats, Mapping):
        return Usage(scoped_reasons=scoped_reasons)
    return Usage.from_json(stats.get(profile_id), scoped_reasons=scoped_reasons)
