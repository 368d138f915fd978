"""The pure "has the gateway taken the repair?" decision and its retry schedule."""

from __future__ import annotations

import pytest

from probed.confirm import (
    START_SLACK_MS,
    Evidence,
    GatewaySeen,
    Verdict,
    decide,
    needs_reload,
    retry_delay_s,
)

T = 1_800_000_000_000
UP_BEFORE = GatewaySeen(True, T - 60_000)
DOWN = GatewaySeen(False, None, "no gateway answers on 127.0.0.1:18789 (nothing listens)")


def _ev(**kw: object) -> Evidence:
    base: dict[str, object] = {"repaired_at_ms": T, "usable_on_disk": True, "gateway": UP_BEFORE}
    return Evidence(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("evidence", "verdict"),
    [
        (_ev(), Verdict.PENDING),  # up since before the repair, never reloaded
        (_ev(reload_ok_at_ms=T + 2_000), Verdict.TAKEN),  # reloaded after the repair
        (_ev(reload_ok_at_ms=T - 1), Verdict.PENDING),  # a reload before it proves nothing
        (_ev(gateway=DOWN), Verdict.NOT_RUNNING),
        (_ev(gateway=DOWN, reload_ok_at_ms=T + 5), Verdict.TAKEN),  # reload reached one
        (_ev(gateway=GatewaySeen(True, T + START_SLACK_MS + 1)), Verdict.TAKEN),  # started since
        (_ev(gateway=GatewaySeen(True, T + START_SLACK_MS)), Verdict.PENDING),  # too close
        (_ev(gateway=GatewaySeen(True, None)), Verdict.PENDING),  # no uptime reported
        (_ev(usable_on_disk=False, reload_ok_at_ms=T + 1), Verdict.OVERWRITTEN),
    ],
)
def test_decide(evidence: Evidence, verdict: Verdict) -> None:
    assert decide(evidence) is verdict


def test_only_taken_is_confirmed_and_taken_or_overwritten_are_settled() -> None:
    assert [v for v in Verdict if v.confirmed] == [Verdict.TAKEN]
    assert {v for v in Verdict if v.settled} == {Verdict.TAKEN, Verdict.OVERWRITTEN}


def test_retry_delays_double_from_5s_to_a_minute() -> None:
    assert [retry_delay_s(n) for n in range(8)] == [0, 5, 10, 20, 40, 60, 60, 60]


def test_only_a_running_gateway_on_its_old_copy_gets_the_command_again() -> None:
    assert needs_reload(Verdict.PENDING, has_command=True)
    assert not needs_reload(Verdict.PENDING, has_command=False)
    assert not any(needs_reload(v, has_command=True) for v in Verdict if v is not Verdict.PENDING)
