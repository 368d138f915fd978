"""The per-profile checks of a daemon pass, made cheap for 100,000 profiles, decide as before."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import anyio
import pytest

from probed import daemon as daemon_module
from probed import policy
from probed.config import Config
from probed.daemon import (
    ANNOUNCE_MAX,
    Daemon,
    Scheduled,
    _may_have_window,
    _window,
)
from probed.logs import configure, log_enabled
from probed.model import Profile, Usage
from probed.reasons import Reason, _read_word, from_openclaw
from probed.scheduler import Key
from probed.stores.base import Era, Snapshot

T = 1_800_000_000_000


def test_may_have_window_reads_dicts_and_other_mappings_alike() -> None:
    for raw in (
        {"cooldownUntil": T},
        {"disabledUntil": None},
        {"blockedUntil": 0, "lastUsed": T},
    ):
        assert _may_have_window(raw) and _may_have_window(MappingProxyType(raw))
    for other in ({}, {"lastUsed": T, "errorCount": 2}, None, [], "cooldownUntil"):
        assert not _may_have_window(other)
        if isinstance(other, dict):
            assert not _may_have_window(MappingProxyType(other))


def test_cached_reason_words_read_as_the_enum_does() -> None:
    words = [r.value for r in Reason] + ["session_expired", "server_error", "zzz", ""]
    for word in words * 2:  # the second time from the cache
        assert from_openclaw(word) is _read_word(word)
    assert from_openclaw(None) is None


def test_a_signature_given_the_window_is_the_one_it_would_compute() -> None:
    daemon = Daemon(Config())
    usage = Usage.from_json(
        {"cooldownUntil": T + 60_000, "cooldownReason": "rate_limit", "lastFailureAt": T}
    )
    recorded = usage.recorded()
    assert recorded is not None
    key = Key("main", "anthropic:a")
    window, history = _window(recorded, usage, None)
    assert history == policy.History()
    assert daemon._signature(key, recorded, usage, history, window) == daemon._signature(
        key, recorded, usage, history
    )


def _scheduled(n: int) -> list[Scheduled]:
    base = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    # the earliest has no fraction of a second, a later one has: compared as times, not texts
    ats = [base + timedelta(seconds=1 + i, milliseconds=500) for i in range(n - 1)] + [base]
    usage = Usage.from_json({"cooldownUntil": T, "cooldownReason": "rate_limit"})
    return [
        Scheduled(Key("main", f"anthropic:p{i}"), "anthropic", usage.recorded(), at)
        for i, at in enumerate(ats)
    ]


def test_a_big_scan_counts_its_keys_without_formatting_lines_nobody_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    configure("info", "json", stream=out)
    many = _scheduled(ANNOUNCE_MAX + 50)

    def boom(_self: Scheduled) -> dict[str, Any]:
        raise AssertionError("a probe_scheduled line was formatted at info level")

    try:
        with monkeypatch.context() as m:
            m.setattr(Scheduled, "fields", boom)
            Daemon(Config())._announce(many)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [(e["event"], e["count"]) for e in lines] == [("probes_scheduled", len(many))]
        assert lines[0]["first_at"] == "2027-01-15T12:00:00Z"
        out = io.StringIO()
        configure("debug", "json", stream=out)
        Daemon(Config())._announce(many)
        events = [json.loads(line)["event"] for line in out.getvalue().splitlines()]
        assert events.count("probe_scheduled") == len(many) and events[-1] == "probes_scheduled"
        out = io.StringIO()
        configure("debug", "json", stream=out)
        Daemon(Config())._announce(many[:3])  # a small pass: one line each, at info
        assert [json.loads(line)["profile"] for line in out.getvalue().splitlines()] == [
            "anthropic:p0",
            "anthropic:p1",
            "anthropic:p2",
        ]
    finally:
        configure("info", "console", stream=io.StringIO())


def test_log_enabled_follows_the_configured_level() -> None:
    try:
        configure("warning", "json", stream=io.StringIO())
        assert log_enabled("error") and log_enabled("warning") and not log_enabled("info")
        configure("debug", "json", stream=io.StringIO())
        assert log_enabled("debug")
        assert not log_enabled("no-such-level")
    finally:
        configure("info", "console", stream=io.StringIO())


def test_a_pass_over_an_unchanged_store_reuses_each_keys_signature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An armed key whose usage (the memo's same object), record and overrides are unchanged
    keeps its signature without the window being computed; any new input computes it again."""
    daemon = Daemon(Config())
    profile = Profile.from_json("anthropic:a", {"type": "api_key", "provider": "anthropic"})
    assert profile is not None
    entry = {"cooldownUntil": T + 3_600_000, "cooldownReason": "rate_limit", "lastFailureAt": T}

    def snap() -> Snapshot:  # every read makes new dicts
        state = {"usageStats": {"anthropic:a": dict(entry)}}
        return Snapshot("main", Era.SQLITE_AGENT, {"anthropic:a": profile}, state)

    now = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    calls: list[object] = []
    real = daemon_module._window
    monkeypatch.setattr(daemon_module, "_window", lambda *a: calls.append(a) or real(*a))
    ((key, (sig, at, *_)),) = anyio.run(daemon._wanted, snap(), now, {}).items()
    daemon._armed[key] = sig
    monkeypatch.setattr(daemon.sched, "is_scheduled", lambda k: k == key)
    monkeypatch.setattr(daemon.sched, "deadline", lambda k: at)
    calls.clear()
    assert anyio.run(daemon._wanted, snap(), now, {})[key][:3] == (sig, at, True)
    assert calls == []
    daemon._retry[key] = at + timedelta(minutes=1)  # a probe that could not run
    assert anyio.run(daemon._wanted, snap(), now, {})[key][0] != sig
    assert len(calls) == 1  # once, for the signature and the time
    calls.clear()
    entry["errorCount"] = 2  # OpenClaw wrote the profile: a new Usage
    anyio.run(daemon._wanted, snap(), now, {})
    assert calls


def test_a_pass_over_a_big_store_lets_a_due_key_in_before_it_ends() -> None:
    """A key falling due during a pass over 1,000 windows waits for a slice of it (128
    profiles), not for the whole pass: the p99 wake-up lateness at 100,000 profiles."""
    daemon = Daemon(Config())
    entry = {"cooldownUntil": T + 3_600_000, "cooldownReason": "rate_limit", "lastFailureAt": T}
    profiles, stats = {}, {}
    for i in range(1000):
        pid = f"anthropic:p{i}"
        profile = Profile.from_json(pid, {"type": "api_key", "provider": "anthropic"})
        assert profile is not None
        profiles[pid], stats[pid] = profile, dict(entry)
    snap = Snapshot("main", Era.SQLITE_AGENT, profiles, {"usageStats": stats})
    now = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    done_when_due: list[int] = []
    seen: list[str] = []
    real = daemon._want_one

    def counting(*a: Any, **kw: Any) -> Any:
        seen.append(a[2])
        return real(*a, **kw)

    daemon._want_one = counting  # type: ignore[method-assign]

    async def main() -> dict[Key, Any]:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_note, done_when_due, seen)
            return await daemon._wanted(snap, now, {})

    wanted = anyio.run(main)
    assert len(wanted) == 1000
    assert done_when_due and done_when_due[0] <= 128  # the due key ran inside the pass


async def _note(into: list[int], seen: list[str]) -> None:
    into.append(len(seen))


def test_a_pass_waits_for_a_key_that_just_fell_due_until_its_probe_starts() -> None:
    """A key falling due goes first: bookkeeping waits while it reads its store and takes its
    flight, for at most `_DUE_FIRST_S`; keys that fell due longer ago (a burst) are not waited
    for, so a burst never stops the schedule."""
    daemon = Daemon(Config())
    key = Key("main", "anthropic:a")
    order: list[str] = []

    async def go() -> None:
        daemon._on_way(key)

        async def probe_starts() -> None:
            await anyio.sleep(0.01)
            order.append("probe started")
            daemon._on_its_probe(key)

        async with anyio.create_task_group() as tg:
            tg.start_soon(probe_starts)
            with anyio.fail_after(5):
                await daemon._after_due_keys()
                order.append("pass goes on")

        daemon._on_way(key)  # a probe that never starts holds a pass up for the bound alone
        t = time.monotonic()
        with anyio.fail_after(5):
            await daemon._after_due_keys()
        assert time.monotonic() - t >= daemon_module._DUE_FIRST_S * 0.9
        daemon._on_its_probe(key)

        daemon._starting[key] = time.monotonic() - 1  # fell due a second ago: not waited for
        with anyio.CancelScope() as scope:
            scope.cancel()
            await daemon._after_due_keys()
        assert not scope.cancelled_caught  # returned without waiting for anything

    anyio.run(go)
    assert order == ["probe started", "pass goes on"]
