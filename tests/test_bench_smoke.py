"""The benchmark harness keeps working: the smoke configuration runs end to end against a real
OpenClaw 2026.9.6 gateway, the real probed daemon and the FakeProvider; its accounting and its
target checks are unit-tested on made-up runs. No timing is asserted beyond what the smoke
scenario is for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import Row, recovery_targets  # noqa: E402 - after the sys.path line
from bench.scenarios import FULL, Scenario, by_name  # noqa: E402 - after the sys.path line
from bench.stampede import run_stampede  # noqa: E402 - after the sys.path line
from bench.world import Countdown, RunResult, Traffic, account, break_provider  # noqa: E402
from probed.fakeprovider import FakeProvider  # noqa: E402 - after the sys.path line

pytestmark = pytest.mark.slow


def _run(system: str, recovered: float | None, **kw: int) -> RunResult:
    fields = {
        "failed_user": 0,
        "user_requests": 10,
        "reached_broken": 0,
        "lapsed": 0,
        "test_requests": 3,
        "billable": 1,
        "rejected": 2,
        "free": 0,
        "all_requests": 13,
    }
    fields.update(kw)
    return RunResult("billing_early_9.6", system, 0, recovered, **fields)


def _account(
    sc: Scenario,
    fake: FakeProvider,
    traffic: Traffic,
    credential: str,
    *,
    t0: float,
    fix_at: float,
    broke_at: float,
    replaced: str | None = None,
) -> RunResult:
    """`account` for a run of a second or so with no window watched."""
    return account(
        sc,
        "x",
        0,
        fake=fake,
        credential=credential,
        replaced=replaced,
        traffic=traffic,
        t0=t0,
        fix_at=fix_at,
        broke_at=broke_at,
        window_end=None,
        wall_s=1.0,
    )


def test_targets_are_checked_and_a_miss_is_said_plainly() -> None:
    sc = by_name(["billing_early_9.6"])[0]
    probed = Row(sc, "probed + OpenClaw 9.6", (_run("probed", 35.0), _run("probed", 75.0)))
    alone = Row(sc, "OpenClaw 9.6 alone", (_run("alone", None, billable=0),))
    got = [ok for ok, _ in recovery_targets([probed, alone])]
    assert got[0] is False  # 75 s > 60 s in one run: MISSED, whatever the median
    assert got[1:] == [True, True, True]  # billable, reached broken, no slower than alone
    two = Row(sc, "probed", (_run("probed", 20.0, billable=2),))
    assert [ok for ok, _ in recovery_targets([two])][1] is False  # two billed requests


def test_accounting_tells_user_requests_from_probes(tmp_path: Path) -> None:
    """The fake's outage fails generations only; a user request carries a marker, a probe does
    not; a test generation before the fix was rejected, one after it billable; what reached
    the provider before the outage (the gateway's warm-up) is not counted."""
    import time

    import httpx

    sc = by_name(["billing_early_9.6"])[0]
    key = "sk-bench-accounting-000"
    with FakeProvider() as fake, httpx.Client() as client:
        auth = {"authorization": f"Bearer {key}"}

        def gen(text: str) -> int:
            body = {"model": "m", "messages": [{"role": "user", "content": text}]}
            return client.post(
                f"{fake.base_url}/v1/chat/completions", headers=auth, json=body
            ).status_code

        assert gen("warm up") == 200
        fix_at = time.time() + 0.6
        broke_at = break_provider(fake, sc, key, fix_at)

        traffic = Traffic(send=gen, period=0.2)
        t0 = time.time()
        traffic.one()  # the first failed user request
        assert client.get(f"{fake.base_url}/v1/models", headers=auth).status_code == 200
        assert gen("probe") == 402  # a rejected probe
        while time.time() < fix_at:
            time.sleep(0.05)
        assert gen("probe") == 200  # billable
        assert traffic.one().status == 200
        r = _account(sc, fake, traffic, key, t0=t0, fix_at=fix_at, broke_at=broke_at)
    assert r.recovered_s is not None and 0 <= r.recovered_s < 5
    assert (r.failed_user, r.user_requests, r.reached_broken) == (1, 2, 0)
    assert (r.test_requests, r.billable, r.rejected, r.free) == (3, 1, 1, 1)
    assert r.all_requests == 5


def test_countdown_tells_the_truth_when_sent() -> None:
    import time

    c = Countdown(time.time() + 10.2)
    assert c["retry-after"] == "11" and list(c) == ["retry-after"]


def test_full_scenarios_cover_the_issue() -> None:
    names = {s.name for s in FULL}
    assert {"billing_early_9.6", "billing_early_5.28_fallback", "billing_hours_9.6"} <= names
    assert any(s.reset_stated and s.target_s == 2.0 for s in FULL)
    assert any(s.kind == "auth" and s.target_s == 60.0 for s in FULL)  # "new key, re-login"


def test_a_refused_key_is_refused_everywhere_money_only_for_generations() -> None:
    """Billing fails generations only (the model list answers, as real providers do); a key
    the provider refuses fails its model list too, so only the free check can prove it back."""
    import time

    import httpx

    with FakeProvider() as fake, httpx.Client() as client:
        for name, key in (("billing_early_9.6", "sk-bench-money-0"), ("auth_early_9.6", "sk-b-1")):
            break_provider(fake, by_name([name])[0], key, time.time() + 30)
            auth = {"authorization": f"Bearer {key}"}
            body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
            listed = client.get(f"{fake.base_url}/v1/models", headers=auth).status_code
            made = client.post(f"{fake.base_url}/v1/chat/completions", headers=auth, json=body)
            assert (listed, made.status_code) == ((200, 402) if "billing" in name else (401, 401))


def test_stampede_of_three_sends_one_paid_request() -> None:
    result = run_stampede(3)
    assert result.paid == 1
    assert result.exit_ok == 3


@pytest.mark.gateway
def test_smoke_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out), "--only", "recovery"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=480,  # ~2 min: a 9.6 gateway takes 30-45 s to start on a loaded machine
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = (out / "benchmarks.md").read_text(encoding="utf-8")
    assert "## 1. Recovery at the gateway, beside real peers" in text
    assert "| **probed + OpenClaw 9.6** |" in text
    assert "run failed" not in text, text
    assert "### Targets (issue 12)" in text
    assert "stated reset -> first success" in text
    assert (out / "benchmarks-recovery.png").stat().st_size > 1000
    assert "sk-fake" not in proc.stdout + proc.stderr + text  # no key in any output


def test_requests_inside_openclaws_window_are_not_lapses() -> None:
    """OpenClaw 2026.9.6 itself sends a user request to a disabled primary on a throttle, and
    the outage is found by a request sent before any window: neither is a window lapsing onto
    the outage. A request sent after a recorded window ended is."""
    from bench.world import lapse_of

    samples = [(10.0, None), (11.0, 40.0), (30.0, 40.0), (41.0, 40.0), (50.0, 100.0)]
    assert lapse_of(5.0, samples) == "none"  # before the watch began
    assert lapse_of(10.5, samples) == "none"  # no window recorded yet
    assert lapse_of(35.0, samples) == "inside"
    assert lapse_of(45.0, samples) == "lapsed"  # the 40 s window had ended
    assert lapse_of(60.0, samples) == "inside"  # OpenClaw recorded a new one


def test_accounting_counts_only_lapsed_requests_as_lapses() -> None:
    """One run's `lapsed` follows the sampled windows; with none sampled (LiteLLM keeps none),
    every request that reached the broken provider counts."""
    import time

    import httpx

    sc = by_name(["billing_early_9.6"])[0]
    key = "sk-bench-lapses-000"
    with FakeProvider() as fake, httpx.Client() as client:
        fix_at = time.time() + 30
        broke_at = break_provider(fake, sc, key, fix_at)
        traffic = Traffic(
            send=lambda m: (
                client.post(
                    f"{fake.base_url}/v1/chat/completions",
                    headers={"authorization": f"Bearer {key}"},
                    json={"model": "m", "messages": [{"role": "user", "content": m}]},
                ).status_code
            )
        )
        for _ in range(4):
            traffic.one()
        sent = sorted(r.at for r in fake.requests)
        # a window recorded after the first request, ended before the third
        windows = [(sent[0] - 1, None), (sent[0] + 0.0001, sent[2] - 0.00005), (sent[3], None)]
        common = dict(fake=fake, credential=key, traffic=traffic, t0=broke_at, fix_at=fix_at,
                      broke_at=broke_at, window_end=None, wall_s=1.0)  # fmt: skip
        watched = account(sc, "x", 0, windows=windows, **common)  # type: ignore[arg-type]
        unwatched = account(sc, "x", 0, **common)  # type: ignore[arg-type]
    assert watched.reached_broken == unwatched.reached_broken == 3  # the first found the outage
    assert (watched.lapsed, unwatched.lapsed) == (2, 3)


def test_a_new_key_recovers_only_through_itself_and_the_old_keys_probes_count() -> None:
    """The new-key scenario: the old key stays refused after the fix; recovery is a user request
    through the new key, and what tested the old key is counted with the rest."""
    import time

    import httpx

    sc = by_name(["newkey_early_9.6"])[0]
    old, new = "sk-bench-old-key-0", "sk-bench-new-key-1"
    with FakeProvider() as fake, httpx.Client() as client:

        def gen(text: str, key: str) -> int:
            body = {"model": "m", "messages": [{"role": "user", "content": text}]}
            auth = {"authorization": f"Bearer {key}"}
            url = f"{fake.base_url}/v1/chat/completions"
            return client.post(url, headers=auth, json=body).status_code

        fix_at = time.time() + 0.3
        broke_at = break_provider(fake, sc, old, fix_at)
        traffic = Traffic(send=lambda m: gen(m, old), period=0.1)
        t0 = time.time()
        traffic.one()
        assert (
            client.get(
                f"{fake.base_url}/v1/models", headers={"authorization": f"Bearer {old}"}
            ).status_code
            == 401
        )
        while time.time() < fix_at + 0.05:
            time.sleep(0.05)
        assert traffic.one().status == 401  # the old key: refused after the fix too
        traffic.send = lambda m: gen(m, new)
        assert traffic.one().status == 200
        r = _account(sc, fake, traffic, new, replaced=old, t0=t0, fix_at=fix_at, broke_at=broke_at)
    assert r.recovered_s is not None and 0 <= r.recovered_s < 5
    assert (r.failed_user, r.user_requests, r.test_requests, r.free) == (2, 3, 1, 1)


def test_each_repeat_lands_the_fix_at_another_point_of_openclaws_short_windows() -> None:
    """A refused key's windows on 2026.9.6 are 30 s, renewed at each lapse: three fixes 0.3-1.7 s
    apart would all meet the same point of that cycle, and so would every run of 9.6 alone."""
    from bench.__main__ import jobs

    todo = jobs(by_name(["auth_early_9.6"]), smoke=False, repeats=3, litellm=False)
    fixes = sorted({run.args[0].fix_s for _, run in todo})  # type: ignore[attr-defined]
    assert fixes == [126.0, 135.0, 144.0]  # 120 s + 0.2 / 0.5 / 0.8 of the 30 s cycle
    billing = jobs(by_name(["billing_early_9.6"]), smoke=False, repeats=3, litellm=False)
    assert {run.args[0].fix_s for _, run in billing} == {120.0}  # type: ignore[attr-defined]
