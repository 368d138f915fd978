"""What every system in the benchmark meets: the fake provider's outage, user traffic, and the
accounting of one run (recovery time, failed user requests, billable and other requests).

The provider fails as a real one does: during a billing outage or a rate limit only generations
fail (402, or 429 with a Retry-After that counts down); its free endpoints (the model list) keep
answering. A key it refuses (401) is refused on every endpoint. Requests are told apart by what
they carry: every user request has a marker in its text, so whatever reaches the provider
without one was sent only to test it (a probe, a health check). A test generation is billable
when the provider answered it with success; one it rejected is not billed, and is counted as
rejected.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.scenarios import STEADY_S, Scenario
from probed.fakeprovider import FakeProvider, Recorded, fingerprint

MARK = "bench-user-"

BODIES = {
    "billing": '{"error":{"message":"Insufficient credits: add credits to continue",'
    '"type":"insufficient_quota","code":"insufficient_quota"}}',
    # OpenAI's answer to a key it no longer accepts (revoked, rotated, the account suspended)
    "auth": '{"error":{"message":"Incorrect API key provided: sk-ben***ench. You can find your '
    'API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error",'
    '"param":null,"code":"invalid_api_key"}}',
    "rate_limit": '{"error":{"message":"Rate limit reached for requests","type":"requests",'
    '"code":"rate_limit_exceeded"}}',
    # Groq's daily-limit answer (console.groq.com/docs/rate-limits), its reset in Retry-After
    "quota": '{"error":{"message":"Rate limit reached for model `fake-model` in organization '
    "`org_bench` service tier `on_demand` on requests per day (RPD): Limit 1000, Used 1000, "
    'Requested 1.","type":"requests","code":"rate_limit_exceeded"}}',
}
STATUS = {"billing": 402, "auth": 401, "rate_limit": 429, "quota": 429}


class Countdown(Mapping[str, str]):
    """`retry-after` (whole seconds, rounded up) that tells the truth when it is sent."""

    def __init__(self, end: float) -> None:
        self.end = end

    def __getitem__(self, key: str) -> str:
        if key != "retry-after":
            raise KeyError(key)
        return str(max(1, int(self.end - time.time() + 0.999)))

    def __iter__(self) -> Iterator[str]:
        return iter(["retry-after"])

    def __len__(self) -> int:
        return 1


def break_provider(fake: FakeProvider, sc: Scenario, credential: str, fix_at: float) -> float:
    """The outage, until `fix_at` (epoch seconds): generations fail, free endpoints answer.
    Returns the moment it broke: what reached the provider before it (the warm-up) is not
    counted."""
    headers = Countdown(fix_at) if sc.reset_stated else None
    fake.respond(
        credential=credential,
        # a key the provider refuses is refused everywhere, its model list included
        kind=None if sc.kind == "auth" else "paid",
        status=STATUS[sc.kind],
        body=BODIES[sc.kind],
        headers=headers,
        until=None if sc.new_key else fix_at,  # a replaced key is never accepted again
    )
    return time.time()


@dataclass
class WindowWatch:
    """OpenClaw's window for the profile as its store shows it, sampled every `period` s on a
    thread of its own: `(epoch s, window end or None)`. It tells a request OpenClaw sent inside
    its own window from one sent once that window had lapsed."""

    read: Callable[[], float | None]
    period: float = 0.25
    samples: list[tuple[float, float | None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="window-watch")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                until = self.read()
            except Exception:  # a store caught mid-write by its gateway: the next sample counts
                until = None if not self.samples else self.samples[-1][1]
            self.samples.append((time.time(), until))
            self._stop.wait(self.period)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def lapse_of(at: float, samples: Sequence[tuple[float, float | None]]) -> str:
    """Why a request sent at `at` could reach the provider: "inside" OpenClaw's own window (it
    tries a disabled profile on a throttle), "lapsed" (a window had been recorded and had
    ended), or "none" (no window recorded yet: the outage's discovery)."""
    seen = [(t, until) for t, until in samples if t <= at]
    if not seen:
        return "none"
    _, until = seen[-1]
    if until is not None and until > at:
        return "inside"
    if any(u is not None for _, u in seen):
        return "lapsed"
    return "none"


@dataclass(frozen=True)
class UserRequest:
    marker: str
    sent: float
    done: float
    status: int | None


@dataclass
class Traffic:
    """Steady user requests, one every STEADY_S, each in its own thread (a slow one does not
    hold the next back). `send(marker)` returns the HTTP status (None: no answer)."""

    send: Callable[[str], int | None]
    period: float = STEADY_S
    done: list[UserRequest] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _n: int = 0

    def one(self) -> UserRequest:
        self._n += 1
        marker = f"{MARK}{self._n:05d}"
        sent = time.time()
        status = self.send(marker)
        req = UserRequest(marker, sent, time.time(), status)
        with self._lock:
            self.done.append(req)
        return req

    def run(self, until: Callable[[], bool]) -> None:
        """Send until `until()` is true or `stop()`; waits for requests in flight (bounded)."""
        with ThreadPoolExecutor(max_workers=16, thread_name_prefix="user") as pool:
            nxt = time.time()
            while not self._stop.is_set() and not until():
                pool.submit(self.one)
                nxt += self.period
                self._stop.wait(max(0.0, nxt - time.time()))
            self._stop.set()

    def stop(self) -> None:
        self._stop.set()

    def snapshot(self) -> list[UserRequest]:
        with self._lock:
            return sorted(self.done, key=lambda r: r.sent)


def marker_of(req: Recorded) -> str | None:
    if req.body is None:
        return None
    text = json.dumps(req.body)
    at = text.find(MARK)
    return text[at : at + len(MARK) + 5] if at >= 0 else None


def via(fake: FakeProvider, credential: str) -> set[str]:
    """Markers of user requests that reached the provider with `credential`."""
    fp = fingerprint(credential)
    return {
        m for r in list(fake.requests) if r.credential_fingerprint == fp and (m := marker_of(r))
    }


def until_recovered(
    fake: FakeProvider, credential: str, traffic: Traffic, *, fix_at: float, horizon_s: float
) -> Callable[[], bool]:
    """The traffic's stop condition: a user request answered after the fix that went through
    `credential` (not a fallback's), or the horizon passed."""
    seen = threading.Event()

    def recovered() -> bool:
        if seen.is_set() or time.time() > fix_at + horizon_s:
            return True
        ok = via(fake, credential)
        if any(u.status == 200 and u.done >= fix_at and u.marker in ok for u in traffic.snapshot()):
            seen.set()
        return seen.is_set()

    return recovered


@dataclass(frozen=True)
class RunResult:
    scenario: str
    system: str
    repeat: int
    recovered_s: float | None  # fix -> first successful user request through the profile
    failed_user: int  # user requests that failed, outage start -> recovery (or horizon)
    user_requests: int
    reached_broken: int  # user requests that reached the still-broken provider after the first
    lapsed: int  # of them, sent after a recorded window had ended (none watched: all of them)
    test_requests: int  # requests sent only to test the provider (probes, health checks)
    billable: int  # test generations the provider accepted
    rejected: int  # test generations the provider rejected (sent, not billed)
    free: int  # free test requests (model list, account endpoints)
    all_requests: int  # every request that reached the provider (user and test)
    window_end_s: float | None = None  # OpenClaw's own window end, s after the fix (from its state)
    wall_s: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def account(
    sc: Scenario,
    system: str,
    repeat: int,
    *,
    fake: FakeProvider,
    credential: str,
    traffic: Traffic,
    t0: float,
    fix_at: float,
    broke_at: float,
    window_end: float | None,
    wall_s: float,
    windows: Sequence[tuple[float, float | None]] | None = None,
    error: str | None = None,
    replaced: str | None = None,
) -> RunResult:
    """One run's figures, counted from the outage's start to the recovery (or the horizon).
    `credential` is the key the profile holds at the end; `replaced`, the one a new key
    replaced: what was sent with it counts too."""
    users = traffic.snapshot()
    primary = via(fake, credential)
    success = [u for u in users if u.status == 200 and u.done >= fix_at and u.marker in primary]
    first = min(success, key=lambda u: u.done) if success else None
    end = first.done if first is not None else fix_at + sc.horizon_s
    counted = [u for u in users if t0 - 0.5 <= u.sent <= end]
    fps = {fingerprint(c) for c in (credential, replaced) if c is not None}
    reqs = [r for r in list(fake.requests) if broke_at <= r.at <= end + 0.01]
    first_at: dict[str, float] = {}
    for r in sorted(reqs, key=lambda r: r.at):
        m = marker_of(r)
        if m and r.credential_fingerprint in fps and r.paid and r.at < fix_at:
            first_at.setdefault(m, r.at)
    if not sc.hours_in:
        first_at.pop(f"{MARK}00001", None)  # the request that found the outage
    broken = set(first_at)
    lapsed = (
        sum(1 for at in first_at.values() if lapse_of(at, windows) == "lapsed")
        if windows is not None
        else len(broken)
    )
    tests = [r for r in reqs if marker_of(r) is None and r.credential_fingerprint in fps]
    billable = [r for r in tests if r.paid and r.at >= fix_at]
    rejected = [r for r in tests if r.paid and r.at < fix_at]
    return RunResult(
        scenario=sc.name,
        system=system,
        repeat=repeat,
        recovered_s=(first.done - fix_at) if first is not None else None,
        failed_user=sum(1 for u in counted if u.status != 200),
        user_requests=len(counted),
        reached_broken=len(broken),
        lapsed=lapsed,
        test_requests=len(tests),
        billable=len(billable),
        rejected=len(rejected),
        free=sum(1 for r in tests if not r.paid),
        all_requests=len(reqs),
        window_end_s=(window_end - fix_at) if window_end is not None else None,
        wall_s=wall_s,
        error=error,
    )


def wait_for(cond: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(interval)  # polling a condition, with a deadline
    return cond()
