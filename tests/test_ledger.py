"""probed's own state: probe records, failure streaks and the daily paid-probe budget."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from probed.ledger import Ledger

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_reading_a_missing_ledger_creates_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "state")
    assert ledger.get("main", "anthropic:default") is None
    assert ledger.all() == []
    assert ledger.paid_today("anthropic", NOW) == 0
    assert not (tmp_path / "state").exists()


def test_failure_streak_grows_and_success_resets_it(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.record_probe("main", "a:1", None, at=NOW, result="billing", next_probe_at=NOW)
    rec = ledger.record_probe(
        "main", "a:1", None, at=NOW, result="billing", next_probe_at=NOW + timedelta(minutes=20)
    )
    assert rec.consecutive_failures == 2
    got = ledger.get("main", "a:1")
    assert got is not None
    assert (got.last_result, got.consecutive_failures) == ("billing", 2)
    assert got.next_probe_at == NOW + timedelta(minutes=20)
    ledger.record_probe("main", "a:1", None, at=NOW, result="ok", next_probe_at=None)
    got = ledger.get("main", "a:1")
    assert got is not None
    assert (got.last_result, got.consecutive_failures, got.next_probe_at) == ("ok", 0, None)
    assert (tmp_path / "probed.sqlite").stat().st_mode & 0o777 == 0o600


def test_models_are_kept_apart(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.record_probe("main", "l:1", "gpt-a", at=NOW, result="billing", next_probe_at=None)
    ledger.record_probe("main", "l:1", "gpt-b", at=NOW, result="ok", next_probe_at=None)
    a = ledger.get("main", "l:1", "gpt-a")
    b = ledger.get("main", "l:1", "gpt-b")
    assert a is not None and b is not None
    assert (a.last_result, b.last_result) == ("billing", "ok")
    assert ledger.get("main", "l:1") is None


def test_set_next_keeps_the_last_probe(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.record_probe("main", "a:1", None, at=NOW, result="quota", next_probe_at=None)
    ledger.set_next_many([("main", "a:1", None, NOW + timedelta(hours=1)), ("w", "b:1", None, NOW)])
    got = ledger.get("main", "a:1")
    assert got is not None
    assert (got.last_result, got.next_probe_at) == ("quota", NOW + timedelta(hours=1))
    assert [r.profile for r in ledger.all()] == ["a:1", "b:1"]


def test_budget_is_per_provider_per_utc_day_and_warns_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    assert ledger.try_spend("anthropic", NOW, 2) == (True, False)
    assert ledger.try_spend("anthropic", NOW, 2) == (True, False)
    assert ledger.try_spend("anthropic", NOW, 2) == (False, True)
    assert ledger.try_spend("anthropic", NOW, 2) == (False, False)
    assert ledger.try_spend("openai", NOW, 2) == (True, False)
    # A new instance (a restart) sees the same spend.
    assert Ledger(tmp_path).paid_today("anthropic", NOW) == 2
    assert ledger.try_spend("anthropic", NOW + timedelta(days=1), 2) == (True, False)


def _spend(path: str, n: int) -> None:
    ledger = Ledger(Path(path))
    for _ in range(n):
        ledger.try_spend("p", NOW, 10_000)


def test_concurrent_processes_never_lose_a_spend(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_spend, args=(str(tmp_path), 25)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert Ledger(tmp_path).paid_today("p", NOW) == 100


def test_of_agent_is_that_agents_rows_of_all(tmp_path: Path) -> None:
    from probed.fallbackledger import FallbackLedger

    at = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    for ledger in (Ledger(tmp_path / "a"), FallbackLedger(tmp_path / "b")):
        assert ledger.of_agent("main") == []
        for agent in ("main", "mainx", "worker"):
            for profile in ("anthropic:a", "openai:b"):
                ledger.record_probe(agent, profile, None, at=at, result="quota", next_probe_at=at)
        ledger.record_probe("main", "anthropic:a", "m1", at=at, result="ok", next_probe_at=None)
        ledger.set_next("main", "openai:c", None, at + timedelta(hours=1))
        mine = ledger.of_agent("main")
        assert mine == [r for r in ledger.all() if r.agent == "main"]
        assert len(mine) == 4 and {r.agent for r in mine} == {"main"}


def test_of_agent_gives_an_unchanged_row_its_last_record_and_a_changed_one_a_new(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path)
    for profile in ("anthropic:a", "anthropic:b"):
        ledger.record_probe("main", profile, None, at=NOW, result="quota", next_probe_at=NOW)
    first = {r.profile: r for r in ledger.of_agent("main")}
    ledger.record_probe("main", "anthropic:b", None, at=NOW, result="ok", next_probe_at=None)
    Ledger(tmp_path).set_next("main", "anthropic:c", None, NOW)  # another process writes
    again = {r.profile: r for r in ledger.of_agent("main")}
    assert again["anthropic:a"] is first["anthropic:a"]
    assert again["anthropic:b"] is not first["anthropic:b"]
    assert (
        again["anthropic:b"].last_result == "ok" and again["anthropic:b"].consecutive_failures == 0
    )
    assert set(again) == {"anthropic:a", "anthropic:b", "anthropic:c"}
    assert list(again.values()) == [r for r in ledger.all() if r.agent == "main"]


def _spend_at_once(ledger: Ledger, gate: object, errors: list[BaseException]) -> None:
    gate.wait()  # type: ignore[attr-defined]
    try:
        ledger.try_spend("anthropic", NOW, 10)
    except BaseException as exc:  # collected, asserted by the test
        errors.append(exc)


def test_writers_that_start_together_on_a_new_ledger_all_get_through(tmp_path: Path) -> None:
    """The daemon, a cron job and a shell starting at once each set up WAL on first write;
    SQLite answered one of them "locked" at once (no busy wait), and its spend was lost."""
    import threading

    for n in range(25):
        path = tmp_path / str(n)
        ledgers = [Ledger(path) for _ in range(4)]
        gate = threading.Barrier(len(ledgers))
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_spend_at_once, args=(ledger, gate, errors))
            for ledger in ledgers
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert Ledger(path).paid_today("anthropic", NOW) == len(ledgers)
