"""OpenClaw's own configuration file, `<state>/openclaw.json` (JSON5), and the two things probed
takes from it: model providers (see `probes/endpoints.py`) and where each configured agent keeps
its store.

Agent directories follow OpenClaw's `resolveAgentDir` (2026.5.28 and 2026.9.6 agree): the entry
of the agent's normalised id in `agents.entries` (9.x, keyed by id) or else `agents.list` (an
array of `{id, ...}`); its `agentDir`, trimmed, with a leading `~` expanded to `$OPENCLAW_HOME`
(itself `~`-expanded) or else `$HOME`. OpenClaw resolves a relative `agentDir` against the
gateway's working directory, which probed cannot know; probed takes it relative to `$HOME`, the
working directory of a gateway its own user service started.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from probed import safejson
from probed.files import read_regular
from probed.logs import get_logger

log = get_logger()

CONFIG_FILE = "openclaw.json"
DEFAULT_AGENT_ID = "main"

_VALID_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$", re.IGNORECASE)
_INVALID_CHARS = re.compile(r"[^a-z0-9_-]+")


def load_openclaw_json(state_dir: Path) -> Mapping[str, Any]:
    """`<openclaw state>/openclaw.json` as data; {} when absent. Unreadable -> warning, {}."""
    path = state_dir / CONFIG_FILE
    try:
        text = read_regular(path).decode("utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.warning("openclaw_config_unreadable", path=str(path), error=exc.strerror)
        return {}
    except UnicodeDecodeError:
        log.warning("openclaw_config_unreadable", path=str(path), error="not UTF-8 text")
        return {}
    if safejson.too_deep(text):
        log.warning(
            "openclaw_config_unreadable",
            path=str(path),
            error=f"nested more than {safejson.MAX_DEPTH} levels deep",
        )
        return {}
    import json5  # noqa: PLC0415 - only where an openclaw.json exists

    try:
        data = json5.loads(text)
    except (ValueError, RecursionError) as exc:
        log.warning("openclaw_config_unreadable", path=str(path), error=str(exc)[:200])
        return {}
    return data if isinstance(data, Mapping) else {}


def normalize_agent_id(value: str) -> str:
    """OpenClaw's `normalizeAgentId`: the filesystem-safe, lower-case form of an id."""
    trimmed = value.strip()
    lowered = trimmed.lower()
    if _VALID_ID.match(trimmed):
        return lowered
    cleaned = _INVALID_CHARS.sub("-", lowered).lstrip("-").rstrip("-")[:64]
    return cleaned or DEFAULT_AGENT_ID


def configured_agent_dirs(
    doc: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> dict[str, Path]:
    """Normalised agent id -> its configured `agentDir`, for the agents that set one."""
    env = os.environ if env is None else env
    out: dict[str, Path] = {}
    for agent_id, entry in _roster(doc):
        raw = entry.get("agentDir")
        if not isinstance(raw, str) or not raw.strip():
            continue
        out.setdefault(normalize_agent_id(agent_id), _user_path(raw, env))
    return out


def _roster(doc: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    agents = doc.get("agents")
    if not isinstance(agents, Mapping):
        return
    entries = agents.get("entries")
    if entries is not None:  # 9.x: when present it is the roster, even if malformed
        if isinstance(entries, Mapping):
            for key, entry in entries.items():
                if isinstance(key, str) and isinstance(entry, Mapping):
                    yield key, entry
        return
    listed = agents.get("list")
    if isinstance(listed, list):
        for entry in listed:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                yield entry["id"], entry


def _os_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def _openclaw_home(env: Mapping[str, str]) -> Path:
    explicit = (env.get("OPENCLAW_HOME") or "").strip()
    if not explicit:
        return _os_home(env)
    if explicit == "~" or explicit.startswith("~/"):
        return _os_home(env) / explicit[2:]
    return Path(explicit)


def _user_path(raw: str, env: Mapping[str, str]) -> Path:
    text = raw.strip()
    if text == "~" or text.startswith("~/"):
        return Path(os.path.normpath(_openclaw_home(env) / text[2:]))
    return Path(os.path.normpath(_os_home(env) / text))  # an absolute `text` stays as it is
