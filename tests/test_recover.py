"""probe_profile end to end: real stores on disk, a real fake provider, the real ledger."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
from helpers.probestate import KEY_A, billing, read_usage, write_config, write_store

from probed.config import load_config
from probed.fakeprovider import FakeProvider
from probed.ledger import Ledger
from probed.logs import configure
from probed.recover import ProbeResult, make_context, probe_profile, probe_target
from probed.stores.discover import discover


def _run(
    tmp: Path,
    fake: FakeProvider,
    pid: str = "anthropic:default",
    *,
    force: bool = False,
    budget: int = 48,
    model: str | None = None,
) -> ProbeResult:
    cfg = load_config(
        write_config(
            tmp,
            tmp / "oc",
            daily_budget=budget,
            providers={"anthropic": {"base_url": fake.base_url}},
        )
    )

    async def go() -> ProbeResult:
        ctx = make_context(cfg)
        async with ctx.client:
            [store] = discover(cfg.openclaw)
            return await probe_profile(ctx, store, pid, force=force, model=model)

    return anyio.run(go)


def _profiles() -> dict:
    return {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}}


def test_a_usable_profile_is_reported_and_nothing_is_sent(tmp_path: Path) -> None:
    write_store(tmp_path / "oc", _profiles(), {})
    with FakeProvider() as fake:
        r = _run(tmp_path, fake)
        assert fake.counts().total == 0
    assert r.outcome == "usable" and not r.paid and r.failure is None


def test_force_probes_a_usable_profile_for_free(tmp_path: Path) -> None:
    write_store(tmp_path / "oc", _profiles(), {})
    with FakeProvider() as fake:
        r = _run(tmp_path, fake, force=True)
        assert fake.counts().free == 1 and fake.counts().paid == 0
    assert r.outcome == "recovered"


def test_billing_recovers_after_a_paid_probe_and_is_cleared(tmp_path: Path) -> None:
    write_store(tmp_path / "oc", _profiles(), {"anthropic:default": billing()})
    with FakeProvider() as fake:
        r = _run(tmp_path, fake)
        assert fake.counts().paid == 1
    assert r.outcome == "recovered" and r.paid and not r.reused
    usage = read_usage(tmp_path / "oc", "anthropic:default")
    assert "disabledUntil" not in usage and "disabledReason" not in usage
    rec = Ledger(tmp_path / "state").get("main", "anthropic:default")
    assert rec is not None and rec.last_result == "ok" and rec.consecutive_failures == 0


def test_failure_is_written_with_backoff_and_recorded(tmp_path: Path) -> None:
    write_store(tmp_path / "oc", _profiles(), {"anthropic:default": billing(hours=0.001)})
    with FakeProvider() as fake:
        fake.respond(kind="paid", status=529)
        r = _run(tmp_path, fake, force=True)
    assert r.outcome == "failed" and r.failure is not None
    assert str(r.failure.reason) == "overloaded"
    # the window written outlasts the next probe (30 s) by more than [probe] lead: it never
    # lapses onto the outage, and holds for overloaded's cap (5 min), so the next looks write
    # nothing
    assert r.until is not None and r.next_probe_at is not None
    assert timedelta(seconds=260) <= r.until - r.next_probe_at <= timedelta(seconds=270)
    usage = read_usage(tmp_path / "oc", "anthropic:default")
    assert usage.get("cooldownReason") == "overloaded"
    assert usage.get("disabledReason") != "billing"
    rec = Ledger(tmp_path / "state").get("main", "anthropic:default")
    assert rec is not None and rec.last_result == "overloaded" and rec.consecutive_failures == 1


def test_daily_budget_survives_restarts_and_warns_once(tmp_path: Path) -> None:
    buf = io.StringIO()
    configure("info", "json", stream=buf)
    try:
        write_store(tmp_path / "oc", _profiles(), {"anthropic:default": billing()})
        with FakeProvider() as fake:
            fake.respond(kind="paid", status=402)
            # a paid probe the provider rejects is not billed: given back, counted as rejected
            first = _run(tmp_path, fake, budget=1)  # each _run is a fresh context: a "restart"
            again = _run(tmp_path, fake, budget=1, force=True)
            assert fake.counts().paid == 2
            ledger = Ledger(tmp_path / "state")
            assert ledger.paid_today("anthropic", datetime.now(UTC)) == 0
            assert ledger.rejected_today("anthropic", datetime.now(UTC)) == 2
            # one that may have been billed (here: spent by another caller) stays spent
            assert ledger.try_spend("anthropic", datetime.now(UTC), 1) == (True, False)
            second = _run(tmp_path, fake, budget=1, force=True)
            third = _run(tmp_path, fake, budget=1, force=True)
            assert fake.counts().paid == 2
    finally:
        configure("warning", "console", stream=io.StringIO())
    assert first.paid and first.outcome == "failed" and not first.billable
    assert again.paid and not again.billable
    assert second.outcome == third.outcome == "skipped"
    assert second.failure is not None and str(second.failure.reason) == "billing"
    assert "budget" in second.failure.message
    assert not second.paid
    events = [json.loads(line) for line in buf.getvalue().splitlines() if line.startswith("{")]
    assert [e["event"] for e in events].count("probe_budget_exhausted") == 1
    assert KEY_A not in buf.getvalue()
    assert read_usage(tmp_path / "oc", "anthropic:default")["disabledReason"] == "billing"


def test_concurrent_callers_share_one_probe(tmp_path: Path) -> None:
    write_store(tmp_path / "oc", _profiles(), {"anthropic:default": billing()})
    with FakeProvider(delay=0.3) as fake:
        cfg = load_config(
            write_config(
                tmp_path, tmp_path / "oc", providers={"anthropic": {"base_url": fake.base_url}}
            )
        )
        results: list[ProbeResult] = []

        async def one() -> None:
            ctx = make_context(cfg)
            async with ctx.client:
                results.extend(await probe_target(ctx, discover(cfg.openclaw), "anthropic"))

        async def go() -> None:
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(one)

        anyio.run(go)
        assert fake.counts().paid == 1
    assert {r.outcome for r in results} == {"recovered"}
    assert sorted(r.reused for r in results) == [False, True, True]
    assert (tmp_path / "lock" / "anthropic.lock").exists()
    shared = (tmp_path / "lock" / "anthropic.results.json").read_text()
    assert KEY_A not in shared


def test_missing_or_expired_credentials_are_reported_and_not_probed(tmp_path: Path) -> None:
    from helpers.probestate import now_ms

    write_store(
        tmp_path / "oc",
        {
            "anthropic:default": {"type": "api_key", "provider": "anthropic"},
            "anthropic:me": {
                "type": "oauth",
                "provider": "anthropic",
                "access": KEY_A,
                "expires": now_ms() - 1000,
            },
        },
        {"anthropic:default": billing(), "anthropic:me": billing()},
    )
    with FakeProvider() as fake:
        missing = _run(tmp_path, fake, "anthropic:default")
        expired = _run(tmp_path, fake, "anthropic:me")
        assert fake.counts().total == 0
    for r in (missing, expired):
        assert r.outcome == "failed" and r.failure is not None
        assert str(r.failure.reason) == "auth" and not r.paid
    assert "no key" in missing.failure.message
    assert expired.failure.action.startswith("log in again")
    assert read_usage(tmp_path / "oc", "anthropic:me").get("cooldownReason") == "auth"
    assert KEY_A not in repr(expired)


def test_quota_recorded_by_openclaw_as_rate_limit_needs_a_paid_probe(tmp_path: Path) -> None:
    """OpenClaw writes probed's quota verdict as `rate_limit`; a free model list answers while a
    quota is exhausted, so only a paid probe may clear it."""
    now = int(time.time() * 1000)
    usage = {
        "cooldownUntil": now - 1000,
        "cooldownReason": "rate_limit",
        "errorCount": 1,
        "failureCounts": {"rate_limit": 1},
        "lastFailureAt": now - 60_000,
    }
    write_store(tmp_path / "oc", _profiles(), {"anthropic:default": usage})
    Ledger(tmp_path / "state").record_probe(
        "main", "anthropic:default", None, at=datetime.now(UTC), result="quota", next_probe_at=None
    )
    with FakeProvider() as fake:
        fake.respond(
            kind="paid",
            status=429,
            headers={"anthropic-ratelimit-unified-status": "rejected", "retry-after": "3600"},
        )
        r = _run(tmp_path, fake, force=True)
        assert fake.counts().paid == 1
    assert r.outcome == "failed" and r.failure is not None
    assert str(r.failure.reason) == "quota"
    assert read_usage(tmp_path / "oc", "anthropic:default")["cooldownUntil"] > now + 3_000_000


def test_a_rate_limit_openclaw_recorded_is_not_cleared_by_a_model_list(tmp_path: Path) -> None:
    """A provider answers its model list through a rate or daily limit: a window OpenClaw
    recorded as `rate_limit` (probed has no verdict of its own yet) takes a one-token
    generation, and the provider's stated reset becomes the window's end. A free list alone
    cleared it, and the gateway's next user requests reached the still-limited provider."""
    now = int(time.time() * 1000)
    usage = {
        "cooldownUntil": now + 20_000,
        "cooldownReason": "rate_limit",
        "cooldownModel": "claude-haiku-4-5",
        "errorCount": 1,
        "failureCounts": {"rate_limit": 1},
        "lastFailureAt": now - 10_000,
    }
    write_store(tmp_path / "oc", _profiles(), {"anthropic:default": usage})
    with FakeProvider() as fake:
        fake.respond(kind="paid", status=429, headers={"retry-after": "600"})
        r = _run(tmp_path, fake, force=True)
        assert fake.counts().paid == 1  # rejected: not billed
    assert r.outcome == "failed" and r.failure is not None and not r.billable
    after = read_usage(tmp_path / "oc", "anthropic:default")
    assert after["cooldownReason"] == "rate_limit"
    assert now + 595_000 <= after["cooldownUntil"] <= now + 610_000  # the stated reset


def test_a_failed_billing_probe_is_retried_on_probeds_backoff_not_openclaws_window(
    tmp_path: Path,
) -> None:
    """OpenClaw keeps its 5-hour billing window (never shortened, and not rewritten: it already
    outlasts the next probe); probed's next probe is its own early step, 20 s for the first
    10 minutes of the outage, so a top-up is seen within a minute."""
    write_store(tmp_path / "oc", _profiles(), {"anthropic:default": billing(hours=5)})
    billing_until = read_usage(tmp_path / "oc", "anthropic:default")["disabledUntil"]
    with FakeProvider() as fake:
        fake.respond(
            kind="paid",
            status=400,
            body='{"type":"error","error":{"type":"invalid_request_error",'
            '"message":"Your credit balance is too low to access the Anthropic API."}}',
        )
        started = datetime.now(UTC)
        first = _run(tmp_path, fake)
        second = _run(tmp_path, fake, force=True)
    assert first.failure is not None and str(first.failure.reason) == "billing"
    assert first.until is not None and (first.until - started).total_seconds() > 4.9 * 3600
    assert first.next_probe_at is not None
    assert 20 <= (first.next_probe_at - started).total_seconds() <= 25  # early: base 20 s
    assert second.next_probe_at is not None
    assert 20 <= (second.next_probe_at - started).total_seconds() <= 30  # still early
    rec = Ledger(tmp_path / "state").get("main", "anthropic:default")
    assert rec is not None and rec.next_probe_at == second.next_probe_at
    assert rec.consecutive_failures == 2 and rec.failing_since is not None
    usage = read_usage(tmp_path / "oc", "anthropic:default")
    assert usage["disabledReason"] == "billing"
    assert usage["disabledUntil"] == billing_until  # no write: the window outlasts the next look


def test_a_rate_limit_inside_a_billing_window_is_probed_again_soon(tmp_path: Path) -> None:
    """A 429 says nothing about money: OpenClaw's billing window stays, but while it is what
    keeps the profile out, probed's own next step (the rate limit's 30 s) is the next probe."""
    write_store(tmp_path / "oc", _profiles(), {"anthropic:default": billing(hours=5)})
    with FakeProvider() as fake:
        fake.respond(kind="paid", status=429, headers={"retry-after": "30"})
        started = datetime.now(UTC)
        r = _run(tmp_path, fake)
    assert r.failure is not None and str(r.failure.reason) == "rate_limit"
    usage = read_usage(tmp_path / "oc", "anthropic:default")
    assert usage["disabledReason"] == "billing" and usage["cooldownReason"] == "rate_limit"
    assert r.next_probe_at is not None
    assert 29 <= (r.next_probe_at - started).total_seconds() <= 40


def test_a_missing_model_is_only_cleared_by_a_generation_on_that_model(tmp_path: Path) -> None:
    """A model list answers whether or not the one model exists: a `model_not_found` window
    scoped to a model takes a one-token generation on that model, and stays when it fails."""
    now = int(time.time() * 1000)
    usage = {
        "cooldownUntil": now - 1000,
        "cooldownReason": "model_not_found",
        "cooldownModel": "claude-nope",
        "errorCount": 1,
        "failureCounts": {"model_not_found": 1},
        "lastFailureAt": now - 60_000,
    }
    write_store(tmp_path / "oc", _profiles(), {"anthropic:default": usage})
    with FakeProvider() as fake:
        fake.respond(
            model="claude-nope",
            kind="paid",
            status=404,
            body='{"type":"error","error":{"type":"not_found_error",'
            '"message":"model: claude-nope"}}',
        )
        r = _run(tmp_path, fake, force=True)  # expired, not cleared: as the daemon probes it
        paid = [q for q in fake.requests if q.paid]
        assert [q.model for q in paid] == ["claude-nope"]
    assert r.outcome == "failed" and r.failure is not None
    assert str(r.failure.reason) == "model_not_found"
    assert read_usage(tmp_path / "oc", "anthropic:default")["cooldownUntil"] > now

    with FakeProvider() as fake:  # the model is back
        r = _run(tmp_path, fake, force=True)
        assert fake.counts().paid == 1  # a free list alone would not have cleared it
    assert r.outcome == "recovered"
    assert "cooldownUntil" not in read_usage(tmp_path / "oc", "anthropic:default")
