"""The classified failure: what went wrong, until when, for what scope, and what a person does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from probed.clock import iso
from probed.reasons import Reason

Scope = Literal["model", "profile", "account"]


@dataclass(frozen=True, slots=True)
class Failure:
    reason: Reason
    retry_at: datetime | None  # earliest time the provider said a retry may succeed (UTC, aware)
    retry_source: (
        str | None
    )  # e.g. "header:retry-after", "body:error.details.RetryInfo", "rule:gemini-daily"
    scope: Scope
    status: int | None
    message: str  # short, from the provider's own words; never carries a credential
    action: str  # one sentence for a person

    def to_json(self) -> dict[str, Any]:
        """The `probed classify` shape from the contract, key order included."""
        return {
            "reason": str(self.reason),
            "retry_at": iso(_ceil_second(self.retry_at)) if self.retry_at else None,
            "retry_source": self.retry_source,
            "scope": self.scope,
            "status": self.status,
            "message": self.message,
            "action": self.action,
        }


def _ceil_second(dt: datetime) -> datetime:
    """Round up, so a printed retry_at is never earlier than the signal it came from."""
    if dt.microsecond:
        return dt.replace(microsecond=0) + timedelta(seconds=1)
    return dt
