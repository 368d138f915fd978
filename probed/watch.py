"""Noticing OpenClaw's writes: inotify through watchfiles, debounced, mapped to stores.

OpenClaw writes JSON atomically (temp file, then rename) and SQLite through its WAL, so we watch
directories, not files: a file replaced or deleted under us changes nothing about the watch. The
roots are `<state>/agents` (so an agent added at run time is seen) and `<state>/state` (the shared
9.x database), plus any agent dir living elsewhere. When the set of roots changes (a root
appears), the watch restarts on the new set. Only store files pass the filter, so session
transcripts churning next to them cost nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import anyio
from watchfiles import Change, awatch

from probed.logs import get_logger

log = get_logger()

STORE_FILE_NAMES = frozenset(
    {
        "auth-profiles.json",
        "auth-state.json",
        "auth.json",
        "openclaw-agent.sqlite",
        "openclaw-agent.sqlite-wal",
        "openclaw.sqlite",
        "openclaw.sqlite-wal",
    }
)


def is_store_file(path: str | Path) -> bool:
    return Path(path).name in STORE_FILE_NAMES


def watch_roots(state_dir: Path, extra: Iterable[Path] = ()) -> list[Path]:
    """Directories to watch recursively, deepest duplicates removed; the state dir itself when
    none of its store directories exists yet (so their creation is seen)."""
    candidates = [state_dir / "agents", state_dir / "state", *extra]
    existing = sorted({p for p in candidates if p.is_dir()})
    roots = [p for p in existing if not any(p != q and p.is_relative_to(q) for q in existing)]
    if state_dir / "agents" not in roots and state_dir.is_dir():
        # agents/ may appear later: watch the root too (filtered, so churn elsewhere is ignored)
        roots = [state_dir, *(r for r in roots if not r.is_relative_to(state_dir))]
    return roots


OnChange = Callable[[set[Path]], Awaitable[None]]


async def watch_state(
    roots: Callable[[], list[Path]],
    on_change: OnChange,
    *,
    debounce_ms: int = 200,
    step_ms: int = 50,
    retry_s: float = 1.0,
    wake_ms: int = 500,
) -> None:
    """Call `on_change(paths)` for each debounced batch of store-file changes, forever.

    `roots()` is asked again after each batch and after each error, so the watch follows the
    state as directories come and go. When the roots change (the state directory or its
    `agents/` appeared), whatever was written there before the new watch began is reported as
    a change of the roots themselves, so nothing created in between is missed. The watch thread
    wakes every `wake_ms` only so that a cancellation (shutdown) is not held up by it; changes
    themselves arrive by inotify."""
    previous: list[Path] | None = None
    while True:
        current = roots()
        if previous is not None and current != previous:
            await on_change(set(current) - set(previous) or set(current))
        previous = current
        if not current:
            await anyio.sleep(retry_s)
            continue
        stop = anyio.Event()
        try:
            async for changes in awatch(
                *current,
                watch_filter=_filter,
                debounce=debounce_ms,
                step=step_ms,
                stop_event=stop,
                recursive=True,
                rust_timeout=wake_ms,
                ignore_permission_denied=True,
            ):
                paths = {Path(p) for _, p in changes}
                if paths:
                    await on_change(paths)
                if roots() != current:
                    stop.set()
                    break
        except (FileNotFoundError, OSError, RuntimeError) as exc:
            log.warning("watch_restarted", error=str(exc), roots=[str(r) for r in current])
            await anyio.sleep(retry_s)


def _filter(change: Change, path: str) -> bool:
    del change
    return is_store_file(path)
