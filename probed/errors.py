"""Errors that reach a person: one sentence naming the file, key or profile at fault."""

from __future__ import annotations

from pathlib import Path

from probed.reasons import EX_CONFIG, EX_SOFTWARE, EX_TEMPFAIL, EX_USAGE


class ProbedError(Exception):
    """Base for every error the CLI prints as one sentence and turns into an exit code."""

    exit_code: int = EX_SOFTWARE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ProbedError):
    """Bad configuration file, key, type or duration (exit 78)."""

    exit_code = EX_CONFIG


class UsageError(ProbedError):
    """Bad command line (exit 2)."""

    exit_code = EX_USAGE


class StoreError(ProbedError):
    """An OpenClaw store could not be read or written safely; nothing was written."""

    exit_code = EX_TEMPFAIL

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path  # the file at fault, when it is not the store's usual location


class StoreBusy(StoreError):
    """A live process held the store's lock (or the database) past our timeout."""


class UnsupportedStore(StoreError):
    """A store layout or schema version probed does not know; left alone."""


def unforeseen(where: Path, exc: BaseException) -> str:
    """One sentence for a file that broke a reader in a way no rule foresaw (a bug in probed):
    named, so that one file is the only casualty and every other store goes on."""
    return f"{where}: cannot be read ({type(exc).__name__}: {str(exc)[:200]}); left alone"


class NotFound(ProbedError):
    """The named agent or profile does not exist."""

    exit_code = EX_USAGE
