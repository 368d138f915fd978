"""What a free check's answer says about the credential: pure decision logic, no I/O.

A free check (a model list, a balance or key endpoint) is only worth anything when it answers
about *this credential*. Many answers do not: a LiteLLM proxy with no database answers
`GET /key/info` with `500 Database not connected` (or, as pip installs it without prisma, a
plain-text `500 Internal Server Error`); an OpenAI-compatible proxy has no `/models` (404); a
captive portal answers 200 with HTML. Each of those is a fault of the endpoint, not a verdict,
and taking one as the provider's verdict leaves a recovered profile disabled for hours (the
seed incident). So an answer decides the probe only when it is one:

- `passed`: a 2xx whose body is the API's own JSON in the shape that endpoint documents (a
  model list; a key or balance object that shows nothing wrong) proves the key is accepted;
- `failed`: a JSON error that classifies as a verdict on the credential or its account (auth,
  auth_permanent, billing, quota, rate_limit), or a key/balance object that shows the money
  is gone (or, xAI, the key blocked);
- `silent`: everything else (any 5xx, 404/405/501, 408, a body that is not JSON or not in the
  documented shape, a refusal of that one endpoint (permission), an error the classifier
  cannot pin on the credential, and the words of a server that is broken by itself, such as
  "database not connected"). Silence never decides: the next rung does (the next free check,
  else the one-token generation).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from probed.classify import classify
from probed.failure import Failure
from probed.probes.endpoints import FreeCheck
from probed.providers.base import Unshaped
from probed.reasons import Reason

Kind = Literal["passed", "failed", "silent"]

# Reasons that are a verdict on the credential or its account (as opposed to the endpoint).
# Not `permission`: a key may be refused one endpoint and not another (an OpenAI project key
# without the model-list scope still generates), so a refused free endpoint says nothing about
# the generation; the generation decides.
VERDICT_REASONS = frozenset(
    {Reason.AUTH, Reason.AUTH_PERMANENT, Reason.BILLING, Reason.QUOTA, Reason.RATE_LIMIT}
)

# Words of a server that cannot answer for reasons of its own, whatever status it sends them
# with (LiteLLM says "No connected db." with a 400 to any key but the master key).
SERVER_FAULTS = (
    "database not connected",
    "no connected db",
    "no_db_connection",
    "db not connected",
    "database is not connected",
    "prisma",
)

ABSENT_STATUSES = frozenset({404, 405, 501})


@dataclass(frozen=True, slots=True)
class FreeAnswer:
    kind: Kind
    failure: Failure | None = None  # set when kind is "failed"
    why: str = ""  # set when kind is "silent": what the answer was instead (for the log)
    clears: frozenset[Reason] = frozenset()  # reasons a passed reading proves over


def judge(
    provider: str,
    check: FreeCheck,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    truncated: bool,
    now: datetime,
) -> FreeAnswer:
    """The verdict of one free check's HTTP answer (see the module docstring)."""
    text = body.decode("utf-8", errors="replace")
    lowered = text.lower()
    if check.advisory and status >= 400:
        return FreeAnswer("silent", why=f"HTTP {status} from an advisory endpoint")
    if status in ABSENT_STATUSES:
        return FreeAnswer("silent", why=f"HTTP {status}: the server has no such endpoint")
    if status >= 500:
        return FreeAnswer("silent", why=f"HTTP {status}: the server failed by itself")
    if any(word in lowered for word in SERVER_FAULTS):
        return FreeAnswer("silent", why=f"HTTP {status}: the server has no database")
    if status >= 400:
        if _json(body) is None:
            return FreeAnswer("silent", why=f"HTTP {status} with a body that is not JSON")
        failure = classify(provider, status, headers, text, now=now)
        if failure.reason in VERDICT_REASONS:
            return FreeAnswer("failed", failure)
        return FreeAnswer("silent", why=f"HTTP {status} ({failure.reason}) is not about the key")
    if status < 200 or status >= 300:
        return FreeAnswer("silent", why=f"HTTP {status}")
    if check.kind == "models":
        # A model list can be longer than the body cap, so its start decides, not a full parse.
        head = body[:64].lstrip()
        if head[:1] in (b"{", b"[") and not _embedded_error(body, truncated):
            return FreeAnswer("passed")
        ctype = headers.get("content-type", "no content type")
        return FreeAnswer("silent", why=f"HTTP {status} that is not the provider's JSON ({ctype})")
    data = None if truncated else _json(body)
    if data is None:
        return FreeAnswer("silent", why=f"HTTP {status} with a body that is not JSON")
    return read_account(check, data, now)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _embedded_error(body: bytes, truncated: bool) -> bool:
    """`{"error": ...}` in a 200 (OpenRouter-style) is no model list."""
    if truncated:
        return False
    data = _json(body)
    return isinstance(data, dict) and bool(data.get("error")) and "data" not in data


def read_account(check: FreeCheck, data: Any, now: datetime) -> FreeAnswer:
    """What a free key, balance or usage endpoint says, read by the provider's own reader (in
    its spec): a failure that still holds, a reading that proves reasons over, or nothing wrong."""
    try:
        finding = check.read(data, now) if check.read is not None else None
    except Unshaped as exc:
        return FreeAnswer("silent", why=f"{check.kind}: JSON not in the documented shape ({exc})")
    if finding is None:
        return FreeAnswer("passed")
    if finding.reason is None:
        return FreeAnswer("passed", clears=finding.clears)
    failure = Failure(
        reason=finding.reason,
        retry_at=finding.retry_at,
        retry_source=finding.retry_source,
        scope=finding.scope,
        status=None,
        message=finding.message,
        action=finding.action,
    )
    return FreeAnswer("failed", failure)
