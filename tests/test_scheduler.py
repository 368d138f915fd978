"""The probe scheduler: APScheduler 3.11 with its pitfalls configured around."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from probed.scheduler import Key, ProbeScheduler, spread


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # APScheduler 3 binds the asyncio loop


def soon(ms: float) -> datetime:
    return datetime.now(UTC) + timedelta(milliseconds=ms)


A = Key("main", "anthropic:default")
B = Key("main", "openai:default", "gpt-5")


class Recorder:
    def __init__(self, hold: float = 0.0) -> None:
        self.calls: list[tuple[Key, float]] = []
        self.hold = hold
        self.event = anyio.Event()

    async def __call__(self, key: Key) -> None:
        self.calls.append((key, time.monotonic()))
        self.event.set()
        if self.hold:
            await anyio.sleep(self.hold)

    async def wait_for(self, n: int, timeout: float = 3.0) -> None:
        with anyio.fail_after(timeout):
            while len(self.calls) < n:
                await anyio.sleep(0.005)


@pytest.mark.anyio
async def test_runs_each_key_once_at_its_deadline_in_order() -> None:
    rec = Recorder()
    sched = ProbeScheduler(rec)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        start = time.monotonic()
        sched.schedule(B, soon(60))
        sched.schedule(A, soon(20))
        await rec.wait_for(2)
        await anyio.sleep(0.1)
        tg.cancel_scope.cancel()
    assert [k for k, _ in rec.calls] == [A, B]
    assert rec.calls[0][1] - start >= 0.015
    assert sched.scheduled() == set()


@pytest.mark.anyio
async def test_overdue_deadline_still_runs() -> None:
    """misfire_grace_time=None: a deadline far in the past is run, not dropped."""
    rec = Recorder()
    sched = ProbeScheduler(rec)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule(A, datetime.now(UTC) - timedelta(hours=3))
        await rec.wait_for(1)
        tg.cancel_scope.cancel()
    assert [k for k, _ in rec.calls] == [A]


@pytest.mark.anyio
async def test_reschedule_replaces_and_cancel_removes() -> None:
    rec = Recorder()
    sched = ProbeScheduler(rec)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule(A, soon(30))
        sched.schedule(A, soon(80))  # replaces, not adds
        sched.schedule(B, soon(30))
        assert sched.cancel(B)
        await rec.wait_for(1)
        await anyio.sleep(0.15)
        tg.cancel_scope.cancel()
    assert [k for k, _ in rec.calls] == [A]


@pytest.mark.anyio
async def test_deadline_arriving_while_running_runs_after_never_dropped() -> None:
    rec = Recorder(hold=0.1)
    sched = ProbeScheduler(rec)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule(A, soon(10))
        await rec.wait_for(1)
        assert A in sched.running()
        sched.schedule(A, soon(0))  # due now, but the key is still running
        await anyio.sleep(0.03)
        assert len(rec.calls) == 1  # never two runs of one key at once
        await rec.wait_for(2)
        tg.cancel_scope.cancel()
    first_end = rec.calls[0][1] + 0.1
    assert rec.calls[1][1] >= first_end - 0.01


@pytest.mark.anyio
async def test_failing_run_is_logged_and_scheduler_goes_on() -> None:
    calls: list[Key] = []

    async def boom(key: Key) -> None:
        calls.append(key)
        raise RuntimeError("probe exploded")

    sched = ProbeScheduler(boom)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule(A, soon(5))
        sched.schedule(B, soon(20))
        with anyio.fail_after(3):
            while len(calls) < 2:
                await anyio.sleep(0.005)
        tg.cancel_scope.cancel()
    assert calls == [A, B]


def test_spread_spaces_overdue_work_and_keeps_future_deadlines() -> None:
    now = datetime(2026, 10, 7, 12, tzinfo=UTC)
    keys = [Key("main", f"p{i}") for i in range(4)]
    items = [(keys[i], now - timedelta(minutes=i + 1)) for i in range(3)]
    items.append((keys[3], now + timedelta(minutes=5)))
    out = dict(spread(items, now=now, window_s=60, max_gap_s=30))
    assert out[keys[2]] == now  # the oldest goes first
    assert out[keys[1]] == now + timedelta(seconds=20)
    assert out[keys[0]] == now + timedelta(seconds=40)
    assert out[keys[3]] == now + timedelta(minutes=5)
    assert all(at <= now + timedelta(seconds=60) for k, at in out.items() if k != keys[3])


def test_a_few_overdue_deadlines_are_not_held_apart_for_the_whole_window() -> None:
    """Two profiles that fell due while the daemon started go a second apart, not 30 s."""
    now = datetime(2026, 10, 7, 12, tzinfo=UTC)
    a, b = Key("main", "anthropic:a"), Key("main", "anthropic:b")
    out = dict(spread([(a, now), (b, now)], now=now, window_s=60))
    assert sorted(out.values()) == [now, now + timedelta(seconds=1)]


def test_many_overdue_deadlines_take_the_whole_window() -> None:
    now = datetime(2026, 10, 7, 12, tzinfo=UTC)
    items = [(Key("main", f"p{i}"), now - timedelta(seconds=1)) for i in range(10_000)]
    out = sorted(at for _, at in spread(items, now=now, window_s=60))
    assert out[0] == now and now + timedelta(seconds=59) < out[-1] < now + timedelta(seconds=60)
    gaps = {round((b - a).total_seconds(), 6) for a, b in itertools.pairwise(out)}
    assert gaps == {0.006}


@pytest.mark.anyio
async def test_many_keys_due_at_once_all_run_and_heartbeat_moves() -> None:
    limiter = anyio.CapacityLimiter(4)
    peak = 0
    active = 0
    done: list[Key] = []

    async def work(key: Key) -> None:
        nonlocal peak, active
        async with limiter:
            active += 1
            peak = max(peak, active)
            await anyio.sleep(0.001)
            active -= 1
        done.append(key)

    sched = ProbeScheduler(work, heartbeat_s=0.02)
    at = soon(20)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule_many([(Key("main", f"p{i}"), at) for i in range(1000)])
        before = sched.progress
        with anyio.fail_after(8):
            while len(done) < 1000:
                await anyio.sleep(0.01)
        await anyio.sleep(0.1)
        tg.cancel_scope.cancel()
    assert len(set(done)) == 1000
    assert peak <= 4
    assert sched.progress > before + 1000  # runs and heartbeats both count


@pytest.mark.anyio
async def test_drain_waits_for_runs_then_cancels_stragglers() -> None:
    finished: list[str] = []

    async def slow(key: Key) -> None:
        await anyio.sleep(0.05 if key == A else 10)
        finished.append(key.profile)

    sched = ProbeScheduler(slow)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule(A, soon(0))
        sched.schedule(B, soon(0))
        with anyio.fail_after(2):
            while len(sched.running()) < 2:
                await anyio.sleep(0.005)
        with anyio.fail_after(2):
            clean = await sched.drain(0.3)
        sched.schedule(A, soon(0))  # ignored once closing
        tg.cancel_scope.cancel()
    assert clean is False
    assert finished == ["anthropic:default"]


@pytest.mark.anyio
async def test_clock_step_rearms_every_job() -> None:
    stepped: list[float] = []
    rec = Recorder()
    sched = ProbeScheduler(rec, clock_check_s=0.01, clock_step_s=-1.0, on_clock_step=stepped.append)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule(A, soon(300))
        # every check counts as a step here: the job is re-armed, not lost
        with anyio.fail_after(2):
            while not stepped:
                await anyio.sleep(0.005)
        assert A in sched.scheduled()
        await rec.wait_for(1)
        tg.cancel_scope.cancel()
    assert [k for k, _ in rec.calls] == [A]


@pytest.mark.anyio
async def test_an_earlier_deadline_wakes_the_timer_sleeping_on_a_later_one() -> None:
    rec = Recorder()
    sched = ProbeScheduler(rec)
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule(A, soon(10_000))
        await anyio.sleep(0.02)  # the timer is asleep until A
        t0 = time.monotonic()
        sched.schedule(B, soon(20))
        await rec.wait_for(1, timeout=2)
        tg.cancel_scope.cancel()
    assert [k for k, _ in rec.calls] == [B]
    assert rec.calls[0][1] - t0 < 1.0


@pytest.mark.anyio
async def test_ten_thousand_keys_are_deadlines_not_jobs_and_stale_entries_never_fire() -> None:
    rec = Recorder()
    sched = ProbeScheduler(rec)
    keys = [Key("main", f"p{i}") for i in range(10_000)]
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        far = soon(3_600_000)
        t0 = time.perf_counter()
        sched.schedule_many([(k, far) for k in keys])
        armed_s = time.perf_counter() - t0
        assert sched._sched is not None
        assert [j.id for j in sched._sched.get_jobs()] == ["heartbeat"]  # one timer, no jobs
        for _ in range(3):  # moved back and forth: each move leaves a stale heap entry
            sched.schedule(keys[7], soon(3_000_000))
            sched.schedule(keys[7], soon(30))
        sched.cancel(keys[8])
        sched.schedule(keys[9], soon(40))
        await rec.wait_for(2)
        await anyio.sleep(0.1)
        assert sched.earliest() == (far, keys[0])
        tg.cancel_scope.cancel()
    assert [k for k, _ in rec.calls] == [keys[7], keys[9]]
    assert len(sched.scheduled()) == 10_000 - 3
    assert armed_s < 2.0  # a push each (milliseconds idle); as APScheduler jobs, seconds


@pytest.mark.anyio
async def test_unusable_profiles_counts_distinct_profiles_as_keys_come_and_go() -> None:
    gate = anyio.Event()

    async def held(key: Key) -> None:
        await gate.wait()

    sched = ProbeScheduler(held)
    a_model = Key(A.agent, A.profile, "opus")
    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        assert sched.unusable_profiles() == 0
        sched.schedule_many([(A, soon(5_000)), (a_model, soon(5_000)), (B, soon(10))])
        assert sched.unusable_profiles() == 2  # A and its model are one profile
        with anyio.fail_after(2):
            while not sched.is_running(B):
                await anyio.sleep(0.005)
        assert sched.unusable_profiles() == 2  # running counts
        sched.schedule(B, soon(5_000))  # pending behind its run
        sched.cancel(A)
        assert sched.unusable_profiles() == 2  # a_model still holds A's profile
        sched.cancel(a_model)
        assert sched.unusable_profiles() == 1
        gate.set()
        with anyio.fail_after(2):
            while sched.is_running(B):
                await anyio.sleep(0.005)
        assert sched.unusable_profiles() == 1 and sched.is_scheduled(B)  # re-armed
        sched.cancel(B)
        assert sched.unusable_profiles() == 0
        tg.cancel_scope.cancel()


@pytest.mark.anyio
async def test_scheduled_of_one_agent_is_what_scheduled_holds_for_it() -> None:
    """A pass over one store asks for its agent's keys without a set of every agent's."""
    gate = anyio.Event()

    async def held(key: Key) -> None:
        await gate.wait()

    sched = ProbeScheduler(held)
    other = Key("worker", "anthropic:default")

    def of(agent: str) -> set[Key]:
        mine = sched.scheduled_of(agent)
        assert len(mine) == len(set(mine))
        assert set(mine) == {k for k in sched.scheduled() if k.agent == agent}
        return set(mine)

    async with anyio.create_task_group() as tg:
        await tg.start(sched.serve)
        sched.schedule_many([(A, soon(5_000)), (B, soon(10)), (other, soon(5_000))])
        assert of("main") == {A, B} and of("worker") == {other}
        with anyio.fail_after(2):
            while not sched.is_running(B):
                await anyio.sleep(0.005)
        assert of("main") == {A}  # running, no deadline
        sched.schedule(B, soon(5_000))  # pending behind its run
        assert of("main") == {A, B}
        sched.cancel(A)
        sched.cancel(other)
        assert of("main") == {B} and of("worker") == set()
        gate.set()
        tg.cancel_scope.cancel()
