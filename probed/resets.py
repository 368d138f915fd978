"""Reset signals: every place a provider writes "you may try again at ...", read into one instant.

Providers put the reset in headers (three formats), in the JSON body (two providers), in the
message prose, or nowhere, with a calendar rule documented instead. Each reader here is total: a
garbage value (`inf`, `nan`, a negative number, the year 100000, a date already past) gives no
signal rather than an exception or a time in the past, because a wrong reset time either hammers
a provider or parks a working profile for years.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

# Anything further ahead than this is not a reset time but a unit mix-up or garbage. The longest
# real window is a monthly cap, plus a little for "regain access on <date>" set by a person.
MAX_AHEAD = timedelta(days=400)

# An epoch value above this is in milliseconds (10^12 ms is 2001; 10^12 s is the year 33658).
_EPOCH_MS_THRESHOLD = 1e12
# Below this a bare number is a delta in seconds, above it an epoch in seconds (2001-09-09).
_EPOCH_S_THRESHOLD = 1e9


@dataclass(frozen=True, slots=True)
class Signal:
    """One reset time and the short token naming where it came from (for `retry_source`)."""

    at: datetime
    source: str


# Sources that only restate a rate-limit bucket's refill. When the provider also sent an explicit
# Retry-After, that header is its answer for *this* request and these are not consulted
# (Anthropic's documented rule; the SDKs read only retry-after).
def is_bucket_source(source: str) -> bool:
    """Rate-limit bucket refills, restated in headers or prose."""
    if source.startswith("header:anthropic-ratelimit-"):
        return not source.startswith("header:anthropic-ratelimit-unified")
    return source.startswith(
        (
            "header:x-ratelimit-reset",
            "header:reset_at",
            "message:try-again-in",
            "message:limit-resets-at",
        )
    )


RETRY_AFTER_SOURCES = ("header:retry-after-ms", "header:retry-after")


# --------------------------------------------------------------------------------------------
# Building blocks


def _lower(headers: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        items = list(headers.items())
    except Exception:  # a header bag we cannot read has no signals
        return out
    for k, v in items:
        if v is None:
            continue
        out[str(k).strip().lower()] = str(v).strip()
    return out


def after(now: datetime, seconds: float, source: str) -> Signal | None:
    """now + seconds, if that is a sane future instant."""
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    if seconds > MAX_AHEAD.total_seconds():
        return None
    when = now + timedelta(seconds=seconds)
    return Signal(when, source) if when > now else None


def at(now: datetime, when: datetime | None, source: str) -> Signal | None:
    """An absolute instant, if it is after now and not absurdly far ahead."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    if when <= now or when - now > MAX_AHEAD:
        return None
    return Signal(when, source)


def at_epoch(now: datetime, value: float, source: str) -> Signal | None:
    """Epoch seconds or milliseconds (told apart by size), if sane and ahead."""
    if not math.isfinite(value) or value <= 0:
        return None
    if value > _EPOCH_MS_THRESHOLD:
        value /= 1000.0
    if value > now.timestamp() + MAX_AHEAD.total_seconds():
        return None
    try:
        when = datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return at(now, when, source)


def _number(text: str) -> float | None:
    s = text.strip()
    if not re.fullmatch(
        r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", s, re.I
    ):
        return None
    try:
        value = float(s)
    except (ValueError, OverflowError):
        return None
    return value


_GO_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}


def parse_go_duration(text: str) -> float | None:
    """Go / protobuf durations (`6m0s`, `2m59.56s`, `12ms`, `1.203608125s`) -> seconds, or None."""
    s = text.strip().lower()
    if not s:
        return None
    pos = 0
    total = 0.0
    for m in _GO_PART.finditer(s):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not math.isfinite(total):
        return None
    return total


def _delta_or_duration(text: str) -> float | None:
    value = _number(text)
    if value is not None:
        return value
    return parse_go_duration(text)


def parse_instant(text: str, now: datetime, source: str) -> Signal | None:
    """A value of unknown shape: epoch s/ms, RFC 3339, `YYYY-MM-DD HH:MM:SS UTC`, or HTTP-date."""
    s = text.strip()
    if not s:
        return None
    value = _number(s)
    if value is not None:
        if value > _EPOCH_S_THRESHOLD:
            return at_epoch(now, value, source)
        return after(now, value, source)
    when = _parse_datetime_text(s)
    if when is not None:
        return at(now, when, source)
    return _http_date(s, now, source)


def _parse_datetime_text(text: str, tz: tzinfo = UTC) -> datetime | None:
    """RFC 3339 or `YYYY-MM-DD HH:MM:SS [UTC]`; a time without a zone is taken in `tz`."""
    s = text.strip()
    s = re.sub(r"\s*(UTC|GMT|Z)$", "+00:00", s, flags=re.I)
    if not re.match(r"^\d{4}-\d{2}-\d{2}", s):
        return None
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


def _http_date(text: str, now: datetime, source: str) -> Signal | None:
    # email.utils (and the socket module it imports) only for an HTTP-date: `probed status`
    # imports this module for its advice, never for a date
    import email.utils  # noqa: PLC0415

    try:
        parsed = email.utils.parsedate_tz(text)
        if parsed is None:
            return None
        year = parsed[0]
        if not 1970 <= year <= 9999:
            return None
        stamp = float(email.utils.mktime_tz(parsed))
    except Exception:  # the stdlib raises assorted types on odd dates
        return None
    return at_epoch(now, stamp, source) if stamp > 0 else None


# --------------------------------------------------------------------------------------------
# Headers


def parse_retry_after(headers: Mapping[str, Any], now: datetime) -> Signal | None:
    """The SDKs' order: `retry-after-ms`, then `retry-after` as seconds, then as an HTTP-date.

    Unlike the SDKs there is no upper cap (a daemon waits hours happily); zero, negative,
    non-finite, past or absurd values give no signal. A header that is present but unusable
    falls through to the next one, so a junk `retry-after-ms` does not hide a good `retry-after`.
    """
    h = _lower(headers)
    ms = h.get("retry-after-ms")
    if ms is not None:
        value = _number(ms)
        if value is not None:
            sig = after(now, value / 1000.0, "header:retry-after-ms")
            if sig is not None:
                return sig
    ra = h.get("retry-after")
    if ra is None:
        return None
    value = _number(ra)
    if value is not None:
        return after(now, value, "header:retry-after")
    return _http_date(ra, now, "header:retry-after")


def _exhausted(remaining: str | None) -> bool:
    """A window applies when its remaining count is 0, or unknown (no header to say otherwise)."""
    if remaining is None:
        return True
    value = _number(remaining)
    return value is None or value <= 0


def header_signals(headers: Mapping[str, Any], now: datetime) -> list[Signal]:
    """Every reset found in the headers that applies to this failure."""
    h = _lower(headers)
    out: list[Signal | None] = [parse_retry_after(h, now)]
    for name, value in h.items():
        # OpenAI / Groq: x-ratelimit-reset-{requests,tokens,...}: Go durations.
        m = re.fullmatch(r"x-ratelimit-reset-(.+)", name)
        if m:
            if _exhausted(h.get(f"x-ratelimit-remaining-{m.group(1)}")):
                secs = _delta_or_duration(value)
                if secs is not None:
                    out.append(after(now, secs, f"header:{name}"))
            continue
        if name == "x-ratelimit-reset":
            if _exhausted(h.get("x-ratelimit-remaining")):
                out.append(parse_instant(value, now, "header:x-ratelimit-reset"))
            continue
        # Claude subscription: unified plan windows, epoch seconds, applies when rejected.
        m = re.fullmatch(r"anthropic-ratelimit-unified(-[a-z0-9_]+)?-reset", name)
        if m:
            window = m.group(1) or ""
            if window == "-overage":
                continue
            status = h.get(f"anthropic-ratelimit-unified{window}-status")
            applies = status == "rejected" or (not window and status is None)
            if applies:
                out.append(parse_instant(value, now, f"header:{name}"))
            continue
        # Anthropic API keys: anthropic-ratelimit-{requests,tokens,...}-reset, RFC 3339.
        m = re.fullmatch(r"anthropic-ratelimit-(.+)-reset", name)
        if m:
            if _exhausted(h.get(f"anthropic-ratelimit-{m.group(1)}-remaining")):
                out.append(parse_instant(value, now, f"header:{name}"))
            continue
        # LiteLLM's virtual-key limiter: `reset_at: 2026-10-07 12:41:00 UTC`.
        if name in ("reset_at", "x-litellm-reset-at"):
            out.append(parse_instant(value, now, "header:reset_at"))
    return [s for s in out if s is not None]


# --------------------------------------------------------------------------------------------
# Bodies and messages


def _protobuf_duration(value: Any) -> float | None:
    if isinstance(value, str):
        return parse_go_duration(value)
    if isinstance(value, dict):
        try:
            return float(value.get("seconds", 0) or 0) + float(value.get("nanos", 0) or 0) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _number(value)
    return None


def body_signals(doc: Any, now: datetime) -> list[Signal]:
    """Gemini RetryInfo and OpenRouter metadata, from an already-parsed JSON body."""
    out: list[Signal | None] = []
    err = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(err, dict):
        return []
    details = err.get("details")
    if isinstance(details, list):
        for d in details:
            if isinstance(d, dict) and str(d.get("@type", "")).endswith("RetryInfo"):
                secs = _protobuf_duration(d.get("retryDelay"))
                if secs is not None:
                    out.append(after(now, secs, "body:error.details.RetryInfo.retryDelay"))
    meta = err.get("metadata")
    if isinstance(meta, dict):
        secs = _as_float(meta.get("retry_after_seconds"))
        if secs is not None:
            out.append(after(now, secs, "body:error.metadata.retry_after_seconds"))
        hdrs = meta.get("headers")
        if isinstance(hdrs, dict):
            low = _lower(hdrs)
            reset = low.get("x-ratelimit-reset")
            if reset is not None and _exhausted(low.get("x-ratelimit-remaining")):
                out.append(
                    parse_instant(reset, now, "body:error.metadata.headers.X-RateLimit-Reset")
                )
    return [s for s in out if s is not None]


_REGAIN = re.compile(
    r"regain access on (\d{4}-\d{2}-\d{2})(?:\s+at\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(utc|gmt)?",
    re.I,
)
_TRY_AGAIN = re.compile(
    r"(?:try again|retry|retrying|wait)\s+(?:in|after)\s+"
    r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b",
    re.I,
)
_TRY_AGAIN_GO = re.compile(
    r"(?:try again|retry|retrying)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)\b", re.I
)
_RESETS_AT = re.compile(
    r"(?:resets?|reset|refreshed) (?:at|on)[:\s]+"
    r"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"\s*(?:UTC|GMT|Z|[+-]\d{2}:?\d{2})?)",
    re.I,
)
# The same in Chinese: "您的限额将在 2026-08-25 07:41:44 重置".
_RESETS_AT_ZH = re.compile(
    r"将在\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?)\s*(?:重置|刷新|恢复)"
)
# A time of day with its zone and no date: "Resets at 10:00 UTC" is the next 10:00 UTC.
_RESETS_AT_CLOCK = re.compile(
    r"(?:resets?|reset) (?:at|on)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:UTC|GMT)\b", re.I
)


def _unit_seconds(unit: str) -> float:
    u = unit.lower()
    if u.startswith("milli") or u == "ms":
        return 0.001
    if u.startswith("h"):
        return 3600.0
    if u.startswith("m"):
        return 60.0
    return 1.0


def message_signals(message: str, now: datetime, *, tz: tzinfo = UTC) -> list[Signal]:
    """Dates and delays written in the provider's prose; a date without a zone is in `tz`
    (the provider's own, from its spec)."""
    out: list[Signal | None] = []
    text = message[:20_000]
    m = _REGAIN.search(text)
    if m:
        hh = int(m.group(2) or 0)
        mm = int(m.group(3) or 0)
        ss = int(m.group(4) or 0)
        try:
            when = datetime.fromisoformat(m.group(1)).replace(
                hour=hh, minute=mm, second=ss, tzinfo=UTC
            )
        except ValueError:
            when = None
        out.append(at(now, when, "message:regain-access-date"))
    m2 = _TRY_AGAIN_GO.search(text)
    if m2:
        secs = parse_go_duration(m2.group(1))
        if secs is not None:
            out.append(after(now, secs, "message:try-again-in"))
    else:
        m3 = _TRY_AGAIN.search(text)
        if m3:
            secs = float(m3.group(1)) * _unit_seconds(m3.group(2))
            out.append(after(now, secs, "message:try-again-in"))
    m4 = _RESETS_AT.search(text) or _RESETS_AT_ZH.search(text)
    if m4:
        out.append(at(now, _parse_datetime_text(m4.group(1), tz), "message:limit-resets-at"))
    else:
        m5 = _RESETS_AT_CLOCK.search(text)
        if m5:
            out.append(at(now, _next_clock(now, m5), "message:limit-resets-at"))
    return [s for s in out if s is not None]


def _next_clock(now: datetime, m: re.Match[str]) -> datetime | None:
    hh, mm, ss = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if hh > 23 or mm > 59 or ss > 59:
        return None
    n = now.astimezone(UTC)
    when = n.replace(hour=hh, minute=mm, second=ss, microsecond=0)
    return when if when > n else when + timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Calendar rules


def first_of_next_month(now: datetime) -> datetime:
    """Monthly spend caps (Anthropic tier cap, OpenAI spend limits) reset on the 1st, 00:00 UTC."""
    n = now.astimezone(UTC)
    year, month = (n.year + 1, 1) if n.month == 12 else (n.year, n.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def next_utc_midnight(now: datetime) -> datetime:
    n = now.astimezone(UTC)
    return datetime(n.year, n.month, n.day, tzinfo=UTC) + timedelta(days=1)


def _us_pacific_offset_hours(utc: datetime) -> int:
    """UTC offset of US Pacific time by the US DST rule (since 2007), for machines without tzdata.

    DST runs from the second Sunday of March, 02:00 PST (10:00 UTC), to the first Sunday of
    November, 02:00 PDT (09:00 UTC).
    """
    year = utc.year

    def nth_sunday(month: int, n: int) -> int:
        first_weekday = calendar.weekday(year, month, 1)  # Monday = 0
        first_sunday = 1 + (6 - first_weekday) % 7
        return first_sunday + 7 * (n - 1)

    start = datetime(year, 3, nth_sunday(3, 2), 10, tzinfo=UTC)
    end = datetime(year, 11, nth_sunday(11, 1), 9, tzinfo=UTC)
    return -7 if start <= utc < end else -8


def next_pacific_midnight(now: datetime, *, use_tzdata: bool = True) -> datetime:
    """The next 00:00 in America/Los_Angeles, in UTC: when Gemini's per-day quotas reset."""
    n = now.astimezone(UTC)
    if use_tzdata:
        try:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415
        except ImportError:  # pragma: no cover - stdlib since 3.9
            use_tzdata = False
        else:
            try:
                la = ZoneInfo("America/Los_Angeles")
            except (ZoneInfoNotFoundError, ValueError, OSError):
                use_tzdata = False
            else:
                local = n.astimezone(la)
                midnight = datetime(local.year, local.month, local.day, tzinfo=la) + timedelta(
                    days=1
                )
                # Wall-clock arithmetic: a DST change during the day is absorbed by tzinfo.
                return datetime(midnight.year, midnight.month, midnight.day, tzinfo=la).astimezone(
                    UTC
                )
    offset = _us_pacific_offset_hours(n)
    local = n + timedelta(hours=offset)
    day = datetime(local.year, local.month, local.day, tzinfo=UTC) + timedelta(days=1)
    # Midnight local expressed in UTC uses the offset in force at that midnight.
    guess = day - timedelta(hours=_us_pacific_offset_hours(day + timedelta(hours=8)))
    return guess


def rule_signal(rule: str, now: datetime) -> Signal:
    """The calendar rule named by its retry_source token (e.g. "rule:first-of-month")."""
    if rule == "rule:gemini-daily-pacific-midnight":
        return Signal(next_pacific_midnight(now), rule)
    if rule == "rule:first-of-month":
        return Signal(first_of_next_month(now), rule)
    if rule == "rule:utc-midnight":
        return Signal(next_utc_midnight(now), rule)
    raise ValueError(f"unknown reset rule {rule!r}")


# --------------------------------------------------------------------------------------------
# Choosing


def choose(signals: Iterable[Signal]) -> Signal | None:
    """Several signals: the latest that applies.

    An explicit Retry-After answers for this very request, so bucket-refill restatements
    (`x-ratelimit-reset-*`, `anthropic-ratelimit-*-reset`, LiteLLM `reset_at`, "try again in")
    give way to it; everything else (plan windows, body metadata, dates in the message, calendar
    rules) competes, and the latest wins. On a tie the earlier-listed signal is kept.
    """
    sigs = list(signals)
    if any(s.source in RETRY_AFTER_SOURCES for s in sigs):
        sigs = [s for s in sigs if not is_bucket_source(s.source)]
    best: Signal | None = None
    for s in sigs:
        if best is None or s.at > best.at:
            best = s
    return best
