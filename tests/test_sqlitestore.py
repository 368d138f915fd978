"""Era C: schema checks, read-only reads, immediate-transaction writes, busy handling."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.ocstate import (
    era_c_agent,
    era_c_shared,
    real_sample_state,
    sqlite_state,
    sqlite_state_text,
)

from probed.errors import StoreBusy, StoreError, UnsupportedStore
from probed.stores.base import Era
from probed.stores.sqlitestore import SqliteStore


def _bump(state: dict[str, Any], _p: Any) -> None:
    state["usageStats"]["anthropic:a"] = {"errorCount": 3, "x": "ü"}


def test_agent_db_write_is_compact_and_bumps_updated_at(tmp_path: Path) -> None:
    db = era_c_agent(tmp_path, {"anthropic:b": {"errorCount": 1}})
    store = SqliteStore("worker", db.parent, db)
    assert store.read().era is Era.SQLITE_AGENT
    store.update(_bump)
    assert sqlite_state_text(db) == (
        '{"version":1,"usageStats":{"anthropic:b":{"errorCount":1},'
        '"anthropic:a":{"errorCount":3,"x":"ü"}}}'
    )
    assert sqlite_state(db)[1] > 1


def test_shared_db_layout(tmp_path: Path) -> None:
    db = era_c_shared(tmp_path, {})
    store = SqliteStore("main", tmp_path / "agents" / "main" / "agent", db, shared=True)
    store.update(_bump)
    assert sqlite_state(db)[0]["usageStats"]["anthropic:a"]["errorCount"] == 3
    conn = sqlite3.connect(db)
    assert (
        conn.execute(
            "SELECT value_json FROM config_machine_state WHERE state_key='auth.sharedStore'"
        ).fetchone()[0]
        == '{"location":"state-db"}'
    )
    conn.close()


def test_real_openclaw_databases_read_and_write(tmp_path: Path) -> None:
    shared, worker = real_sample_state(tmp_path)
    for store in (
        SqliteStore("main", tmp_path / "agents/main/agent", shared, shared=True),
        SqliteStore("worker", worker.parent, worker),
    ):
        snap = store.read()
        assert snap.usage("anthropic:a").disabled_reason == "billing"
        assert snap.usage("anthropic:b").cooldown_model == "claude-x"
        store.update(_bump)
        assert store.read().usage("anthropic:a").error_count == 3


def test_no_change_means_no_write(tmp_path: Path) -> None:
    db = era_c_agent(tmp_path, {})
    SqliteStore("w", db.parent, db).update(lambda s, p: None)
    assert sqlite_state(db)[1] == 1


def test_newer_user_version_is_left_alone(tmp_path: Path) -> None:
    db = era_c_agent(tmp_path, {}, user_version=24)
    store = SqliteStore("w", db.parent, db)
    with pytest.raises(UnsupportedStore, match=r"schema version 24 is newer.*up to 23"):
        store.read()
    with pytest.raises(UnsupportedStore):
        store.update(_bump)
    assert sqlite_state(db)[1] == 1


def test_unknown_layout_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "openclaw-agent.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE auth_profile_state (state_key TEXT, blob TEXT)")
    conn.execute(
        "CREATE TABLE auth_profile_store (store_key TEXT, store_json TEXT, updated_at INT)"
    )
    conn.commit()
    conn.close()
    with pytest.raises(
        UnsupportedStore, match=r"auth_profile_state lacks column\(s\) state_json, updated_at"
    ):
        SqliteStore("w", tmp_path, db).read()


def test_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "openclaw-agent.sqlite"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=str(db)):
        SqliteStore("w", tmp_path, db).read()


def test_malformed_cell_is_reported_and_not_overwritten(tmp_path: Path) -> None:
    db = era_c_agent(tmp_path, {})
    conn = sqlite3.connect(db)
    conn.execute("UPDATE auth_profile_state SET state_json = '{\"version\":1,'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="state cell is not valid JSON"):
        SqliteStore("w", db.parent, db).update(_bump)
    assert sqlite_state_text(db) == '{"version":1,'


def test_busy_past_timeout_is_store_busy_and_nothing_written(tmp_path: Path) -> None:
    db = era_c_agent(tmp_path, {})
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        start = time.monotonic()
        with pytest.raises(StoreBusy, match=str(db)):
            SqliteStore("w", db.parent, db, busy_timeout=0.3).update(_bump)
        assert time.monotonic() - start >= 0.25
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sqlite_state(db)[1] == 1


def test_writer_waits_for_a_short_transaction(tmp_path: Path) -> None:
    db = era_c_agent(tmp_path, {})
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.2, lambda: holder.execute("COMMIT")).start()
    SqliteStore("w", db.parent, db, busy_timeout=5).update(_bump)
    holder.close()
    assert sqlite_state(db)[0]["usageStats"]["anthropic:a"]["errorCount"] == 3


def test_read_opens_read_only(tmp_path: Path) -> None:
    db = era_c_agent(tmp_path, {"anthropic:a": {"errorCount": 1}})
    db.chmod(0o400)
    before = db.read_bytes()
    SqliteStore("w", db.parent, db).read()
    assert db.read_bytes() == before


def test_missing_database_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        SqliteStore("w", tmp_path, tmp_path / "openclaw-agent.sqlite").read()


def test_an_unchanged_profiles_cell_is_not_decoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon reads a store several times per probe; the credentials' cell changes only at
    a login. Its text decides: equal, the last document is reused; changed, it is decoded."""
    import json

    from probed import safejson

    db = era_c_agent(tmp_path, {"anthropic:b": {"errorCount": 1}})
    store = SqliteStore("worker", db.parent, db)
    first = store.read()
    decoded: list[str] = []
    real = safejson.loads
    monkeypatch.setattr(safejson, "loads", lambda text, **kw: decoded.append(text) or real(text))
    store.update(_bump)  # the state cell changes, the profiles cell does not
    again = store.read()
    assert again.profiles is first.profiles
    assert again.usage("anthropic:a").error_count == 3
    assert all('"profiles"' not in text for text in decoded)  # only state cells were decoded
    conn = sqlite3.connect(db, isolation_level=None)
    (text,) = conn.execute("SELECT store_json FROM auth_profile_store").fetchone()
    doc = json.loads(text)
    doc["profiles"]["anthropic:new"] = {"type": "api_key", "provider": "anthropic", "key": "k"}
    conn.execute("UPDATE auth_profile_store SET store_json = ?", (json.dumps(doc),))
    conn.close()
    assert "anthropic:new" in store.read().profiles
    assert "anthropic:new" in store.read_for_display().profiles


def _decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cells decoded from here on (their texts)."""
    from probed import safejson

    decoded: list[str] = []
    real = safejson.loads
    monkeypatch.setattr(safejson, "loads", lambda text, **kw: decoded.append(text) or real(text))
    return decoded


def test_an_unchanged_state_cell_is_one_document_that_no_write_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A probe reads its store two or three times before anything writes it: the same text
    gives the same (read-only) document. A mutator works on a copy of its own, so a snapshot
    taken before a write never sees it; any other writer's change is decoded afresh."""
    db = era_c_agent(tmp_path, {"anthropic:b": {"errorCount": 1}})
    store = SqliteStore("worker", db.parent, db)
    first = store.read()
    decoded = _decodes(monkeypatch)
    assert store.read().state is first.state and decoded == []

    def in_place(state: dict[str, Any], _p: Any) -> None:
        state["usageStats"]["anthropic:b"]["errorCount"] = 9  # nested, in place

    store.update(in_place)
    assert first.state["usageStats"]["anthropic:b"] == {"errorCount": 1}
    after = store.read()
    assert after.state is not first.state and after.usage("anthropic:b").error_count == 9
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(
        "UPDATE auth_profile_state SET state_json = ?",
        ('{"version":1,"usageStats":{"anthropic:b":{"errorCount":4}}}',),
    )
    conn.close()
    assert store.read().usage("anthropic:b").error_count == 4


def test_only_the_last_few_stores_state_documents_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every store's document kept would grow the daemon with the fleet."""
    from probed.stores.sqlitestore import RECENT_STATE_CELLS

    stores = []
    for i in range(RECENT_STATE_CELLS + 1):
        db = era_c_agent(tmp_path / f"a{i}", {"anthropic:b": {"errorCount": i}})
        stores.append(SqliteStore(f"a{i}", db.parent, db))
    for store in stores:
        store.read()
    decoded = _decodes(monkeypatch)
    for store in stores[1:]:
        store.read()
    assert decoded == []  # the last RECENT_STATE_CELLS, kept
    assert stores[0].read().usage("anthropic:b").error_count == 0
    assert len(decoded) == 1  # the first was let go, and is decoded again
