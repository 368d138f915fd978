"""N concurrent `python -m probed probe anthropic` processes, one FakeProvider, one state.

Target: exactly one probe and one paid request for every N; the others wait on the single-flight
lock and then reuse its result or find the profile usable.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.ostore import AgentDb, api_key, now_ms
from bench.probedrun import KEY_OLD, PROFILE, write_config
from probed.fakeprovider import FakeProvider


@dataclass(frozen=True)
class StampedeResult:
    n: int
    paid: int
    free: int
    exit_ok: int  # processes that exited 0 (profile usable)
    reused: int  # processes that reported a result shared by a concurrent probe
    wall_s: float


def run_stampede(n: int, *, delay: float = 0.5) -> StampedeResult:
    with (
        tempfile.TemporaryDirectory(prefix="probed-stampede-") as tmp,
        FakeProvider(delay=delay) as fake,
    ):
        root = Path(tmp)
        db = AgentDb(root / "openclaw", "main")
        t = now_ms()
        db.create(
            {PROFILE: api_key("anthropic", KEY_OLD)},
            {
                PROFILE: {
                    "disabledUntil": t + 3_600_000,
                    "disabledReason": "billing",
                    "errorCount": 1,
                    "failureCounts": {"billing": 1},
                    "lastFailureAt": t - 1000,
                }
            },
        )
        config = root / "probed.toml"
        write_config(config, root, fake.base_url, 1.0)
        start = time.monotonic()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "probed", "probe", "anthropic", "-c", str(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(n)
        ]
        outs = [p.communicate(timeout=600)[0] for p in procs]
        wall = time.monotonic() - start
        counts = fake.counts()
    return StampedeResult(
        n,
        counts.paid,
        counts.free,
        sum(1 for p in procs if p.returncode == 0),
        sum(1 for o in outs if "shared by a concurrent probe" in o),
        wall,
    )


# --------------------------------------------------------------------------------------------
# A burst: many cooldowns of one provider expiring in the same few seconds, one daemon.


@dataclass(frozen=True)
class BurstResult:
    profiles: int
    expiring: int
    delay_s: float  # the fake provider's answer time
    cleared: int
    clear_s: float | None  # first window end -> last state_cleared
    requests: int
    skipped: int  # probes that could not run (a lock held too long, ...)
    peak_rss_mb: float
    flights: int  # flights taken (flight_done events), or -1 when not logged
    cpu_s: float  # the daemon's CPU time, start-up included (user + system)


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _burst_key(i: int) -> str:
    return f"sk-ant-api03-BURST-{i:06d}-{'x' * 20}"


def run_burst(
    profiles: int = 10_000,
    expiring: int = 1_000,
    *,
    agents: int = 100,
    delay: float = 0.05,
    lead_s: float = 15.0,
    timeout_s: float = 180.0,
) -> BurstResult:
    """`expiring` rate-limit cooldowns (distinct keys, spread over the agents) end within 2 s,
    `lead_s` after the stores are written; the rest of the profiles are usable. The daemon
    runs with the bench's usual configuration (`[probe] concurrency` 4, 10 % jitter)."""
    import os
    import signal

    from bench.logs import LogReader, ts

    with (
        tempfile.TemporaryDirectory(prefix="probed-burst-") as tmp,
        FakeProvider(delay=delay) as fake,
    ):
        root = Path(tmp)
        t = now_ms()
        first_end = t + int(lead_s * 1000)
        every = max(1, profiles // expiring)
        for a in range(agents):
            db = AgentDb(root / "openclaw", f"agent{a:03d}")
            prof: dict[str, object] = {}
            usage: dict[str, object] = {}
            for j in range(a, profiles, agents):
                pid = f"anthropic:p{j:06d}"
                prof[pid] = api_key("anthropic", _burst_key(j))
                if j % every == 0 and j // every < expiring:
                    usage[pid] = {
                        "cooldownUntil": first_end + (j // every) * 2000 // expiring,
                        "cooldownReason": "rate_limit",
                        "errorCount": 1,
                        "failureCounts": {"rate_limit": 1},
                        "lastFailureAt": t - 20_000,
                    }
                else:
                    usage[pid] = {"lastUsed": t - 60_000}
            db.create(prof, usage)
        config = root / "probed.toml"
        write_config(config, root, fake.base_url, 1.0)
        env = {k: v for k, v in os.environ.items() if k not in ("PROBED_CONFIG", "NOTIFY_SOCKET")}
        prof = os.environ.get("BENCH_CPROFILE")  # a path: profile the daemon into it
        wrap = ["-m", "cProfile", "-o", prof] if prof else []
        proc = subprocess.Popen(
            [sys.executable, *wrap, "-m", "probed", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        logs = LogReader(proc)
        peak = 0.0
        try:
            end = time.monotonic() + lead_s + timeout_s
            while time.monotonic() < end and len(logs.of("state_cleared")) < expiring:
                peak = max(peak, _hwm_mb(proc.pid))
                if proc.poll() is not None:
                    break
                time.sleep(0.25)
            peak = max(peak, _hwm_mb(proc.pid))
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            logs.join()
        cleared = logs.of("state_cleared")
        last = max((ts(e) for e in cleared), default=None)
        skipped = [
            e for e in logs.of("probe_failed") if "lock" in str(e.get("message", "")).lower()
        ]
        flights = logs.of("flight_done")
        return BurstResult(
            profiles,
            expiring,
            delay,
            len(cleared),
            (last - first_end / 1000) if last is not None else None,
            fake.counts().total,
            len(skipped),
            peak,
            len(flights) if flights else -1,
            cpu,
        )


# --------------------------------------------------------------------------------------------
# A fleet: three hosts (own OpenClaw state, lock dir, ledger) sharing keys through one Redis.


@dataclass(frozen=True)
class FleetResult:
    hosts: int
    keys: int
    recoveries: int  # profiles cleared, all hosts together
    paid: int  # billable requests the fake provider saw
    reused: int  # probe_reused events
    wall_s: float


def _redis(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A throw-away redis-server on 127.0.0.1 (ephemeral port, no persistence)."""
    import shutil
    import socket

    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def run_fleet(hosts: int = 3, keys: int = 20, *, delay: float = 0.05) -> FleetResult:
    """Every host holds the same `keys` credentials, each in a billing window (a recovery a
    paid probe must prove) that each host's gateway recorded at a slightly different moment
    (hosts 1.5 s apart). Target: one billable request per key, every profile cleared."""
    import os
    import signal

    from bench.logs import LogReader

    with (
        tempfile.TemporaryDirectory(prefix="probed-fleet-") as tmp,
        FakeProvider(delay=delay) as fake,
    ):
        root = Path(tmp)
        redis, port = _redis(root)
        procs: list[subprocess.Popen[str]] = []
        readers: list[LogReader] = []
        try:
            t = now_ms()
            for h in range(hosts):
                home = root / f"host{h}"
                db = AgentDb(home / "openclaw", "main")
                prof: dict[str, object] = {}
                usage: dict[str, object] = {}
                for k in range(keys):
                    pid = f"anthropic:k{k:03d}"
                    prof[pid] = api_key("anthropic", _burst_key(500_000 + k))
                    usage[pid] = {
                        "disabledUntil": t + 12_000 + h * 1500 + k * 20,
                        "disabledReason": "billing",
                        "errorCount": 1,
                        "failureCounts": {"billing": 1},
                        "lastFailureAt": t - 2000 + h * 1500,
                    }
                db.create(prof, usage)
                config = home / "probed.toml"
                write_config(config, home, fake.base_url, 1.0)
                with config.open("a", encoding="utf-8") as fh:
                    fh.write(
                        f'\n[coordination]\nbackend = "redis"\n'
                        f'redis_url = "redis://127.0.0.1:{port}/0"\nnamespace = "bench"\n'
                    )
                env = {k: v for k, v in os.environ.items() if k not in ("PROBED_CONFIG",)}
                env.pop("NOTIFY_SOCKET", None)
                proc = subprocess.Popen(
                    [sys.executable, "-m", "probed", "run", "-c", str(config)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env=env,
                )
                procs.append(proc)
                readers.append(LogReader(proc))
            start = time.monotonic()
            deadline = start + 120
            while time.monotonic() < deadline:
                cleared = sum(len(r.of("state_cleared")) for r in readers)
                if cleared >= hosts * keys:
                    break
                time.sleep(0.25)
            wall = time.monotonic() - start
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for r in readers:
                r.join()
            redis.kill()
            redis.wait()
        return FleetResult(
            hosts,
            keys,
            sum(len(r.of("state_cleared")) for r in readers),
            fake.counts().paid,
            sum(len(r.of("probe_reused")) for r in readers),
            wall,
        )


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.stampede [burst|fleet] ...`: the fleet benchmarks of docs/fleet.md."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.stampede", description=main.__doc__)
    sub = ap.add_subparsers(dest="what", required=True)
    b = sub.add_parser("burst", help="N cooldowns of one provider expiring at once")
    b.add_argument("--profiles", type=int, default=10_000)
    b.add_argument("--expiring", type=int, default=1_000)
    b.add_argument("--agents", type=int, default=100)
    b.add_argument("--delay", type=float, default=0.05)
    f = sub.add_parser("fleet", help="hosts sharing keys through one Redis")
    f.add_argument("--hosts", type=int, default=3)
    f.add_argument("--keys", type=int, default=20)
    args = ap.parse_args(argv)
    if args.what == "burst":
        print(run_burst(args.profiles, args.expiring, agents=args.agents, delay=args.delay))
    else:
        print(run_fleet(args.hosts, args.keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
