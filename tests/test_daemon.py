"""The recovery loop in-process: a real Daemon, real OpenClaw-layout stores on disk, a real local
provider server, the real scheduler and watcher. Only the clock's scale is shortened, through
the configuration (backoff bases of a second or two), never by patching."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from helpers.openclawstate import AgentStore, api_key, cooldown, now_ms

from probed.config import Config, load_config
from probed.daemon import Daemon, DaemonOptions
from probed.fakeprovider import FakeProvider, fingerprint
from probed.notify import Notifier
from probed.recover import ProbeResult
from probed.scheduler import Key
from probed.stores.oclock import lock_path, proc_starttime

KEY_A = "sk-ant-api03-DAEMON-0001-aaaaaaaaaaaaaaaa"
KEY_B = "sk-ant-api03-DAEMON-0002-bbbbbbbbbbbbbbbb"

QUOTA_429 = (
    '{"type":"error","error":{"type":"rate_limit_error",'
    '"message":"usage limit for your 5-hour window reached"}}'
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # APScheduler 3 binds the asyncio loop


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def write_config(tmp: Path, base_url: str, *, extra: str = "", concurrency: int = 4) -> Path:
    path = tmp / "probed.toml"
    path.write_text(
        f"""
[daemon]
log_level = "warning"
log_format = "json"
state_dir = "{tmp / "probed-state"}"
lock_dir = "{tmp / "locks"}"

[openclaw]
state_dir = "{tmp / "openclaw"}"
reload_command = []

[probe]
timeout = "3s"
concurrency = {concurrency}
jitter = "0%"
jitter_max = "0s"
lead = "1s"

[backoff.rate_limit]
base = "1s"
cap = "2s"

[backoff.billing]
base = "2s"
cap = "2h"

[providers.anthropic]
api = "anthropic"
base_url = "{base_url}"
model = "claude-haiku-4-5"
{extra}
""",
        encoding="utf-8",
    )
    return path


def config_at(path: Path) -> Config:
    return load_config(path, env={})


class Run:
    """A daemon running in the test's event loop, with what it did."""

    def __init__(self, daemon: Daemon, results: list[ProbeResult]) -> None:
        self.daemon = daemon
        self.results = results

    def probes(self, profile: str) -> list[ProbeResult]:
        return [r for r in self.results if r.profile == profile]

    async def until(self, cond: Callable[[], Any], what: str, timeout: float = 8.0) -> Any:
        try:
            with anyio.fail_after(timeout):
                while not (got := cond()):
                    await anyio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None
        return got


@asynccontextmanager
async def running(config_path: Path, **opts: Any) -> AsyncIterator[Run]:
    results: list[ProbeResult] = []
    stop = anyio.Event()
    options = DaemonOptions(
        spread_s=opts.pop("spread_s", 0.2),
        on_result=results.append,
        stop=stop,
        status_s=0.2,
        **opts,
    )
    daemon = Daemon(
        config_at(config_path), config_path=config_path, notifier=Notifier(env={}), options=options
    )
    codes: list[int] = []
    async with anyio.create_task_group() as tg:

        async def serve() -> None:
            codes.append(await daemon.run())

        tg.start_soon(serve)
        with anyio.fail_after(5):
            while not daemon.stores:  # the first scan is done
                await anyio.sleep(0.01)
        try:
            yield Run(daemon, results)
        finally:
            stop.set()
    assert codes == [0]


def requests_for(fake: FakeProvider, key: str) -> int:
    fp = fingerprint(key)
    return sum(1 for r in fake.requests if r.credential_fingerprint == fp)


def disabled(until_ms: int, last_failure_ms: int, reason: str = "billing") -> dict[str, Any]:
    return {
        "disabledUntil": until_ms,
        "disabledReason": reason,
        "errorCount": 1,
        "failureCounts": {reason: 1},
        "lastFailureAt": last_failure_ms,
    }


# ---- when a probe goes out -------------------------------------------------------------------


@pytest.mark.anyio
async def test_long_billing_window_is_probed_after_backoff_base_not_at_its_end(
    tmp_path: Path, fake: FakeProvider
) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    t0 = now_ms()
    store.write(
        {"anthropic:default": api_key("anthropic", KEY_A)},
        {"anthropic:default": disabled(t0 + 3_600_000, t0)},  # OpenClaw: 1 h
    )
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: run.probes("anthropic:default"), "the early probe")
    first = min(r.at for r in fake.requests)
    assert 2.0 <= first - t0 / 1000 < 10  # lastFailureAt + billing base (2 s), not the 1 h
    assert run.results[0].usable
    assert not store.usage()["anthropic:default"].get("disabledUntil")


@pytest.mark.anyio
async def test_failed_billing_probes_follow_probeds_backoff_inside_openclaws_window(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """After a failed billing probe the next one comes one backoff step later (2 s here, and
    still 2 s: the first 10 minutes of an outage stay at `base`), not at the end of OpenClaw's
    long window, which stays as it was (it outlasts every next look, so nothing is written)."""
    store = AgentStore(tmp_path / "openclaw", "main", "C")
    t0 = now_ms()
    store.write(
        {"anthropic:default": api_key("anthropic", KEY_A)},
        {"anthropic:default": disabled(t0 + 3_600_000, t0)},  # OpenClaw: 1 h
    )
    fake.respond(credential=KEY_A, kind="paid", status=402)
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: len(run.probes("anthropic:default")) >= 3, "three probes", 20)
    starts = [r.at for r in fake.requests if r.paid]
    gaps = [b - a for a, b in itertools.pairwise(starts[:3])]
    assert 1.9 <= gaps[0] < 3.5 and 1.9 <= gaps[1] < 3.5  # early: base 2 s, not doubled
    assert store.usage()["anthropic:default"]["disabledUntil"] == t0 + 3_600_000


@pytest.mark.anyio
async def test_cooldown_is_probed_lead_before_its_end(tmp_path: Path, fake: FakeProvider) -> None:
    """OpenClaw sends user traffic again when its window ends: the probe goes out `[probe]
    lead` (1 s here) before that end, even with lastFailureAt long past, not at the end and
    not at once."""
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    t0 = now_ms()
    until = t0 + 2500
    state = cooldown(until)
    state["lastFailureAt"] = t0 - 3_600_000
    store.write({"anthropic:default": api_key("anthropic", KEY_A)}, {"anthropic:default": state})
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: requests_for(fake, KEY_A), "the probe")
    first = min(r.at for r in fake.requests)
    assert until - 1000 - 50 <= first * 1000 < until
    assert len(run.probes("anthropic:default")) == 1


@pytest.mark.anyio
async def test_window_that_ended_but_was_not_cleared_is_probed_at_start(
    tmp_path: Path, fake: FakeProvider
) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "C")
    t0 = now_ms()
    store.write(
        {"anthropic:default": api_key("anthropic", KEY_A)},
        {"anthropic:default": cooldown(t0 - 60_000)},  # expired while nobody was looking
    )
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: run.probes("anthropic:default"), "the catch-up probe", 4)
        await run.until(
            lambda: store.usage()["anthropic:default"].get("errorCount") == 0, "cleared"
        )
    assert run.results[0].outcome == "recovered"
    assert store.usage()["anthropic:default"].get("cooldownUntil") is None


@pytest.mark.anyio
async def test_overdue_work_at_start_is_spread_not_fired_at_once(
    tmp_path: Path, fake: FakeProvider
) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    t0 = now_ms()
    n = 6
    keys = [f"sk-ant-api03-SPREAD-{i:04d}-aaaaaaaaaaaaaaaa" for i in range(n)]
    store.write(
        {f"anthropic:p{i}": api_key("anthropic", keys[i]) for i in range(n)},
        {f"anthropic:p{i}": cooldown(t0 - 1000) for i in range(n)},
    )
    async with running(write_config(tmp_path, fake.base_url), spread_s=2.0) as run:
        await run.until(lambda: len(run.results) == n, "every overdue profile probed")
    first: dict[str | None, float] = {}
    for req in sorted(fake.requests, key=lambda r: r.at):
        first.setdefault(req.credential_fingerprint, req.at)
    assert len(first) == n
    assert max(first.values()) - min(first.values()) > 1.0  # over the 2 s window, not at once


# ---- reacting to what OpenClaw writes --------------------------------------------------------


@pytest.mark.anyio
async def test_window_openclaw_keeps_reopening_is_probed_once(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """OpenClaw's 30-second loop on a quota error wrapped as a rate limit: after one probe says
    "quota, back in an hour", the re-opened short windows do not bring the probe forward."""
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    profiles = {"anthropic:default": api_key("anthropic", KEY_A)}
    store.write(profiles, {"anthropic:default": cooldown(now_ms() + 500)})
    fake.respond(
        credential=KEY_A,
        status=429,
        body=QUOTA_429,
        headers={"retry-after": "3600", "anthropic-ratelimit-unified-status": "rejected"},
    )
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: run.probes("anthropic:default"), "the first probe")
        first = run.probes("anthropic:default")[0]
        assert first.failure is not None and str(first.failure.reason) == "quota"
        sent = len(fake.requests)
        for _ in range(4):  # OpenClaw re-opens a 1-second window, again and again
            store.write(profiles, {"anthropic:default": cooldown(now_ms() + 600)})
            await anyio.sleep(0.9)
        assert len(run.probes("anthropic:default")) == 1
        assert len(fake.requests) == sent
        nxt = run.daemon.sched.deadline(Key("main", "anthropic:default"))
        assert nxt is not None and (nxt - datetime.now(UTC)).total_seconds() > 3000


@pytest.mark.anyio
async def test_new_credential_in_an_auth_window_is_probed_at_once(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """A re-auth is what fixes an auth failure: the new key is probed without waiting out the
    hour OpenClaw gave the old one. A usable profile's new key costs nothing."""
    store = AgentStore(tmp_path / "openclaw", "main", "C")
    t0 = now_ms()
    window = cooldown(t0 + 3_600_000, reason="auth")
    window["lastFailureAt"] = t0
    store.write(
        {
            "anthropic:default": api_key("anthropic", KEY_A),
            "anthropic:other": api_key("anthropic", "sk-ant-api03-DAEMON-0003-cccc"),
        },
        {"anthropic:default": window},
    )
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await anyio.sleep(0.5)
        assert run.results == []
        store.write(
            {
                "anthropic:default": api_key("anthropic", KEY_B),
                "anthropic:other": api_key("anthropic", "sk-ant-api03-DAEMON-0004-dddd"),
            },
            {"anthropic:default": window},
        )
        await run.until(lambda: run.probes("anthropic:default"), "the probe of the new key", 4)
        await run.until(
            lambda: store.usage()["anthropic:default"].get("errorCount") == 0, "cleared"
        )
    assert requests_for(fake, KEY_A) == 0 and requests_for(fake, KEY_B) >= 1
    assert run.probes("anthropic:other") == []


@pytest.mark.anyio
async def test_failure_extends_the_window_and_rearms_for_it(
    tmp_path: Path, fake: FakeProvider
) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "C")
    store.write(
        {"anthropic:default": api_key("anthropic", KEY_A)},
        {"anthropic:default": cooldown(now_ms() + 300)},
    )
    fake.respond(credential=KEY_A, status=429, headers={"retry-after": "30"})
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: run.probes("anthropic:default"), "the probe")
        usage = await run.until(
            lambda: (
                store.usage()["anthropic:default"].get("cooldownUntil", 0) > now_ms() + 20_000
                and store.usage()["anthropic:default"]
            ),
            "the extended window",
        )
        key = Key("main", "anthropic:default")
        # the probe writes the window, then its run ends and arms the next deadline
        armed = await run.until(lambda: run.daemon.sched.deadline(key), "the next deadline")
        assert armed.timestamp() * 1000 >= usage["cooldownUntil"] - 1000
        assert usage["cooldownReason"] == "rate_limit"


@pytest.mark.anyio
async def test_a_stated_reset_inside_a_model_scoped_window_is_probed_once_until_it(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """OpenClaw scopes a rate limit to a model (`cooldownModel`). The probe `lead` before its
    window ends meets a daily limit whose stated reset comes before that end: the next probe
    is at the reset, not again at once. (The daemon's own next-probe row for the model key
    once hid the probe's verdict, and the key was probed ten times a second until the reset.)"""
    store = AgentStore(tmp_path / "openclaw", "main", "C")
    window = {**cooldown(now_ms() + 4_500), "cooldownModel": "claude-haiku-4-5"}
    store.write({"anthropic:default": api_key("anthropic", KEY_A)}, {"anthropic:default": window})
    fake.respond(credential=KEY_A, kind="paid", status=429, headers={"retry-after": "2"})
    path = write_config(tmp_path, fake.base_url)
    path.write_text(path.read_text().replace('lead = "1s"', 'lead = "3s"'), encoding="utf-8")
    key = Key("main", "anthropic:default", "claude-haiku-4-5")
    async with running(path) as run:
        first = await run.until(lambda: run.probes("anthropic:default"), "the probe")
        assert first[0].failure is not None and first[0].next_probe_at is not None
        armed = await run.until(lambda: run.daemon.sched.deadline(key), "the re-arm")
        assert armed == first[0].next_probe_at  # the stated reset, not "now"
        await anyio.sleep(1.2)  # OpenClaw's window end less `lead` is past meanwhile
        assert len(run.probes("anthropic:default")) == 1
        assert sum(1 for r in fake.requests if r.paid) == 1


@pytest.mark.anyio
async def test_the_daemon_arms_exactly_the_time_the_probe_decided(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """One owner of the next-probe time: after a failed probe the armed deadline, the ledger's
    next_probe_at and the probe's own result are the same instant, jitter included (drawn
    once, in the decision: a second draw in the daemon would move it)."""
    from probed.ledger import Ledger

    store = AgentStore(tmp_path / "openclaw", "main", "C")
    t0 = now_ms()
    store.write(
        {"anthropic:default": api_key("anthropic", KEY_A)},
        {"anthropic:default": disabled(t0 + 3_600_000, t0 - 5_000)},
    )
    fake.respond(credential=KEY_A, kind="paid", status=402)
    path = write_config(tmp_path, fake.base_url)
    text = path.read_text(encoding="utf-8").replace('jitter = "0%"', 'jitter = "50%"')
    path.write_text(text.replace('jitter_max = "0s"', 'jitter_max = "1s"'), encoding="utf-8")
    key = Key("main", "anthropic:default")
    async with running(path) as run:
        first = await run.until(lambda: run.probes("anthropic:default"), "the probe")
        decided = first[0].next_probe_at
        assert decided is not None and first[0].failure is not None
        armed = await run.until(lambda: run.daemon.sched.deadline(key), "the re-arm")
        rec = Ledger(tmp_path / "probed-state").get("main", "anthropic:default")
        assert rec is not None and rec.next_probe_at == decided == armed
        assert rec.last_result == "billing" and rec.consecutive_failures == 1
        assert first[0].paid and not first[0].billable  # a rejected 402 is not billed
        assert store.usage()["anthropic:default"]["disabledUntil"] == t0 + 3_600_000


@pytest.mark.anyio
async def test_a_probe_in_flight_is_not_rearmed_by_other_passes(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """Store changes while a key is being probed (other profiles recovering) must not arm it
    again: its own run decides its next deadline when it ends."""
    store = AgentStore(tmp_path / "openclaw", "main", "C")
    profiles = {
        "anthropic:default": api_key("anthropic", KEY_A),
        "anthropic:second": api_key("anthropic", KEY_B),
    }
    store.write(
        profiles,
        {
            "anthropic:default": cooldown(now_ms() + 300),
            "anthropic:second": cooldown(now_ms() + 3_600_000),
        },
    )
    fake.respond(credential=KEY_A, status=200, delay=1.5)
    key = Key("main", "anthropic:default")
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: run.daemon.sched.is_running(key), "the slow probe")
        usage = store.usage()
        usage["anthropic:second"] = cooldown(now_ms() + 7_200_000)  # OpenClaw writes meanwhile
        store.write(profiles, usage)
        seen: list[bool] = []
        while run.daemon.sched.is_running(key):
            seen.append(run.daemon.sched.is_scheduled(key))
            await anyio.sleep(0.02)
        await run.until(lambda: run.probes("anthropic:default"), "the probe's result")
        assert seen and not any(seen)
        assert not run.daemon.sched.is_scheduled(key)  # recovered: nothing left to arm
    assert len(run.probes("anthropic:default")) == 1


@pytest.mark.anyio
async def test_profile_cleared_elsewhere_loses_its_job(tmp_path: Path, fake: FakeProvider) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    profiles = {"anthropic:default": api_key("anthropic", KEY_A)}
    store.write(profiles, {"anthropic:default": cooldown(now_ms() + 4000)})
    key = Key("main", "anthropic:default")
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: key in run.daemon.sched.scheduled(), "the job")
        store.write(profiles, {"anthropic:default": {"lastUsed": now_ms()}})  # OpenClaw's success
        await run.until(lambda: key not in run.daemon.sched.scheduled(), "the job cancelled", 3)
        await anyio.sleep(4.5)  # past the old deadline
    assert run.results == []
    assert requests_for(fake, KEY_A) == 0


@pytest.mark.anyio
async def test_state_file_deleted_then_recreated_keeps_working(
    tmp_path: Path, fake: FakeProvider
) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    profiles = {"anthropic:default": api_key("anthropic", KEY_A)}
    store.write(profiles, {"anthropic:default": cooldown(now_ms() + 60_000)})
    key = Key("main", "anthropic:default")
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await run.until(lambda: key in run.daemon.sched.scheduled(), "the job")
        (store.agent_dir / "auth-state.json").unlink()
        await run.until(lambda: key not in run.daemon.sched.scheduled(), "nothing to probe", 3)
        store.write(profiles, {"anthropic:default": cooldown(now_ms() + 800)})
        await run.until(lambda: run.probes("anthropic:default"), "the probe after re-creation")
    assert run.results[0].usable


@pytest.mark.anyio
async def test_agent_added_at_run_time_is_picked_up(tmp_path: Path, fake: FakeProvider) -> None:
    AgentStore(tmp_path / "openclaw", "main", "B").write(
        {"anthropic:default": api_key("anthropic", KEY_A)}, {}
    )
    async with running(write_config(tmp_path, fake.base_url)) as run:
        await anyio.sleep(0.3)
        late = AgentStore(tmp_path / "openclaw", "late", "C")
        late.write(
            {"anthropic:late": api_key("anthropic", KEY_B)},
            {"anthropic:late": cooldown(now_ms() + 500)},
        )
        await run.until(lambda: run.probes("anthropic:late"), "the new agent's probe")
        await run.until(lambda: late.usage()["anthropic:late"].get("errorCount") == 0, "cleared")
    assert run.results[0].agent == "late"
    assert requests_for(fake, KEY_A) == 0


@pytest.mark.anyio
@pytest.mark.parametrize("era", ["B", "C"])
async def test_an_agent_dir_outside_the_state_root_is_watched(
    era: str, tmp_path: Path, fake: FakeProvider
) -> None:
    """openclaw.json gives the agent an `agentDir` of its own: what OpenClaw writes there is
    seen and recovered like anything under the state root."""
    work = AgentStore(tmp_path / "openclaw", "work", era)
    work.agent_dir = tmp_path / "elsewhere" / "work"
    profiles = {"anthropic:work": api_key("anthropic", KEY_B)}
    work.write(profiles, {})
    (tmp_path / "openclaw").mkdir(exist_ok=True)
    (tmp_path / "openclaw" / "openclaw.json").write_text(
        json.dumps({"agents": {"list": [{"id": "work", "agentDir": str(work.agent_dir)}]}})
    )
    async with running(write_config(tmp_path, fake.base_url)) as run:
        assert run.daemon.stores["work"].agent_dir == work.agent_dir
        await anyio.sleep(0.3)
        work.write(profiles, {"anthropic:work": cooldown(now_ms() + 500)})
        await run.until(lambda: run.probes("anthropic:work"), "the configured agent's probe")
        await run.until(lambda: work.usage()["anthropic:work"].get("errorCount") == 0, "cleared")
    assert [r.agent for r in run.results] == ["work"]


@pytest.mark.anyio
async def test_openclaw_state_created_after_start_is_picked_up(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """probed may start before OpenClaw was ever run: it waits for the state to appear."""
    path = write_config(tmp_path, fake.base_url)
    assert not (tmp_path / "openclaw").exists()
    results: list[ProbeResult] = []
    stop = anyio.Event()
    daemon = Daemon(
        config_at(path),
        config_path=path,
        notifier=Notifier(env={}),
        options=DaemonOptions(spread_s=0.2, on_result=results.append, stop=stop, retry_s=0.5),
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(daemon.run)
        await anyio.sleep(1.5)
        store = AgentStore(tmp_path / "openclaw", "main", "C")
        store.write(
            {"anthropic:default": api_key("anthropic", KEY_A)},
            {"anthropic:default": cooldown(now_ms() + 500)},
        )
        with anyio.fail_after(8):
            while not results:
                await anyio.sleep(0.05)
        stop.set()
    assert results[0].usable
    assert store.usage()["anthropic:default"].get("errorCount") == 0


@pytest.mark.anyio
async def test_stale_billing_window_is_clamped_at_start_and_on_change(
    tmp_path: Path, fake: FakeProvider
) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    t0 = now_ms()
    profiles = {
        "anthropic:default": api_key("anthropic", KEY_A),
        "anthropic:second": api_key("anthropic", KEY_B),
    }
    fake.respond(
        status=402,
        body='{"type":"error","error":{"type":"billing_error",'
        '"message":"Your credit balance is too low to access the Anthropic API."}}',
    )
    store.write(profiles, {"anthropic:default": disabled(t0 + 86_400_000, t0 - 1000)})
    config = write_config(tmp_path, fake.base_url).read_text(encoding="utf-8")
    config = config.replace('base = "2s"', 'base = "1h"')  # no probe during the test
    (tmp_path / "probed.toml").write_text(config, encoding="utf-8")
    cap_ms = 2 * 3_600_000
    async with running(tmp_path / "probed.toml") as run:
        await run.until(
            lambda: store.usage()["anthropic:default"]["disabledUntil"] == t0 - 1000 + cap_ms,
            "clamped at start",
        )
        usage = store.usage()
        usage["anthropic:second"] = disabled(t0 + 5 * 86_400_000, t0)
        store.write(profiles, usage)
        await run.until(
            lambda: store.usage()["anthropic:second"]["disabledUntil"] == t0 + cap_ms,
            "clamped on change",
        )
    assert run.results == []


@pytest.mark.anyio
async def test_a_clamp_waiting_for_openclaws_lock_holds_nothing_else_up(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """A live gateway holds one agent's lock while its stale window wants clamping: every other
    agent is still scheduled and probed, the loop keeps going, and the clamp lands once the
    holder is gone (its lock is then stale, never stolen while it lived)."""
    t0 = now_ms()
    held = AgentStore(tmp_path / "openclaw", "held", "B")
    held.write(
        {"anthropic:default": api_key("anthropic", KEY_A)},
        {"anthropic:default": disabled(t0 + 86_400_000, t0 - 1000)},
    )
    other = AgentStore(tmp_path / "openclaw", "other", "B")
    other.write(
        {"anthropic:default": api_key("anthropic", KEY_B)},
        {"anthropic:default": cooldown(t0 + 1000)},
    )
    config = write_config(tmp_path, fake.base_url).read_text(encoding="utf-8")
    (tmp_path / "probed.toml").write_text(config.replace('base = "2s"', 'base = "1h"'))
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        payload = {
            "pid": holder.pid,
            "createdAt": "2026-12-01T00:00:00.000Z",
            "starttime": proc_starttime(holder.pid),
        }
        lock_path(held.agent_dir).write_text(json.dumps(payload, indent=2) + "\n")
        started = time.monotonic()
        async with running(tmp_path / "probed.toml") as run:
            await run.until(lambda: run.probes("anthropic:default"), "the other agent's probe")
            assert time.monotonic() - started < 5  # not after the 30 s lock wait
            assert [r.agent for r in run.results] == ["other"]
            progress = run.daemon.sched.progress
            await anyio.sleep(1.5)
            assert run.daemon.sched.progress > progress  # the watchdog is still fed
            assert held.usage()["anthropic:default"]["disabledUntil"] == t0 + 86_400_000
            holder.kill()
            holder.wait()
            cap_ms = 2 * 3_600_000
            await run.until(
                lambda: held.usage()["anthropic:default"]["disabledUntil"] == t0 - 1000 + cap_ms,
                "the clamp, once the holder is gone",
                15,
            )
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.anyio
@pytest.mark.parametrize("era", ["B", "C"])
async def test_own_reads_do_not_wake_the_daemon(
    era: str, tmp_path: Path, fake: FakeProvider
) -> None:
    """SQLite opens its WAL read-write even for a read-only connection, so each read shows up
    as a change; the daemon must not take its own reads for OpenClaw's writes and spin."""
    store = AgentStore(tmp_path / "openclaw", "main", era)
    profiles = {"anthropic:default": api_key("anthropic", KEY_A)}
    store.write(profiles, {"anthropic:default": cooldown(now_ms() + 3_600_000)})
    async with running(write_config(tmp_path, fake.base_url)) as run:
        passes: list[str] = []
        evaluate = run.daemon._evaluate

        async def counted(s: Any, **kw: Any) -> Any:
            passes.append(s.agent)
            return await evaluate(s, **kw)

        run.daemon._evaluate = counted  # type: ignore[method-assign]
        await anyio.sleep(0.3)
        passes.clear()
        await anyio.sleep(2.0)
        assert passes == []  # idle: not one pass in 2 s
        store.write(profiles, {"anthropic:default": cooldown(now_ms() + 7_200_000)})
        await run.until(lambda: passes, "a pass for OpenClaw's write")
        await anyio.sleep(1.0)
        assert len(passes) <= 2  # the write, not a loop


# ---- load and faults -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_thousand_profiles_expiring_in_one_second(tmp_path: Path) -> None:
    """The issue's load case: 1,000 profiles of ten providers over ten agents, all expiring in
    the same second. Each is probed once, no more than `[probe] concurrency` at a time (the
    per-provider lock alone would allow ten), and the scheduler keeps making progress through
    the burst, which is what feeds the watchdog."""
    n, providers, agents, limit, delay = 1000, 10, 50, 4, 0.02
    names = ["anthropic", *(f"lab{i}" for i in range(1, providers))]
    extra = "".join(
        f'\n[providers.{p}]\napi = "anthropic"\nbase_url = "{{url}}"\nmodel = "m"\n'
        for p in names[1:]
    )
    due = now_ms() + 1500
    with FakeProvider(delay=delay) as fake:
        for a in range(agents):
            ids = range(a * n // agents, (a + 1) * n // agents)
            AgentStore(tmp_path / "openclaw", f"agent{a}", "B").write(
                {
                    f"{names[j % providers]}:p{j}": api_key(
                        names[j % providers], f"sk-ant-api03-LOAD-{j:04d}-aaaaaaaaaaaa"
                    )
                    for j in ids
                },
                {f"{names[j % providers]}:p{j}": cooldown(due + j % 900) for j in ids},
            )
        path = write_config(
            tmp_path, fake.base_url, concurrency=limit, extra=extra.format(url=fake.base_url)
        )
        async with running(path) as run:
            stalls: list[float] = []

            async def sample_progress() -> None:
                last, since = run.daemon.sched.progress, time.monotonic()
                while len(run.results) < n:
                    await anyio.sleep(0.05)
                    if run.daemon.sched.progress != last:
                        last, since = run.daemon.sched.progress, time.monotonic()
                    stalls.append(time.monotonic() - since)

            async with anyio.create_task_group() as tg:
                tg.start_soon(sample_progress)
                await run.until(lambda: len(run.results) >= n, "every probe", 120)
        spans = sorted((r.at, r.at + delay) for r in fake.requests)
    in_flight = max(sum(1 for s, e in spans if s <= at < e) for at, _ in spans)
    assert 2 <= in_flight <= limit  # the limiter binds, and it is not one at a time
    assert len(run.results) == n and all(r.usable for r in run.results)
    assert len({(r.agent, r.profile) for r in run.results}) == n  # each one once
    paid = sum(1 for r in fake.requests if r.paid)
    assert len(fake.requests) - paid == n  # one free check each
    # a rate limit is disproved by a generation while the daily budget lasts, then free only
    assert paid == providers * 48
    assert max(stalls) < 2.0  # progress never stopped for a watchdog period (WATCHDOG_USEC/2)


@pytest.mark.anyio
async def test_sigterm_during_a_hanging_probe_stops_in_bounded_time(
    tmp_path: Path, fake: FakeProvider
) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    store.write(
        {"anthropic:default": api_key("anthropic", KEY_A)},
        {"anthropic:default": cooldown(now_ms() + 200)},
    )
    fake.hang(credential=KEY_A)
    path = write_config(tmp_path, fake.base_url).read_text(encoding="utf-8")
    (tmp_path / "probed.toml").write_text(path.replace('"3s"', '"60s"'), encoding="utf-8")
    async with running(tmp_path / "probed.toml", stop_timeout=1.0) as run:
        await run.until(lambda: run.daemon.sched.running(), "the hanging probe")
        started = time.monotonic()
        os.kill(os.getpid(), signal.SIGTERM)
        with anyio.fail_after(5):
            await run.daemon._stop.wait()
    assert time.monotonic() - started < 4  # stop_timeout 1 s, not the 60 s probe timeout
    state = store.usage()["anthropic:default"]
    assert state["cooldownUntil"] > 0  # nothing half-written: the window is still there
    json.dumps(state)


@pytest.mark.anyio
async def test_sighup_storm_reloads_and_loses_no_schedule(
    tmp_path: Path, fake: FakeProvider
) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    profiles = {
        "anthropic:default": api_key("anthropic", KEY_A),
        "anthropic:second": api_key("anthropic", KEY_B),
    }
    store.write(
        profiles,
        {
            "anthropic:default": cooldown(now_ms() + 60_000),
            "anthropic:second": cooldown(now_ms() + 4_000),
        },
    )
    path = write_config(tmp_path, fake.base_url)
    async with running(path) as run:
        keys = {Key("main", "anthropic:default"), Key("main", "anthropic:second")}
        await run.until(lambda: run.daemon.sched.scheduled() >= keys, "both jobs")
        path.write_text(
            path.read_text(encoding="utf-8").replace("concurrency = 4", "concurrency = 2"),
            encoding="utf-8",
        )
        for _ in range(50):
            os.kill(os.getpid(), signal.SIGHUP)
            await anyio.sleep(0.005)
        await run.until(lambda: run.daemon.config.probe.concurrency == 2, "the new config")
        assert run.daemon.sched.scheduled() >= keys  # nothing lost while reloading
        await run.until(lambda: run.probes("anthropic:second"), "the short window's probe")
        assert Key("main", "anthropic:default") in run.daemon.sched.scheduled()
    assert len(run.probes("anthropic:second")) == 1


@pytest.mark.anyio
async def test_a_reload_that_changes_no_timing_keeps_every_deadline(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """SIGHUP with the same file, or only a new log level: the jittered deadlines stay exactly
    where they were (a reload is no reason to move a probe)."""
    AgentStore(tmp_path / "openclaw", "main", "B").write(
        {
            f"anthropic:p{i}": api_key("anthropic", f"sk-ant-api03-HUP-{i:04d}-aaaa")
            for i in range(8)
        },
        {f"anthropic:p{i}": cooldown(now_ms() + 600_000) for i in range(8)},
    )
    path = write_config(tmp_path, fake.base_url)
    text = path.read_text(encoding="utf-8").replace('jitter_max = "0s"', 'jitter_max = "5m"')
    text = text.replace('jitter = "0%"', 'jitter = "50%"')
    path.write_text(text, encoding="utf-8")
    async with running(path) as run:
        keys = {Key("main", f"anthropic:p{i}") for i in range(8)}
        await run.until(lambda: run.daemon.sched.scheduled() >= keys, "every job")
        before = {k: run.daemon.sched.deadline(k) for k in keys}
        assert len(set(before.values())) > 1  # jittered, so a re-draw would show
        reloads = run.daemon.config
        os.kill(os.getpid(), signal.SIGHUP)
        await run.until(lambda: run.daemon.config is not reloads, "the reload")
        path.write_text(text.replace('log_level = "warning"', 'log_level = "error"'))
        reloads = run.daemon.config
        os.kill(os.getpid(), signal.SIGHUP)
        await run.until(lambda: run.daemon.config is not reloads, "the second reload")
        await anyio.sleep(0.3)
        assert {k: run.daemon.sched.deadline(k) for k in keys} == before


@pytest.mark.anyio
async def test_bad_config_on_sighup_keeps_the_old_one(tmp_path: Path, fake: FakeProvider) -> None:
    AgentStore(tmp_path / "openclaw", "main", "B").write(
        {"anthropic:default": api_key("anthropic", KEY_A)},
        {"anthropic:default": cooldown(now_ms() + 60_000)},
    )
    path = write_config(tmp_path, fake.base_url)
    async with running(path) as run:
        before = run.daemon.config
        path.write_text("[probe]\nconcurrency = 'many'\n", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        await anyio.sleep(0.5)
        assert run.daemon.config is before
        assert Key("main", "anthropic:default") in run.daemon.sched.scheduled()
