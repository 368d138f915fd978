"""STUB (issue 5 owns this file): structlog configuration. Use `get_logger()` everywhere."""

from __future__ import annotations

from typing import Any

import structlog


def get_logger(**context: Any) -> Any:
    """Events are snake_case words (`probe_started`) with agent/profile/provider/model/reason/until."""
    return structlog.get_logger("probed").bind(**context)


def configure(level: str = "info", fmt: str = "auto") -> None:
    """journal | json | console | auto; redaction applied to every record."""
