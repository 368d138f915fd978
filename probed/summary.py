"""One verdict for several attempts (every profile of a provider failed), built from their reasons.

OpenClaw joins the attempts' messages and re-reads the joined text, so one profile's "rate limit"
wording can turn a provider whose other profiles are out of credit into a 30-second retry loop.
Here the summary is computed from the classified reasons themselves: all billing is billing;
different reasons are reported as "mixed", each one listed with its count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from probed.failure import Failure
from probed.reasons import EX_NOPERM, EX_OK, EX_TEMPFAIL, Reason

MIXED: Literal["mixed"] = "mixed"


@dataclass(frozen=True, slots=True)
class Summary:
    reason: Reason | Literal["mixed"] | None  # None when there were no failed attempts
    reasons: tuple[tuple[Reason, int], ...]  # each distinct reason with its count, most first
    retry_at: datetime | None  # earliest any attempt may succeed, if every attempt named one
    attempts: int

    @property
    def text(self) -> str:
        """For people: "billing (3 profiles)" or "mixed: billing (2), rate_limit (1)"."""
        if self.reason is None:
            return "no failed attempts"
        if self.reason == MIXED:
            return "mixed: " + ", ".join(f"{r} ({n})" for r, n in self.reasons)
        plural = "profile" if self.attempts == 1 else "profiles"
        return f"{self.reason} ({self.attempts} {plural})"

    @property
    def exit_code(self) -> int:
        """77 when any attempt says the credential itself is at fault, else 75; 0 for none."""
        if not self.reasons:
            return EX_OK
        if any(r.is_credential_problem for r, _ in self.reasons):
            return EX_NOPERM
        return EX_TEMPFAIL


def summarize(failures: Sequence[Failure]) -> Summary:
    """The attempts' reasons, never their messages, decide the summary."""
    if not failures:
        return Summary(reason=None, reasons=(), retry_at=None, attempts=0)
    counts = Counter(f.reason for f in failures)
    order = {r: i for i, r in enumerate(dict.fromkeys(f.reason for f in failures))}
    listed = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], order[kv[0]])))
    reason: Reason | Literal["mixed"] = listed[0][0] if len(listed) == 1 else MIXED
    times = [f.retry_at for f in failures]
    retry_at = None
    if all(t is not None for t in times):
        retry_at = min(t for t in times if t is not None)
    return Summary(reason=reason, reasons=listed, retry_at=retry_at, attempts=len(failures))
