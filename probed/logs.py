"""Logging: structlog to standard output, one line per event, with secrets scrubbed.

Under journald each line carries the sd-daemon priority prefix (`<4>`) so `journalctl -p warning`
works, and no timestamp (journald stamps lines itself). Every record, structlog's own and those of
stdlib loggers (APScheduler, httpx) alike, passes one redaction processor before it is rendered:
a credential that slipped into an exception message still never reaches the journal.

The rules themselves live in `probed.redact` (their one owner); this module only applies them,
and makes every string printable on one line (a provider's message cannot drive the terminal).

Loggers are never cached, so a SIGHUP that changes `[daemon] log_level` takes effect at once.

structlog is imported when the first record is made, not at import: with the asyncio it brings,
it was a third of the start-up of a command such as `probed status`, which usually logs
nothing. `configure` sets up the standard library side at once (so a foreign logger's record is
never printed unredacted by logging's fallback handler) and structlog's side on first use.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping, MutableMapping
from types import ModuleType
from typing import Any, TextIO

from probed.redact import MASK, is_secret_name, printable, scrub, scrub_text

SD_PRIORITY: Mapping[str, int] = {
    "critical": 2,
    "exception": 3,
    "error": 3,
    "warning": 4,
    "warn": 4,
    "info": 6,
    "debug": 7,
    "notset": 7,
}
_QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "watchfiles", "asyncio")


def redact(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the last word before rendering, for every record."""
    for k in list(event_dict):
        v = event_dict[k]
        if is_secret_name(k) and v is not None:
            event_dict[k] = MASK
        elif k not in ("_record", "_from_structlog"):
            event_dict[k] = _one_line(scrub(v))
    return event_dict


def _one_line(value: Any) -> Any:
    """Strings (also inside lists and mappings) with control characters made visible."""
    if isinstance(value, str):
        return printable(value, one_line=True)
    if isinstance(value, dict):
        return {k: _one_line(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_one_line(v) for v in value]
    return value


class _SdPrefix:
    """Prepend the sd-daemon `<N>` priority so journald files the line at the right level."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __call__(self, logger: Any, name: str, event_dict: MutableMapping[str, Any]) -> str:
        level = str(event_dict.get("level", name)).lower()
        return f"<{SD_PRIORITY.get(level, 6)}>{self._inner(logger, name, event_dict)}"


class _ConsoleLine:
    """`2026-10-07T12:00:00Z info     probe_started agent=main ...`: one line, no colours."""

    def __init__(self) -> None:
        self._rest = _structlog().processors.LogfmtRenderer(bool_as_flag=False)

    def __call__(self, logger: Any, name: str, event_dict: MutableMapping[str, Any]) -> str:
        ts = event_dict.pop("timestamp", "")
        level = str(event_dict.pop("level", name))
        event = str(event_dict.pop("event", ""))
        source = event_dict.pop("logger", None)
        rest = self._rest(logger, name, event_dict) if event_dict else ""
        where = f"[{source}] " if source else ""
        return f"{ts} {level:<7} {where}{event} {rest}".rstrip()


def resolve_format(fmt: str, env: Mapping[str, str] | None = None) -> str:
    """auto = journal when stdout is journald's stream ($JOURNAL_STREAM), else console."""
    if fmt != "auto":
        return fmt
    environ = os.environ if env is None else env
    return "journal" if environ.get("JOURNAL_STREAM") else "console"


def _renderer(fmt: str) -> Any:
    structlog = _structlog()
    if fmt == "journal":
        return _SdPrefix(
            structlog.processors.LogfmtRenderer(
                key_order=["event"], drop_missing=True, bool_as_flag=False
            )
        )
    if fmt == "json":
        return structlog.processors.JSONRenderer(sort_keys=False)
    return _ConsoleLine()


class _Deferred:
    """structlog's side of the last `configure` (the format), until it is applied."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kind: str | None = None

    def put(self, kind: str) -> None:
        with self._lock:
            self._kind = kind

    def take(self) -> str | None:
        with self._lock:
            kind, self._kind = self._kind, None
        return kind


_deferred = _Deferred()


def configure(level: str = "info", fmt: str = "auto", *, stream: TextIO | None = None) -> None:
    """journal | json | console | auto; redaction applied to every record.

    Safe to call again (SIGHUP): handlers are replaced, never stacked. structlog itself is
    configured now if it is already imported (the daemon, tests that capture its output), else
    when the first record is made (see the module docstring).
    """
    kind = resolve_format(fmt)
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(_DeferredFormatter(kind))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    logging.getLogger("probed").setLevel(numeric)
    _deferred.put(kind)
    if "structlog" in sys.modules:
        _structlog()


def _structlog() -> ModuleType:
    """structlog, configured as `configure` last asked."""
    import structlog  # noqa: PLC0415 - see the module docstring

    kind = _deferred.take()
    if kind is not None:
        _apply(structlog, kind)
    return structlog


def _pre_chain(structlog: ModuleType, kind: str) -> list[Any]:
    pre: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
    ]
    if kind != "journal":
        pre.append(structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"))
    return pre


def _apply(structlog: ModuleType, kind: str) -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_pre_chain(structlog, kind),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )


def _formatter(kind: str) -> logging.Formatter:
    """The one formatter of every record, structlog's and foreign (stdlib) ones alike."""
    structlog = _structlog()
    formatter: logging.Formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_pre_chain(structlog, kind),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _drop_own_logger_name,
            structlog.processors.format_exc_info,
            redact,
            *([] if kind == "json" else [_drop_empty]),
            _renderer(kind),
        ],
    )
    return formatter


class _DeferredFormatter(logging.Formatter):
    """structlog's ProcessorFormatter, built when the handler formats its first record."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self._kind = kind
        self._inner: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        inner = self._inner
        if inner is None:
            inner = self._inner = _formatter(self._kind)
        return inner.format(record)


def _drop_empty(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """logfmt has no null: a field with no value (`model=None`, `config=""`) is left out rather
    than printed as an empty `model=`, which reads like a bug and breaks `grep model=`."""
    for key in [k for k, v in event_dict.items() if v is None or v == ""]:
        del event_dict[key]
    return event_dict


def _drop_own_logger_name(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Our own events need no `logger=probed`; foreign ones keep their logger's name."""
    if event_dict.get("logger") == "probed":
        del event_dict["logger"]
    return event_dict


__all__ = [
    "MASK",
    "configure",
    "get_logger",
    "log_enabled",
    "redact",
    "resolve_format",
    "scrub",
    "scrub_text",
]


def log_enabled(level: str) -> bool:
    """Whether our events at `level` are written (as `configure` last set it): a caller with
    thousands of lines to format asks first, rather than formatting them to be dropped."""
    numeric = logging.getLevelName(level.upper())
    return isinstance(numeric, int) and logging.getLogger("probed").isEnabledFor(numeric)


def get_logger(**context: Any) -> Any:
    """Events are snake_case words (`probe_started`) with agent/profile/provider/model/reason/until.

    Returns a lazy proxy: it reads the configuration at every call, so a logger made at import
    time follows a later `configure()`; structlog is imported at its first use.
    """
    return _LazyLogger(context)


class _LazyLogger:
    """`structlog.get_logger("probed", **context)`, made when first used."""

    __slots__ = ("_context", "_logger")

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._context = dict(context)
        self._logger: Any = None

    def __getattr__(self, name: str) -> Any:
        logger = self._logger
        if logger is None:
            logger = self._logger = _structlog().get_logger("probed", **self._context)
        return getattr(logger, name)
