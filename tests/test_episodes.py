"""The notification decisions: once per episode, re-armed by recovery, the flap budget."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from probed.episodes import (
    FLAP_WINDOW_S,
    Cleared,
    Down,
    Episodes,
    Notice,
    event_for,
)
from probed.reasons import Reason

DEFAULT = frozenset({"action_needed", "recovered"})
ALL = DEFAULT | {"unavailable"}
AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def down(reason: Reason, model: str | None = None) -> Down:
    return Down("anthropic", reason, model, AT, AT, f"fix {reason}")


def kinds(notices: list[Notice]) -> list[tuple[str, str, str]]:
    return [(n.event, n.profile, str(n.reason)) for n in notices]


def test_reasons_split_into_the_two_events() -> None:
    for r in (Reason.BILLING, Reason.AUTH, Reason.AUTH_PERMANENT, Reason.PERMISSION):
        assert event_for(r) == "action_needed"
    for r in (Reason.QUOTA, Reason.RATE_LIMIT, Reason.OVERLOADED, Reason.TIMEOUT, Reason.UNKNOWN):
        assert event_for(r) == "unavailable"


def test_one_message_per_episode_however_many_passes() -> None:
    e = Episodes()
    first = e.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, 0)
    assert kinds(first) == [("action_needed", "a:1", "billing")]
    assert first[0].action == "fix billing" and first[0].next_look == AT
    for t in range(1, 50):
        assert e.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, t) == []
        assert e.observe("main", {"a:1": None}, DEFAULT, t) == []  # expired, not cleared yet
        assert e.tick(DEFAULT, t) == []
    assert kinds(e.observe("main", {"a:1": Cleared("anthropic")}, DEFAULT, 60)) == [
        ("recovered", "a:1", "billing")
    ]
    assert e.observe("main", {"a:1": Cleared("anthropic")}, DEFAULT, 61) == []


def test_recovery_re_arms_and_a_new_reason_is_a_new_message() -> None:
    e = Episodes()
    e.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, 0)
    e.observe("main", {"a:1": Cleared("anthropic")}, DEFAULT, 10)
    again = e.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, 20)
    assert kinds(again) == [("action_needed", "a:1", "billing")]  # re-armed by the recovery
    # a different reason a person must fix: they hear of it (budget permitting, below)
    e2 = Episodes()
    e2.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, 0)
    assert kinds(e2.observe("main", {"a:1": down(Reason.AUTH)}, DEFAULT, 5)) == [
        ("action_needed", "a:1", "auth")
    ]


def test_unavailable_is_off_by_default_and_never_followed_by_a_recovery() -> None:
    e = Episodes()
    assert e.observe("main", {"a:1": down(Reason.RATE_LIMIT)}, DEFAULT, 0) == []
    assert e.observe("main", {"a:1": Cleared("anthropic")}, DEFAULT, 5) == []
    assert e.records == {}  # nothing to remember
    e.observe("main", {"a:1": down(Reason.RATE_LIMIT)}, ALL, 10)
    assert kinds(e.observe("main", {"a:1": Cleared("anthropic")}, ALL, 15)) == [
        ("recovered", "a:1", "rate_limit")
    ]


def test_a_flapping_profile_is_held_to_the_budget() -> None:
    e = Episodes()
    sent: list[tuple[str, str, str]] = []
    t = 0.0
    for _ in range(20):  # down and up every minute for 20 minutes
        sent += kinds(e.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, t))
        sent += kinds(e.observe("main", {"a:1": Cleared("anthropic")}, DEFAULT, t + 30))
        t += 60
    assert sent.count(("action_needed", "a:1", "billing")) == 2
    assert sent.count(("recovered", "a:1", "billing")) == 2
    # still down when the budget frees up: the held-back opening goes out then, once
    e.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, t)
    assert e.tick(DEFAULT, t + 1) == []
    later = e.tick(DEFAULT, FLAP_WINDOW_S + 1)
    assert kinds(later) == [("action_needed", "a:1", "billing")]
    assert e.tick(DEFAULT, FLAP_WINDOW_S + 2) == []


def test_memory_survives_a_restart_and_waits_for_the_first_pass() -> None:
    e = Episodes()
    e.observe("main", {"a:1": down(Reason.BILLING), "a:2": down(Reason.RATE_LIMIT)}, DEFAULT, 0)
    saved = json.loads(json.dumps(e.to_json()))
    again = Episodes.from_json(saved)
    assert again.tick(DEFAULT, 5) == []  # nothing observed yet: no "recovered" by mistake
    assert again.observe("main", {"a:1": None}, DEFAULT, 5) == []  # expired, probe pending
    assert again.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, 6) == []
    assert kinds(again.observe("main", {"a:1": Cleared("anthropic")}, DEFAULT, 7)) == [
        ("recovered", "a:1", "billing")
    ]
    assert Episodes.from_json({"profiles": [{"agent": 1}, "junk"]}).records == {}
    assert Episodes.from_json("not a document").records == {}


def test_profiles_that_leave_the_store_are_forgotten_silently() -> None:
    e = Episodes()
    e.observe("main", {"a:1": down(Reason.BILLING)}, DEFAULT, 0)
    assert e.observe("main", {}, DEFAULT, 1) == []
    assert e.records == {}
    e.observe("other", {"a:1": down(Reason.BILLING)}, DEFAULT, 0)
    e.retain_agents({"main"})
    assert e.records == {}
