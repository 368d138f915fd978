"""Classify a provider failure from the response itself: structure first, prose second, status last.

The HTTP status alone misleads (a Kimi 403 is a spent plan, a Moonshot 429 is an empty balance,
a Gemini 400 is a bad key, a 402 may be a 5-hour window), and OpenClaw's string matching turns
such cases into 30-second retry loops. So: OpenClaw's own skip lines, then account bans, then
the provider's own rules (its spec in `probed.providers`: structured fields, then its known
wordings), then the generic rules (plan windows, plan-gated models, OpenAI-shaped codes and
types, message patterns), and only then the status. Reset times come from `probed.resets` and
the spec's own reset readers; the advice sentence from `probed.actions`.

Nothing here raises on odd input: a response we cannot read is `unknown`, with advice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from probed import resets, safejson
from probed.actions import action_for
from probed.failure import Failure, Scope
from probed.providers import canonical, display_name, spec_for
from probed.providers.base import Reading, Verdict, has, is_plan_window
from probed.reasons import Reason, from_openclaw

TransportKind = Literal["connect", "tls", "timeout", "protocol", "redirect", "too_large"]

MAX_MESSAGE = 200
_MAX_BODY = 1_000_000

__all__ = [
    "TransportKind",
    "classify",
    "classify_transport",
    "redact",
    "short_message",
]


# --------------------------------------------------------------------------------------------
# Redaction and message shaping


_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-*]+"), r"\1 [redacted]"),
    (
        re.compile(r"(?i)([?&](?:key|api_key|apikey|token|access_token|auth)=)[^&\s\"']+"),
        r"\1[redacted]",
    ),
    (
        re.compile(r"\b(?:sk|rk|pk|gsk|xai|csk)[-_](?:[A-Za-z0-9_\-*]|\.(?=[A-Za-z0-9_\-*.]))+"),
        "[redacted]",
    ),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{10,}"), "[redacted]"),
    (re.compile(r"[A-Za-z0-9_\-.]*\*{2,}[A-Za-z0-9_\-]*"), "[redacted]"),
    (
        re.compile(
            r"(?i)\b(api[_ -]?key|x-api-key|key|token|secret|password|authorization)"
            r"(\s*[:=]\s*)(?!\[redacted\])(?:[^\s,;)\]}\"'.]|\.(?=\S))+"
        ),
        r"\1\2[redacted]",
    ),
    (
        re.compile(r"\b(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{40,}\b"),
        "[redacted]",
    ),
)


def redact(text: str) -> str:
    """Remove anything that looks like a credential or a fragment of one (masked echoes too)."""
    out = text
    for pattern, repl in _REDACTIONS:
        out = pattern.sub(repl, out)
    return out


def short_message(text: str, limit: int = MAX_MESSAGE) -> str:
    """Redacted, one line, at most `limit` characters (cut at a word, marked with an ellipsis)."""
    s = " ".join(redact(text).split())
    if len(s) <= limit:
        return s
    cut = s[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


# --------------------------------------------------------------------------------------------
# Reading the response


_Response = Reading


def _s(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _decode(body: str | bytes) -> str:
    if isinstance(body, bytes | bytearray):
        return bytes(body[:_MAX_BODY]).decode("utf-8", errors="replace")
    return str(body)[:_MAX_BODY]


def _load_json(text: str) -> Any:
    s = text.strip()
    if not s:
        return None
    if s.startswith("data:"):  # one SSE event pasted from a stream
        s = s[5:].strip()
    try:
        return safejson.loads(s)
    except (ValueError, RecursionError):
        pass
    if safejson.too_deep(s):
        return None  # nothing below can be read safely either
    # A log line with the body after a prefix: `... 429 {"error": ...}`.
    start = s.find("{")
    if start > 0:
        try:
            doc, _ = json.JSONDecoder().raw_decode(s[start:])
        except (ValueError, RecursionError):
            return None
        return doc if isinstance(doc, dict) else None
    return None


_RE_QUOTA_ID = re.compile(r'"quotaId"\s*:\s*"([^"]+)"')
_RE_GSTATUS = re.compile(r'"status"\s*:\s*"([A-Z][A-Z_]+)"')


def _html_message(text: str, status: int | None) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
    if m and m.group(1).strip():
        return m.group(1).strip()
    return f"HTTP {status} with an HTML error page" if status else "an HTML error page"


def _nested(
    provider: str, status: int | None, headers: Mapping[str, Any], message: str, depth: int
) -> _Response | None:
    """A proxy that wraps the upstream's whole error document as its message (Gemini CLI,
    some gateways): read the inner document instead, which holds the structured fields."""
    m = message.strip()
    if depth > 0 or not m.startswith("{") or '"error"' not in m:
        return None
    inner = _read(provider, status, headers, m, depth=1)
    return inner if isinstance(inner.doc, dict) else None


def _read(
    provider: str,
    status: int | None,
    headers: Mapping[str, Any],
    body: str | bytes,
    depth: int = 0,
) -> _Response:
    text = _decode(body)
    doc = _load_json(text)
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):
        doc = doc[0]
    etype = ecode = detail_code = gstatus = limit_source = ""
    message = ""
    reasons: list[str] = []
    quota_ids: list[str] = []
    extra: list[str] = []
    if isinstance(doc, dict):
        err = doc.get("error")
        if isinstance(err, dict):
            message = _s(err.get("message"))
            etype = _s(err.get("type"))
            ecode = _s(err.get("code"))
            gstatus = _s(err.get("status"))
            details = err.get("details")
            if isinstance(details, dict):
                detail_code = _s(details.get("error_code"))
            elif isinstance(details, list):
                for d in details:
                    if not isinstance(d, dict):
                        continue
                    if d.get("reason"):
                        reasons.append(_s(d.get("reason")))
                    violations = d.get("violations")
                    if isinstance(violations, list):
                        for v in violations:
                            if isinstance(v, dict) and v.get("quotaId"):
                                quota_ids.append(_s(v.get("quotaId")))
            meta = err.get("metadata")
            if isinstance(meta, dict):
                limit_source = _s(meta.get("limit_source"))
                raw = meta.get("raw")
                if raw is not None:
                    extra.append(raw if isinstance(raw, str) else json.dumps(raw)[:4000])
        elif isinstance(err, str):
            message = err  # xAI: {"code": "<gRPC sentence>", "error": "<message>"}
            ecode = _s(doc.get("code"))
        if not message:
            message = _s(doc.get("message")) or _s(doc.get("detail")) or _s(doc.get("msg"))
        if not etype:
            etype = _s(doc.get("type")) if doc.get("type") != "error" else ""
        if not ecode and not isinstance(err, str):
            ecode = _s(doc.get("code"))
        if doc.get("reason") is not None:  # Kiro-style {"message": ..., "reason": "MONTHLY_..."}
            extra.append(_s(doc.get("reason")))
    elif isinstance(doc, str) and doc.strip():
        message = doc.strip()[:2000]  # a body that is one JSON string
    elif text.strip():
        stripped = text.strip()
        message = _html_message(stripped, status) if stripped.startswith("<") else stripped[:2000]
        # A body cut short when it was pasted still names its quota windows and status.
        quota_ids = _RE_QUOTA_ID.findall(stripped)
        gm = _RE_GSTATUS.search(stripped)
        gstatus = gm.group(1) if gm else ""
    lowered = " ".join([message, ecode, *extra, *reasons]).lower()
    if not isinstance(doc, dict | str):
        lowered = text[:20_000].lower()
    # Terminal-wrapped pastes split words across lines: match on single spaces.
    lowered = " ".join(lowered.split())
    inner = _nested(provider, status, headers, message, depth)
    if inner is not None:
        return inner
    return _Response(
        provider=canonical(provider),
        status=status,
        headers={
            str(k).strip().lower(): str(v).strip() for k, v in headers.items() if v is not None
        },
        doc=doc,
        etype=etype.lower(),
        ecode=ecode.lower(),
        detail_code=detail_code.lower(),
        gstatus=gstatus.upper(),
        reasons=tuple(r.upper() for r in reasons),
        quota_ids=tuple(quota_ids),
        limit_source=limit_source.lower(),
        message=message,
        text=lowered,
    )


# --------------------------------------------------------------------------------------------
# Verdicts


_Verdict = Verdict


def _v(reason: Reason, scope: Scope, **kw: Any) -> _Verdict:
    return Verdict(reason, scope, **kw)


_has = has


_RE_COOLDOWN = re.compile(
    r"provider\s+([\w.\-]+)\s+(?:is in cooldown(?:\s*\(([^)]*)\))?|has\s+(\w+)\s+issue)", re.I
)


def _openclaw_skip(r: _Response) -> _Verdict | None:
    """OpenClaw's own model-fallback skip lines, pasted from a gateway log."""
    m = _RE_COOLDOWN.search(r.text)
    if not m:
        return None
    pid = m.group(1)
    word = m.group(3)
    if word is None:
        tail = r.text[m.end() : m.end() + 80]
        words = re.findall(r"\((\w+)\)", tail)
        word = words[0] if words else None
    reason = from_openclaw(word) if word else None
    why = f"({reason})"
    if reason is None or reason is Reason.UNKNOWN:
        # OpenClaw names billing and auth skips; an unnamed all-profiles cooldown is one of the
        # transient reasons, most often a rate limit, so it gets that lane's short backoff.
        reason = Reason.RATE_LIMIT
        why = "(no reason named; most often a rate limit)"
    name = display_name(pid)
    return _v(
        reason,
        "account",
        message=f"OpenClaw skipped {name}: all of its profiles are in cooldown {why}",
        action=(
            f"run `probed status --provider {canonical(pid)}` to see each profile's "
            f"reason and expiry, or `probed probe {canonical(pid)}` to test them now"
        ),
    )


# OpenAI-shaped structured codes, shared by OpenAI, Groq, OpenRouter, DeepSeek, LiteLLM ---------

_BILLING_CODES = {
    "insufficient_quota",
    "credit_balance_exhausted",
    "organization_usage_limit_exceeded",
    "billing_hard_limit_reached",
    "billing_not_active",
    "payment_required",
    "insufficient_balance",
}
# A model withdrawn by the provider: the key is fine, the model is gone.
_RETIRED_CODES = {
    "model_decommissioned",
    "model_deprecated",
    "model_is_deactivated",
    "model_deactivated",
    "model_retired",
}
_SPEND_LIMIT_CODES = {"organization_spend_limit_exceeded", "project_spend_limit_exceeded"}
_RATE_CODES = {"rate_limit_exceeded", "slow_down", "rate_limit_error", "requests", "tokens"}

_RE_MODEL_RATE = re.compile(
    r"(?:rate limit|limit) reached for (?:model )?`?[\w.\-/:]+`? in organi[sz]ation"
)


def _codes(r: _Response) -> _Verdict | None:
    for code in (r.ecode, r.etype):
        if not code:
            continue
        if code in _BILLING_CODES:
            return _v(Reason.BILLING, "account")
        if code in _SPEND_LIMIT_CODES:
            return _v(Reason.QUOTA, "account", rule="rule:first-of-month")
        if code in _RATE_CODES and (code not in ("requests", "tokens") or r.status == 429):
            scope: Scope = "model" if _RE_MODEL_RATE.search(r.text) else "profile"
            return _v(Reason.RATE_LIMIT, scope)
        if code == "invalid_api_key":
            return _v(Reason.AUTH_PERMANENT, "profile")
        if code == "account_deactivated":
            return _v(Reason.AUTH_PERMANENT, "account")
        if code == "model_not_found":
            return _v(Reason.MODEL_NOT_FOUND, "model")
        if code in ("server_is_overloaded", "capacity_exceeded", "engine_overloaded"):
            return _v(Reason.OVERLOADED, "model")
        if code in _RETIRED_CODES:
            return _v(Reason.MODEL_NOT_FOUND, "model")
        if code in ("key_model_access_denied", "model_not_in_plan"):
            return _v(Reason.PERMISSION, "model")
        if code == "unsupported_country_region_territory":
            return _v(Reason.PERMISSION, "account")
        if code in ("context_length_exceeded", "integer_below_min_value", "invalid_value"):
            return _v(Reason.FORMAT, "model")
    return None


# Error *types* used by Anthropic-shaped and Moonshot/Kimi bodies (after provider rules).
_TYPE_MAP: dict[str, tuple[Reason, Scope]] = {
    "billing_error": (Reason.BILLING, "account"),
    "exceeded_current_quota_error": (Reason.BILLING, "account"),
    "permission_error": (Reason.PERMISSION, "profile"),
    "permission_denied_error": (Reason.PERMISSION, "profile"),
    "not_found_error": (Reason.MODEL_NOT_FOUND, "model"),
    "resource_not_found_error": (Reason.MODEL_NOT_FOUND, "model"),
    "overloaded_error": (Reason.OVERLOADED, "model"),
    "engine_overloaded_error": (Reason.OVERLOADED, "model"),
    "rate_limit_error": (Reason.RATE_LIMIT, "profile"),
    "rate_limit_reached_error": (Reason.RATE_LIMIT, "profile"),
    "rate_limited": (Reason.RATE_LIMIT, "profile"),
    "invalid_authentication_error": (Reason.AUTH_PERMANENT, "profile"),
    "budget_exceeded": (Reason.QUOTA, "profile"),
}


def _types(r: _Response) -> _Verdict | None:
    hit = _TYPE_MAP.get(r.etype)
    return _v(*hit) if hit else None


# Account-level bans, before any provider rule ---------------------------------------------------
#
# A banned account answers with whatever status and type its provider uses for refusals (400
# invalid_request_error at Anthropic, 403 PERMISSION_DENIED at Google, 429 at OpenAI), so the
# words decide: an organisation or account disabled, restricted or suspended, a terms-of-service
# or policy violation, access terminated. It concerns every key of the account, and no wait
# will lift it. A suspension *for an unpaid balance* is billing, and a plan window that a
# provider files under `access_terminated` is a quota; both are left to the later rules.

_RE_BAN = re.compile(
    r"\b(organi[sz]ation|account|workspace|team|projects?)\b[^.]{0,80}?\b(has been|was|is|been)\s+"
    r"(disabled|restricted|suspended|banned|deactivated|terminated|blocked)\b|"
    r"violat\w*\s+(of\s+)?(our\s+|the\s+)?(terms|usage polic|polic|acceptable use)|"
    r"access (was|has been) terminated|\btos_violation\b"
)
_RE_NOT_A_BAN = re.compile(
    r"insufficient|balance|recharge|top[- ]?up|payment|overdue|arrears|billing|check your plan|"
    r"余额|欠费"
)
_BAN_CODES = frozenset({"account_deactivated", "organization_restricted", "access_terminated"})


def _bans(r: _Response) -> _Verdict | None:
    t = r.text
    coded = r.ecode in _BAN_CODES or r.etype in _BAN_CODES or "TOS_VIOLATION" in r.reasons
    if not coded and not _RE_BAN.search(t):
        return None
    if r.etype in _TYPE_MAP and _TYPE_MAP[r.etype][0] is Reason.BILLING:
        return None
    if _RE_NOT_A_BAN.search(t) or is_plan_window(t):
        return None
    return _v(Reason.AUTH_PERMANENT, "account")


# Plan windows and plan-gated models, after provider rules ---------------------------------------


def _plan_window(r: _Response) -> _Verdict | None:
    """A 5-hour, weekly or monthly window of a subscription, whatever status or code it came
    with (a 402, an `insufficient_quota` type, a `rate_limit_error`): it passes by itself."""
    if r.etype == "usage_limit_reached" or r.ecode in (
        "usage_limit_reached",
        "free_quota_exceeded",
    ):
        return _v(Reason.QUOTA, "profile")
    if is_plan_window(r.text):
        return _v(Reason.QUOTA, "profile")
    return None


_RE_PLAN_MODEL = re.compile(
    r"\bmodels?\b.{0,80}?(requires? an? (\w+ )?(subscription|paid plan|higher plan|pro plan)|"
    r"not (available|included|supported) (in|on|with|for) your (current )?(plan|subscription|tier)|"
    r"upgrade (your plan |your subscription )?(for|to) (get )?access)|"
    r"(plan|subscription)\b.{0,40}?(does not|doesn't|do not|don't) (yet )?(include|support|cover)"
    r"( access to)? .{0,20}?\bmodels?\b|套餐.{0,20}(不支持|暂未开放|未开放).{0,20}模型"
)
_RE_PLAN_API = re.compile(
    r"(plan|subscription)\b.{0,40}?(does not|doesn't|do not|don't) (yet )?include (api|access)"
)


def _plan_gated(r: _Response) -> _Verdict | None:
    """The credential is good but its plan does not cover this model (or the API at all)."""
    if _RE_PLAN_MODEL.search(r.text):
        return _v(Reason.PERMISSION, "model")
    if _RE_PLAN_API.search(r.text):
        return _v(Reason.PERMISSION, "account")
    return None


# Generic message patterns, in precedence order -----------------------------------------------

_MESSAGE_RULES: tuple[tuple[re.Pattern[str], Reason, Scope], ...] = (
    (
        re.compile(
            # Model names hold dots (`llama-3.1-70b`), so the gap may too; it stays short.
            r"\bmodels?\b.{0,120}?\b(not found|does not exist|do(es)? not exist|"
            r"is not supported for|no longer (available|supported|served)|has been deprecated|"
            r"(has been|was|is) (retired|removed|deactivated|discontinued)|decommissioned)|"
            r"(unknown|invalid|unsupported|no such) model"
        ),
        Reason.MODEL_NOT_FOUND,
        "model",
    ),
    (
        re.compile(
            r"insufficient[ _](credits?|balance|funds|quota)|credit balance|payment required|"
            r"requires more credits|out of extra usage|extra usage is required|prepayment credit|"
            r"purchase (more )?credits|add (more )?credits|余额不足|欠费|billing (hard )?limit|"
            r"exceeded your current quota|available credits|account is not active"
        ),
        Reason.BILLING,
        "account",
    ),
    (
        re.compile(
            r"(spend(ing)?|usage|budget) limits?.{0,60}(reached|exceeded|hit)|"
            r"(reached|exceeded|hit) .{0,40}(spend(ing)?|usage|budget) limit|"
            r"budget has been exceeded|quota will (reset|be refreshed)|daily (limit|quota)|"
            r"per[- ]day limit|billing cycle"
        ),
        Reason.QUOTA,
        "account",
    ),
    (
        re.compile(
            r"rate[ _-]?limit|too many requests|throttl|resource[_ ]exhausted|"
            r"tokens per min|requests per min|slow down"
        ),
        Reason.RATE_LIMIT,
        "profile",
    ),
    (
        re.compile(
            r"overloaded|at capacity|over capacity|capacity exceeded|high demand|"
            r"temporarily unavailable"
        ),
        Reason.OVERLOADED,
        "model",
    ),
    (
        re.compile(
            r"(invalid|incorrect|bad|wrong)[ _-]?(x-)?api[ _-]?key|api key not valid|"
            r"(key|token|account|workspace|organization)\s+(has been|was|is)\s+"
            r"(revoked|deactivated|deleted|disabled|suspended|blocked)|user not found|"
            r"authentication fails|no such user|reported as leaked|access terminated|"
            r"deactivated workspace"
        ),
        Reason.AUTH_PERMANENT,
        "profile",
    ),
    (
        re.compile(
            r"unauthori[sz]ed|unauthenticated|authentication|expired|"
            r"invalid (access |bearer )?token|no (api key|auth credentials)|"
            r"missing (api key|authorization)|\boauth\b"
        ),
        Reason.AUTH,
        "profile",
    ),
    (
        re.compile(
            r"permission|forbidden|not allowed|access denied|not authori[sz]ed|"
            r"do(es)? not have access|not permitted|not available in your (country|region)"
        ),
        Reason.PERMISSION,
        "profile",
    ),
    (
        # OpenAI gates some models behind organisation verification; the key serves the rest
        re.compile(r"organi[sz]ation must be verified|verify (your )?organi[sz]ation"),
        Reason.PERMISSION,
        "model",
    ),
    (
        re.compile(
            r"timed? ?out|timeout|deadline exceeded|econnreset|etimedout|econnrefused|"
            r"connection (reset|refused|closed|error)|network error|socket hang up|bad gateway|"
            r"gateway time|upstream connect|an unknown error occurred|server error|internal error"
        ),
        Reason.TIMEOUT,
        "model",
    ),
    (
        re.compile(
            r"invalid request|malformed|must end with a user message|tool_use|validation error|"
            r"invalid json|bad request|extra inputs|unexpected (field|parameter)"
        ),
        Reason.FORMAT,
        "model",
    ),
)


def _messages(r: _Response) -> _Verdict | None:
    t = r.text
    if not t.strip():
        return None
    for pattern, reason, scope in _MESSAGE_RULES:
        if pattern.search(t):
            per_model = reason is Reason.RATE_LIMIT and _RE_MODEL_RATE.search(t)
            return _v(reason, "model" if per_model else scope)
    return None


def _status(r: _Response) -> _Verdict:
    s = r.status
    if s is None:
        return _v(Reason.UNKNOWN, "profile")
    if s in (400, 405, 413, 415, 422):
        return _v(Reason.FORMAT, "model")
    if s == 401:
        return _v(Reason.AUTH, "profile")
    if s == 402:
        return _v(Reason.BILLING, "account")
    if s == 403:
        return _v(Reason.PERMISSION, "profile")
    if s == 404:
        return _v(Reason.MODEL_NOT_FOUND, "model")
    if s in (408, 410, 499):
        return _v(Reason.TIMEOUT, "model")
    if s == 429:
        return _v(Reason.RATE_LIMIT, "profile")
    if s in (498, 529):
        return _v(Reason.OVERLOADED, "model")
    if 500 <= s <= 599:
        return _v(Reason.TIMEOUT, "model")
    return _v(Reason.UNKNOWN, "profile")


def _decide(r: _Response) -> _Verdict:
    """OpenClaw's own skip lines, then bans, then the provider's rules, then the generic ones."""
    skip = _openclaw_skip(r)
    if skip is not None:
        return skip
    ban = _bans(r)
    if ban is not None:
        return ban
    spec = spec_for(r.provider)
    if spec is not None and spec.rules is not None:
        verdict = spec.rules(r)
        if verdict is not None and verdict.upstream:
            # An aggregator passed an upstream deployment's error through: read it generically;
            # it concerns the model that deployment serves.
            inner = _generic(r)
            return _Verdict(inner.reason, "model", rule=inner.rule, upstream=True)
        if verdict is not None:
            return verdict
    return _generic(r)


def _generic(r: _Response) -> _Verdict:
    return _plan_window(r) or _plan_gated(r) or _codes(r) or _types(r) or _messages(r) or _status(r)


# --------------------------------------------------------------------------------------------
# Public API


def classify(
    provider: str,
    status: int | None,
    headers: Mapping[str, str],
    body: str | bytes,
    *,
    now: datetime,
) -> Failure:
    """Structured fields first, message patterns second, HTTP status last. Never raises."""
    try:
        return _classify(provider, status, headers, body, now=now)
    except Exception:  # the last line of defence: an unreadable response is "unknown"
        return Failure(
            reason=Reason.UNKNOWN,
            retry_at=None,
            retry_source=None,
            scope="profile",
            status=status,
            message=f"HTTP {status}: the response could not be read" if status else "unreadable",
            action=action_for(Reason.UNKNOWN, provider),
        )


def _classify(
    provider: str,
    status: int | None,
    headers: Mapping[str, str],
    body: str | bytes,
    *,
    now: datetime,
) -> Failure:
    r = _read(provider, status, headers, body)
    verdict = _decide(r)
    spec = spec_for(r.provider)
    tz = spec.local_tz if spec is not None else UTC
    signals = [
        *resets.header_signals(r.headers, now),
        *resets.body_signals(r.doc, now),
        *resets.message_signals(r.message, now, tz=tz),
    ]
    for reader in spec.reset_readers if spec is not None else ():
        signals.extend(reader(r.headers, r.doc, r.message, now))
    signals = [s for s in signals if s.source not in verdict.drop]
    if verdict.rule:
        signals.append(resets.rule_signal(verdict.rule, now))
    chosen = resets.choose(signals)
    if chosen is None and verdict.fallback_rule:
        chosen = resets.rule_signal(verdict.fallback_rule, now)
    message = verdict.message or _message_for(r)
    action = verdict.action or action_for(
        verdict.reason, r.provider, scope=verdict.scope, retry_at=chosen.at if chosen else None
    )
    return Failure(
        reason=verdict.reason,
        retry_at=chosen.at if chosen else None,
        retry_source=chosen.source if chosen else None,
        scope=verdict.scope,
        status=status,
        message=short_message(message),
        action=action,
    )


def _message_for(r: _Response) -> str:
    if r.message.strip():
        return r.message
    if r.status is not None:
        return f"HTTP {r.status} with no error details in the response"
    return "no error details in the response"


_TRANSPORT: dict[str, tuple[str, Scope, str | None]] = {
    "connect": ("could not connect to the provider", "account", None),
    "tls": (
        "TLS handshake or certificate check failed",
        "account",
        "check the machine's CA certificates and clock and any TLS-intercepting proxy; "
        "probed keeps retrying with backoff meanwhile",
    ),
    "timeout": ("no response before the probe timeout", "model", None),
    "protocol": ("the connection broke mid-response", "account", None),
    "redirect": (
        "the provider answered with a redirect, which probed does not follow",
        "account",
        "check base_url for this provider (scheme, host and path as the official SDK takes "
        "it); probed does not follow redirects with a credential",
    ),
    "too_large": (
        "the response was larger than a probe answer can be",
        "account",
        "check base_url for this provider: something other than the API answered",
    ),
}


def classify_transport(kind: TransportKind, detail: str, *, now: datetime) -> Failure:
    """A failure with no HTTP response (connect refused, TLS, timeout, redirect, oversized...).

    All are `timeout`, the contract's word for network failures, so they are retried on the
    short backoff. A TLS certificate failure will not pass by itself, but it is usually a
    clock, CA bundle or proxy problem on this machine that a person fixes while probed keeps
    checking, so it stays on the same lane with its own advice rather than becoming permanent.
    """
    what, scope, action = _TRANSPORT.get(kind, ("network failure", "account", None))
    detail_s = " ".join(str(detail).split())
    text = f"{what}: {detail_s}" if detail_s else what
    return Failure(
        reason=Reason.TIMEOUT,
        retry_at=None,
        retry_source=None,
        scope=scope,
        status=None,
        message=short_message(text),
        action=action or action_for(Reason.TIMEOUT, ""),
    )
