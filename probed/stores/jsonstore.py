"""Eras A and B: OpenClaw's JSON files, read and repaired under OpenClaw's own lock.

Era A keeps `order`, `lastGood` and `usageStats` inline in `auth-profiles.json`; era B moved them
to `auth-state.json` beside it. The era is read from the disk every time, never assumed:

- `auth-state.json` present -> B: state is written there. OpenClaw's loader merges the inline copy
  (legacy) with the state file, the state file winning per entry, so a repaired entry is written
  to the state file *cleaned*, never deleted (a deletion would let a stale inline copy back).
- inline state in `auth-profiles.json` and no `auth-state.json` -> A: written back inline.
- `auth-profiles.json` alone -> written inline too. Both readers accept that: era-A OpenClaw
  reads only the inline state, and era-B OpenClaw merges inline state under the (absent) state
  file and moves it to `auth-state.json` on its own next write. Writing `auth-state.json`
  instead would be invisible to an era-A gateway.

Only the state sections are ever changed; `profiles` (the credentials), unknown top-level keys
and key order come back exactly as they were read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from probed import safejson
from probed.errors import StoreError
from probed.files import read_regular
from probed.stores.atomic import write_json_atomic
from probed.stores.base import (
    Era,
    Listing,
    Mutator,
    Snapshot,
    listed_profiles,
    parsed_profiles,
)
from probed.stores.oclock import DEFAULT_TIMEOUT_S, AgentLock
from probed.transitions import STATE_SECTIONS, insert_ordered

T = TypeVar("T")

PROFILES_FILE = "auth-profiles.json"
STATE_FILE = "auth-state.json"
_SECTIONS = ("order", "lastGood", "usageStats")
_TOP_ORDER = ("version", "profiles", *_SECTIONS)


@dataclass(frozen=True, slots=True)
class _Raw:
    """The two files as parsed, plus the merged state OpenClaw's loader would see."""

    profiles_doc: dict[str, Any]
    state_doc: dict[str, Any] | None  # None: no auth-state.json
    state: dict[str, Any]

    @property
    def era(self) -> Era:
        return Era.JSON_SPLIT if self.state_doc is not None else Era.JSON_SINGLE


class JsonStore:
    """One agent's JSON-era store (`<agentDir>/auth-profiles.json` [+ `auth-state.json`])."""

    def __init__(
        self, agent: str, agent_dir: Path, *, lock_timeout: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.agent = agent
        self.agent_dir = agent_dir
        self.lock_timeout = lock_timeout
        # Refreshed at every read: `openclaw` may move the state between files at any time.
        self.era: Era = self._detect_era()

    @property
    def profiles_path(self) -> Path:
        return self.agent_dir / PROFILES_FILE

    @property
    def state_path(self) -> Path:
        return self.agent_dir / STATE_FILE

    def _detect_era(self) -> Era:
        return Era.JSON_SPLIT if self.state_path.exists() else Era.JSON_SINGLE

    @property
    def location(self) -> Path:
        return self.state_path if self._detect_era() is Era.JSON_SPLIT else self.profiles_path

    def watch_paths(self) -> tuple[Path, ...]:
        return (self.profiles_path, self.state_path)

    def __repr__(self) -> str:
        return f"JsonStore(agent={self.agent!r}, agent_dir={str(self.agent_dir)!r})"

    # ---- reading --------------------------------------------------------------------------

    def read(self) -> Snapshot:
        return self._snapshot(self._load_retrying())

    def read_for_display(self) -> Listing:
        """`read` without parsing a credential: each profile's provider and type only."""
        raw = self._load_retrying()
        profiles = listed_profiles(raw.profiles_doc["profiles"])
        return Listing(agent=self.agent, era=raw.era, profiles=profiles, state=raw.state)

    def _load_retrying(self) -> _Raw:
        # OpenClaw >= 2026.4.5 renames atomically, but older writers rewrote in place: a torn
        # read is retried briefly before it is reported.
        for _ in range(2):
            try:
                return self._load()
            except _Torn:
                time.sleep(0.05)
        return self._load()

    def _snapshot(self, raw: _Raw) -> Snapshot:
        profiles = parsed_profiles(raw.profiles_doc["profiles"])
        return Snapshot(agent=self.agent, era=raw.era, profiles=profiles, state=raw.state)

    def _load(self) -> _Raw:
        if not self.agent_dir.is_dir():
            raise StoreError(f"{self.agent_dir}: the agent directory does not exist")
        profiles_doc = _at(self.profiles_path, lambda: _read_doc(self.profiles_path, required=True))
        if profiles_doc is None:  # pragma: no cover - required=True never returns None
            raise StoreError(f"{self.profiles_path}: does not exist")
        profiles = profiles_doc.get("profiles")
        if not isinstance(profiles, dict):
            raise StoreError(
                f"{self.profiles_path}: has no `profiles` object, so it is not an OpenClaw "
                "auth-profile store; left alone",
                path=self.profiles_path,
            )
        state_doc = _at(self.state_path, lambda: _read_doc(self.state_path, required=False))
        state: dict[str, Any] = {"version": 1}
        for section in _SECTIONS:
            merged: dict[str, Any] = {}
            for doc in (profiles_doc, state_doc):
                value = doc.get(section) if doc is not None else None
                if isinstance(value, dict):
                    merged.update(safejson.copied(value))  # the state file wins per entry
            if merged:
                state[section] = merged
        raw = _Raw(profiles_doc=profiles_doc, state_doc=state_doc, state=state)
        self.era = raw.era
        return raw

    # ---- writing --------------------------------------------------------------------------

    def update(self, mutate: Mutator[T]) -> T:
        with AgentLock(self.agent_dir, timeout=self.lock_timeout):
            raw = self._load()
            snap = self._snapshot(raw)
            work = safejson.copied(raw.state)
            result = mutate(work, snap.profiles)
            if work != raw.state:
                self._write(raw, work)
            return result

    def _write(self, raw: _Raw, new_state: dict[str, Any]) -> None:
        if raw.state_doc is not None:
            doc = _apply_sections(raw.state_doc, raw.state, new_state, STATE_SECTIONS)
            write_json_atomic(self.state_path, doc)
        else:
            doc = _apply_sections(raw.profiles_doc, raw.state, new_state, _TOP_ORDER)
            write_json_atomic(self.profiles_path, doc)


def _at(path: Path, read: Callable[[], T]) -> T:
    """Run `read`, marking a StoreError it raises as being about `path`."""
    try:
        return read()
    except StoreError as exc:
        exc.path = exc.path or path
        raise


class _Torn(StoreError):
    """Unparsable JSON: possibly a writer caught mid-write (retried before it is reported)."""


def _apply_sections(
    doc: Mapping[str, Any],
    old_state: Mapping[str, Any],
    new_state: Mapping[str, Any],
    order: tuple[str, ...],
) -> dict[str, Any]:
    """Write into `doc` only the entries the mutator changed, each where it belongs.

    Unchanged entries stay exactly as they were in this file (an entry that lived only inline
    is not copied into the state file unless it changed). Removed entries are removed here.
    """
    out: dict[str, Any] = safejson.copied(dict(doc))
    for section in _SECTIONS:
        old = old_state.get(section) or {}
        new = new_state.get(section) or {}
        if old == new:
            continue
        current = out.get(section)
        target = dict(current) if isinstance(current, Mapping) else {}
        for key, value in new.items():
            if old.get(key) != value or key not in old:
                target[key] = safejson.copied(value)
        for key in old:
            if key not in new:
                target.pop(key, None)
        out = insert_ordered(out, section, target, order)
    return out


def _read_doc(path: Path, *, required: bool) -> dict[str, Any] | None:
    """One JSON file that must be an object with `version` 1 (or none, which OpenClaw reads
    as 1). Every failure is one sentence naming the file."""
    try:
        text = read_regular(path)
    except FileNotFoundError:
        if required:
            raise StoreError(
                f"{path}: does not exist, so there is no OpenClaw store here"
            ) from None
        return None
    except IsADirectoryError:
        raise StoreError(f"{path}: is a directory, not an OpenClaw store file") from None
    except PermissionError:
        raise StoreError(f"{path}: cannot be read (permission denied)") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise _Torn(f"{path}: is empty (a half-written file?); left alone")
    try:
        doc = safejson.loads(text.decode("utf-8"))
    except safejson.TooDeep as exc:
        raise StoreError(f"{path}: is {exc.msg}, so not an OpenClaw store; left alone") from None
    except UnicodeDecodeError:
        raise StoreError(
            f"{path}: is not UTF-8 text, so not an OpenClaw store; left alone"
        ) from None
    except json.JSONDecodeError as exc:
        raise _Torn(
            f"{path}: is not valid JSON (line {exc.lineno}, column {exc.colno}; a half-written "
            "or corrupt file); left alone"
        ) from None
    if not isinstance(doc, dict):
        raise StoreError(f"{path}: holds a JSON {type(doc).__name__}, not an OpenClaw store object")
    version = doc.get("version", 1)
    if version != 1 or isinstance(version, bool):
        raise StoreError(
            f"{path}: has version {json.dumps(version)}, which probed does not know (only 1); "
            "left alone"
        )
    return doc
