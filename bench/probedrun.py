"""One scenario against the REAL probed daemon, with time divided by `scale`.

The bench plays the world around probed: the FakeProvider fails as the scenario says (a
Retry-After that counts down, a stated quota reset, a 402 until the top-up, a 401 for the old
token), OpenClaw 2026.9's cron traffic every 30 min records its failures in the real SQLite store
by OpenClaw's own rules (alternatives.OpenClawPolicy), and a monitor polls the store from the
real recovery R until OpenClaw's state says the profile is usable.

Scaling: every window (scenario, backoff, jitter_max, Retry-After, reset, cron, the daemon's
in-code windows) is divided by `scale`; results are multiplied back. What does not scale is
fixed overhead (a probe's HTTP round trip, a store write, a wake-up's latency): multiplied back
up it would inflate latency by scale x overhead. So when probed cleared the state, latency is
(probe_started - R) * scale + (state_cleared - probe_started) unscaled: the wait is scaled, the
probe's own execution time is counted as measured. The remaining error is the daemon's wake-up
lateness times `scale` (bounded by the scale section's p99) plus the monitor's 2 ms poll.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.alternatives import CRON_S, HTTP_STATUS, OPENCLAW_REASON, OpenClawPolicy
from bench.logs import LogReader, iso_s, ts
from bench.ostore import AgentDb, api_key
from bench.scenarios import Scenario
from probed.config import DEFAULT_BACKOFF
from probed.fakeprovider import FakeProvider

PROFILE = "anthropic:default"
KEY_OLD = "sk-ant-api03-BENCH-OLD-0001-aaaaaaaaaaaa"
KEY_NEW = "sk-ant-api03-BENCH-NEW-0002-bbbbbbbbbbbb"
TRAFFIC_TAG = "bench-cron"

BODIES = {
    "rate_limit": '{"type":"error","error":{"type":"rate_limit_error","message":"rate limited"}}',
    "quota": '{"type":"error","error":{"type":"rate_limit_error",'
    '"message":"usage limit for your 5-hour window reached"}}',
    "billing": '{"type":"error","error":{"type":"billing_error",'
    '"message":"Your credit balance is too low to access the Anthropic API."}}',
    "auth": '{"type":"error","error":{"type":"authentication_error",'
    '"message":"OAuth token has expired"}}',
    "overloaded": '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
}


class CountdownMs(Mapping[str, str]):
    """`retry-after-ms` that tells the truth at the moment the header is sent."""

    def __init__(self, end: float) -> None:
        self.end = end

    def __getitem__(self, key: str) -> str:
        if key != "retry-after-ms":
            raise KeyError(key)
        return f"{max(1.0, (self.end - time.time()) * 1000):.0f}"

    def __iter__(self) -> Iterator[str]:
        return iter(["retry-after-ms"])

    def __len__(self) -> int:
        return 1


@dataclass(frozen=True)
class ProbedResult:
    scenario: str
    scale: float
    latency_s: float | None  # unscaled, corrected; None = not usable before the timeout
    latency_raw_s: float | None  # (detected - R) * scale, uncorrected
    paid_probes: int
    free_probes: int
    failed_user: int
    probes: int  # probe_started events
    early_probes: int  # probe_started before the window it was probing ended
    wall_s: float


def _dur(seconds: float, scale: float) -> str:
    return f"{max(1, round(seconds * 1000 / scale))}ms"


def write_config(path: Path, root: Path, base_url: str, scale: float) -> None:
    lines = [
        "[daemon]",
        'log_level = "info"',
        'log_format = "json"',
        f'state_dir = "{root / "probed-state"}"',
        f'lock_dir = "{root / "locks"}"',
        "",
        "[openclaw]",
        f'state_dir = "{root / "openclaw"}"',
        "reload_command = []",
        "",
        "[probe]",
        'timeout = "5s"',  # never reached against a local server; not scaled (see docs)
        'jitter = "10%"',
        f'jitter_max = "{_dur(30, scale)}"',
        "daily_budget = 100000",  # a UTC day is not scaled; the counts are reported instead
        "",
    ]
    for reason, b in DEFAULT_BACKOFF.items():
        lines += [
            f"[backoff.{reason}]",
            f'base = "{_dur(b.base, scale)}"',
            f'cap = "{_dur(b.cap, scale)}"',
            "",
        ]
    lines += [
        "[providers.anthropic]",
        'api = "anthropic"',
        f'base_url = "{base_url}"',
        'model = "claude-haiku-4-5"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def start_daemon(config: Path, scale: float, env_extra: dict[str, str] | None = None) -> Any:
    env = {**os.environ, **(env_extra or {})}
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "JOURNAL_STREAM", "PROBED_CONFIG"):
        env.pop(k, None)
    return subprocess.Popen(
        [sys.executable, "-m", "bench.daemonproc", str(config), str(scale)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Traffic(threading.Thread):
    """OpenClaw 2026.9 with a fallback model, run by a cron job every 30 min (scaled)."""

    def __init__(self, sc: Scenario, db: AgentDb, base_url: str, t0: float, scale: float) -> None:
        super().__init__(daemon=True)
        self.sc, self.db, self.base_url, self.t0, self.scale = sc, db, base_url, t0, scale
        self.policy = OpenClawPolicy("2026.9", scale)
        self.key = KEY_OLD
        self.failed = 0
        self.sent = 0
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            k = 0
            while not self.done.is_set():
                at = self.t0 + k * CRON_S / self.scale
                if self.done.wait(max(0.0, at - time.time())):
                    return
                self.cron(client)
                k += 1

    def cron(self, client: httpx.Client) -> None:
        now = int(time.time() * 1000)
        stats = self.db.usage().get(PROFILE, {})
        if not self.policy.routes(stats, now, self.sc.reports_reset):
            return
        resp = client.post(
            f"{self.base_url}/v1/messages",
            headers={"x-api-key": self.key, "anthropic-version": "2023-06-01"},
            json={
                "model": "claude-haiku-4-5",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": "the nightly job"}],
                "metadata": {"user_id": TRAFFIC_TAG},
            },
        )
        self.sent += 1
        now = int(time.time() * 1000)
        if resp.status_code == 200:
            self.db.update_stats(PROFILE, lambda s: self.policy.success(s, now))
            return
        self.failed += 1
        kind = next(k for k, v in HTTP_STATUS.items() if v == resp.status_code)
        reason = OPENCLAW_REASON[kind]
        self.db.update_stats(PROFILE, lambda s: self.policy.failure(s, reason, now))


def run_scenario(sc: Scenario, scale: float, *, timeout_s: float | None = None) -> ProbedResult:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="probed-bench-") as tmp, FakeProvider() as fake:
        root = Path(tmp)
        db = AgentDb(root / "openclaw", "main")
        db.create({PROFILE: api_key("anthropic", KEY_OLD)}, {PROFILE: {"lastUsed": 0}})
        config = root / "probed.toml"
        write_config(config, root, fake.base_url, scale)
        proc = start_daemon(config, scale)
        logs = LogReader(proc)
        traffic: Traffic | None = None
        try:
            logs.wait("daemon_started", 20)
            time.sleep(0.3)
            t0 = time.time()
            r_abs = t0 + sc.recovery / scale
            for ph in sc.phases:
                at = t0 + ph.start / scale
                threading.Timer(max(0.0, at - time.time()), _install, (fake, ph, t0, scale)).start()
            if sc.replace_key:
                fake.respond(credential=KEY_OLD, status=401, body=BODIES["auth"])
            traffic = Traffic(sc, db, fake.base_url, t0, scale)
            traffic.start()
            time.sleep(max(0.0, r_abs - time.time()))
            if sc.replace_key:
                db.write(profiles={PROFILE: api_key("anthropic", KEY_NEW)})
                traffic.key = KEY_NEW
            limit = timeout_s if timeout_s is not None else 3 * 86400 / scale + 10
            detect = _wait_usable(db, traffic.policy, limit)
            traffic.done.set()
            if detect is not None:
                # OpenClaw may see the profile usable because its window lapsed, a moment before
                # probed's own (jittered) probe confirms it: that probe is part of the cost.
                _wait_cleared(logs, r_abs, grace=2.0)
            time.sleep(0.05)
        finally:
            if traffic is not None:
                traffic.done.set()
            stop(proc)
            logs.join()
        requests = list(fake.requests)
    confirmed = [ts(e) for e in logs.of("state_cleared") if ts(e) >= r_abs]
    counted_to = max(detect, confirmed[0]) if detect is not None and confirmed else detect
    until_detect = [q for q in requests if counted_to is None or q.at <= counted_to + 0.001]
    probes = [q for q in until_detect if not _is_traffic(q)]
    started_ev = logs.of("probe_started")
    early = 0
    for ev in started_ev:
        until = iso_s(ev.get("until"))
        if until is not None and ts(ev) < until - 0.002:
            early += 1
    raw = lat = None
    if detect is not None:
        raw = max(0.0, detect - r_abs) * scale
        lat = raw
        cleared = [ts(e) for e in logs.of("state_cleared") if r_abs <= ts(e) <= detect + 0.01]
        if cleared:
            c = cleared[0]
            before = [ts(e) for e in started_ev if ts(e) <= c]
            if before and before[-1] >= r_abs:
                lat = (before[-1] - r_abs) * scale + (c - before[-1])
            elif before:
                lat = c - r_abs  # the probe was already in flight at R: execution time only
    return ProbedResult(
        sc.name,
        scale,
        lat,
        raw,
        sum(1 for q in probes if q.paid),
        sum(1 for q in probes if not q.paid),
        traffic.failed if traffic else 0,
        len(started_ev),
        early,
        time.monotonic() - started,
    )


def _is_traffic(q: Any) -> bool:
    body = q.body
    return isinstance(body, dict) and (body.get("metadata") or {}).get("user_id") == TRAFFIC_TAG


def _install(fake: FakeProvider, ph: Any, t0: float, scale: float) -> None:
    end = t0 + ph.end / scale
    if ph.kind == "auth":
        return  # the old key fails for good; recovery is the new key
    headers: Mapping[str, str] | None = None
    if ph.kind == "rate_limit":
        headers = CountdownMs(end)
    elif ph.kind == "quota":
        headers = {
            "anthropic-ratelimit-unified-status": "rejected",
            "anthropic-ratelimit-unified-reset": f"{end:.3f}",
        }
    fake.respond(
        credential=KEY_OLD,
        status=HTTP_STATUS[ph.kind],
        body=BODIES[ph.kind],
        headers=headers,
        until=end,
    )


def _wait_cleared(logs: LogReader, since: float, grace: float) -> None:
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if any(ts(e) >= since for e in logs.of("state_cleared")):
            return
        time.sleep(0.005)


def _wait_usable(db: AgentDb, policy: OpenClawPolicy, limit: float) -> float | None:
    end = time.time() + limit
    while time.time() < end:
        now = time.time()
        if policy.usable(db.usage().get(PROFILE, {}), int(now * 1000)):
            return now
        time.sleep(0.002)
    return None


def to_json(r: ProbedResult) -> str:
    return json.dumps(r.__dict__)
