"""STUB (issue 3 owns this file): classify a provider failure structurally."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from probed.failure import Failure

TransportKind = Literal["connect", "tls", "timeout", "protocol", "redirect", "too_large"]


def classify(
    provider: str,
    status: int | None,
    headers: Mapping[str, str],
    body: str | bytes,
    *,
    now: datetime,
) -> Failure:
    """Structured fields first, message patterns second, HTTP status last. Never raises."""
    raise NotImplementedError


def classify_transport(kind: TransportKind, detail: str, *, now: datetime) -> Failure:
    """A failure with no HTTP response (connect refused, TLS, timeout, redirect, oversized...)."""
    raise NotImplementedError
