"""probed writes, then OpenClaw's OWN loader reads the result and agrees, on every era.

Seeds are stores OpenClaw itself wrote (tests/fixtures/openclaw-samples/): the 2026.5.28 JSON
files from probe-mark, and the 2026.9.6 databases from `openclaw doctor --fix` +
markAuthProfileFailure (the per-agent DB of `worker`, the shared DB of `main`). One node run per
scenario keeps the whole module well under a minute.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.ocstate import real_sample_state, sample_528_files
from helpers.openclaw import json_pkg, probe_view, sqlite_pkg

from probed import repair
from probed.reasons import Reason
from probed.stores.base import Era, Store
from probed.stores.discover import open_agent

pytestmark = pytest.mark.interop

MIN = 60_000


def _write_both(store: Store, now: int) -> int:
    """Success on anthropic:a (disabled:billing before), an auth window on anthropic:b."""
    until = now + 45 * MIN
    assert not store.read().usage("anthropic:a").view("anthropic", now).usable
    assert repair.record_success(store, "anthropic:a", now_ms=now)
    assert repair.record_failure(
        store, "anthropic:b", reason=Reason.AUTH, until_ms=until, model=None, now_ms=now
    )
    return until


def _agrees(view: dict[str, Any], store: Store, until: int) -> None:
    a, b = view["profiles"]["anthropic:a"], view["profiles"]["anthropic:b"]
    assert a["inCooldown"] is False and a["unusableUntil"] is None
    assert b["inCooldown"] is True and b["unusableUntil"] == until
    # lastGood as OpenClaw's own success leaves it: none on 9.6's shared main store
    good = None if store.era is Era.SQLITE_SHARED else "anthropic:a"
    assert view["providers"]["anthropic"]["lastGood"] == good
    assert view["providers"]["anthropic"]["order"][-1] == "anthropic:b"  # cooling: last
    ours = store.read().state["usageStats"]
    # OpenClaw's field whitelist kept every field probed wrote, with the same values.
    assert b["usageStats"] == ours["anthropic:b"]
    assert a["usageStats"] == ours["anthropic:a"]
    assert b["usageStats"]["cooldownReason"] == "auth" and "disabledUntil" not in b["usageStats"]


def _seed_528(state: Path, *, single_file: bool) -> Path:
    d = state / "agents" / "main" / "agent"
    d.mkdir(parents=True)
    files = sample_528_files(3)  # after billing x2 on a and a model-scoped rate limit on b
    if single_file:
        doc = json.loads(files["auth-profiles.json"])
        doc.update(
            {k: v for k, v in json.loads(files["auth-state.json"]).items() if k != "version"}
        )
        (d / "auth-profiles.json").write_text(json.dumps(doc, indent=2) + "\n")
    else:
        for name, text in files.items():
            (d / name).write_text(text)
    return d


@pytest.mark.parametrize("single_file", [False, True], ids=["era-B", "era-A"])
def test_json_era_openclaw_5_28_loader_agrees(tmp_path: Path, single_file: bool) -> None:
    d = _seed_528(tmp_path, single_file=single_file)
    store = open_agent(tmp_path, "main")
    assert store.era is (Era.JSON_SINGLE if single_file else Era.JSON_SPLIT)
    now = (
        json.loads(sample_528_files(3)["auth-state.json"])["usageStats"]["anthropic:b"][
            "lastFailureAt"
        ]
        + 5 * MIN
    )
    until = _write_both(store, now)
    assert (d / "auth-state.json").exists() is (not single_file)
    view = probe_view(d, pkg=json_pkg(), now_ms=now + MIN)
    assert view["openclawVersion"] == "2026.5.28" and view["source"]["kind"] == "json-files"
    _agrees(view, store, until)
    assert "lastProbeAt" not in view["profiles"]["anthropic:a"]["usageStats"]  # 5.28 drops it


@pytest.mark.parametrize("agent", ["worker", "main"], ids=["agent-db", "shared-main-db"])
def test_sqlite_era_openclaw_9_6_loader_agrees(tmp_path: Path, agent: str) -> None:
    real_sample_state(tmp_path)
    store = open_agent(tmp_path, agent)
    assert store.era is (Era.SQLITE_AGENT if agent == "worker" else Era.SQLITE_SHARED)
    snap = store.read()
    now = snap.usage("anthropic:a").last_failure_at + MIN  # type: ignore[operator]
    until = _write_both(store, now)
    view = probe_view(tmp_path / "agents" / agent / "agent", pkg=sqlite_pkg(), now_ms=now + MIN)
    assert view["openclawVersion"] == "2026.9.6" and view["source"]["kind"] == "sqlite"
    _agrees(view, store, until)
    assert view["profiles"]["anthropic:a"]["usageStats"]["lastProbeAt"] == now


def test_json_era_model_scope_is_what_openclaw_5_28_honours(tmp_path: Path) -> None:
    """5.28 scopes only rate_limit to a model: probed's timeout window on one model must read
    as profile-wide to it, and probed's own view must say the same."""
    d = _seed_528(tmp_path, single_file=False)
    store = open_agent(tmp_path, "main")
    now = store.read().usage("anthropic:b").last_failure_at + 5 * MIN  # type: ignore[operator]
    until = now + 20 * MIN
    assert repair.record_success(store, "anthropic:a", now_ms=now - 1)  # its billing is over
    assert repair.record_failure(
        store, "anthropic:a", reason=Reason.TIMEOUT, until_ms=until, model="claude-x", now_ms=now
    )
    view = probe_view(d, pkg=json_pkg(), now_ms=now + MIN, model="claude-y")
    ours = store.read().usage("anthropic:a").view("anthropic", now + MIN, for_model="claude-y")
    assert view["profiles"]["anthropic:a"]["inCooldown"] is True
    assert not ours.usable and ours.until_ms == until
