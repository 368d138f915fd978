"""Eras A and B: detection, the merge rule, preservation, and bad input that writes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from helpers.ocstate import KEY_A, PROFILES, era_a, era_b, sample_528_files, tree_bytes, write_json

from probed.errors import StoreError
from probed.stores.base import Era
from probed.stores.jsonstore import JsonStore

NOW = 1_800_000_000_000


def _bump(state: dict[str, Any], _profiles: Any) -> None:
    state.setdefault("usageStats", {}).setdefault("anthropic:a", {})["errorCount"] = 9


def test_era_a_detected_and_written_inline_preserving_everything(tmp_path: Path) -> None:
    d = era_a(
        tmp_path,
        {
            "anthropic:a": {"lastUsed": 1, "custom": "keep"},
            "anthropic:b": {"errorCount": 2, "zz": [1]},
        },
        extra={"vendorKey": {"x": 1}},
    )
    store = JsonStore("main", d)
    snap = store.read()
    assert snap.era is Era.JSON_SINGLE and set(snap.profiles) == set(PROFILES)
    store.update(_bump)
    doc = json.loads((d / "auth-profiles.json").read_text())
    assert list(doc) == ["version", "profiles", "usageStats", "vendorKey"]
    assert doc["profiles"] == PROFILES  # secrets untouched
    assert doc["usageStats"]["anthropic:a"] == {"lastUsed": 1, "custom": "keep", "errorCount": 9}
    assert doc["usageStats"]["anthropic:b"] == {"errorCount": 2, "zz": [1]}
    assert not (d / "auth-state.json").exists()
    assert (d / "auth-profiles.json").stat().st_mode & 0o777 == 0o600
    assert (d / "auth-profiles.json").read_text().endswith("}\n")


def test_profiles_file_alone_gets_state_inline(tmp_path: Path) -> None:
    d = tmp_path / "agents" / "main" / "agent"
    d.mkdir(parents=True)
    write_json(d / "auth-profiles.json", {"version": 1, "profiles": PROFILES})
    JsonStore("main", d).update(_bump)
    doc = json.loads((d / "auth-profiles.json").read_text())
    assert doc["usageStats"] == {"anthropic:a": {"errorCount": 9}}
    assert not (d / "auth-state.json").exists()


def test_era_b_state_file_wins_and_cleaned_entry_is_written_not_deleted(tmp_path: Path) -> None:
    stale_inline = {
        "anthropic:a": {"disabledUntil": NOW, "disabledReason": "billing"},
        "anthropic:b": {"errorCount": 7},
    }
    d = era_b(
        tmp_path, {"anthropic:b": {"errorCount": 1, "unknownField": "x"}}, inline=stale_inline
    )
    store = JsonStore("main", d)
    snap = store.read()
    assert snap.era is Era.JSON_SPLIT
    assert snap.state["usageStats"]["anthropic:b"] == {"errorCount": 1, "unknownField": "x"}
    assert snap.state["usageStats"]["anthropic:a"]["disabledReason"] == "billing"
    before_profiles = (d / "auth-profiles.json").read_bytes()

    def clean(state: dict[str, Any], _p: Any) -> None:
        state["usageStats"]["anthropic:a"] = {"errorCount": 0}

    store.update(clean)
    assert (d / "auth-profiles.json").read_bytes() == before_profiles  # never rewritten
    written = json.loads((d / "auth-state.json").read_text())
    assert written["usageStats"] == {
        "anthropic:b": {"errorCount": 1, "unknownField": "x"},
        "anthropic:a": {"errorCount": 0},
    }
    assert store.read().state["usageStats"]["anthropic:a"] == {"errorCount": 0}


def test_openclaw_written_528_files_round_trip(tmp_path: Path) -> None:
    d = tmp_path / "agents" / "main" / "agent"
    d.mkdir(parents=True)
    files = sample_528_files(4)
    for name, text in files.items():
        (d / name).write_text(text)
    store = JsonStore("main", d)
    snap = store.read()
    assert snap.usage("anthropic:b").cooldown_model == "claude-x"

    def same(state: dict[str, Any], _p: Any) -> None:
        state["usageStats"]["anthropic:b"]["errorCount"] = 1  # no change

    store.update(same)
    assert (d / "auth-state.json").read_text() == files["auth-state.json"]

    def touch(state: dict[str, Any], _p: Any) -> None:
        state["usageStats"]["anthropic:b"]["errorCount"] = 2

    store.update(touch)
    # formatting identical to OpenClaw's JSON.stringify(x, null, 2) + "\n"
    assert (d / "auth-state.json").read_text() == files["auth-state.json"].replace(
        '"errorCount": 1,\n      "failureCounts": {\n        "rate_limit"',
        '"errorCount": 2,\n      "failureCounts": {\n        "rate_limit"',
    )


BAD: dict[str, str | None] = {
    "malformed": '{"version": 1, "profiles": {',
    "half-written": '{"version": 1, "prof',
    "empty": "",
    "not-an-object": "[1, 2]",
    "no-profiles": '{"version": 1, "credentials": {}}',
    "profiles-not-object": '{"version": 1, "profiles": []}',
    "version-2": '{"version": 2, "profiles": {}}',
    "not-utf8": None,
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_profiles_file_names_the_file_and_writes_nothing(tmp_path: Path, case: str) -> None:
    d = tmp_path / "agents" / "main" / "agent"
    d.mkdir(parents=True)
    path = d / "auth-profiles.json"
    text = BAD[case]
    path.write_bytes(b"\xff\xfe{" if text is None else text.encode())
    before = tree_bytes(tmp_path)
    store = JsonStore("main", d)
    with pytest.raises(StoreError) as err:
        store.read()
    assert str(path) in str(err.value)
    with pytest.raises(StoreError):
        store.update(_bump)
    assert tree_bytes(tmp_path) == before  # nothing written, and the lock is gone
    assert not (d / "auth-profiles.json.lock").exists()


def test_bad_state_file_is_reported_and_nothing_written(tmp_path: Path) -> None:
    d = era_b(tmp_path, {})
    (d / "auth-state.json").write_text('{"version":1,"usageStats":{"a":')
    before = tree_bytes(tmp_path)
    with pytest.raises(StoreError, match=r"auth-state\.json: is not valid JSON"):
        JsonStore("main", d).update(_bump)
    assert tree_bytes(tmp_path) == before


def test_unreadable_file_simulated_by_a_directory(tmp_path: Path) -> None:
    # Tests run as root, for whom no file mode is unreadable: a directory in place of the
    # file gives the same "cannot read it" path (EISDIR) without relying on permissions.
    d = tmp_path / "agents" / "main" / "agent"
    (d / "auth-profiles.json").mkdir(parents=True)
    with pytest.raises(StoreError, match=r"auth-profiles\.json: is a directory"):
        JsonStore("main", d).read()


def test_missing_agent_dir(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="agent directory does not exist"):
        JsonStore("ghost", tmp_path / "nope").read()


def test_secrets_never_in_errors_or_repr(tmp_path: Path) -> None:
    d = era_a(tmp_path, {})
    store = JsonStore("main", d)
    assert KEY_A not in repr(store) and KEY_A not in repr(store.read().profiles)


def test_a_fifo_in_place_of_a_store_file_is_named_and_never_blocks(tmp_path: Path) -> None:
    """A plain read of a FIFO would block forever (and a daemon's event loop with it)."""
    d = era_b(tmp_path, {})
    (d / "auth-state.json").unlink()
    os.mkfifo(d / "auth-state.json")
    with pytest.raises(
        StoreError, match=r"auth-state\.json: cannot be read \(not a regular file\)"
    ):
        JsonStore("main", d).read()
