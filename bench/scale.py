"""Scale and idle cost of the real `python -m probed run` with N profiles across A agents.

Per size: cold start-up scan (discover + read every store, fresh interpreter, median of 3), the
daemon's own start-up (daemon_started -> READY=1 on a NOTIFY_SOCKET), resident memory (VmRSS),
CPU while idle (utime+stime from /proc/<pid>/stat), wake-up lateness (probe_started minus the
`at` of its probe_scheduled, which already includes the jitter), reaction to a store change
(new cooldown written -> probe_scheduled for it), and `probed status` wall time.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.logs import LogReader, iso_s, ts
from bench.ostore import AgentDb, api_key, now_ms
from bench.probedrun import stop, write_config
from probed.config import Config
from probed.fakeprovider import FakeProvider

LATE_N = 20  # profiles whose cooldowns expire while the daemon runs


@dataclass(frozen=True)
class ScaleResult:
    profiles: int
    agents: int
    scan_s: float
    ready_s: float | None
    rss_mb: float
    idle_cpu_pct: float
    idle_s: float
    late_p50_ms: float | None
    late_p99_ms: float | None
    late_n: int
    react_ms: float | None
    status_ms: float | None
    status_json_ms: float | None
    status_error: str | None
    ready_cpu_s: float | None = None  # the daemon's CPU time when READY=1 came (load-proof)
    status_cpu_ms: float | None = None  # CPU time of one `probed status` (load-proof)
    load1: float | None = None  # the machine's 1-minute load average at the end


def _key(i: int) -> str:
    return f"sk-ant-api03-BENCH-{i:06d}-{'x' * 20}"


def build(root: Path, profiles: int, agents: int) -> list[AgentDb]:
    """Agents of ~equal size; one profile in ten in a long cooldown, the rest usable. The
    first LATE_N profiles of that tenth (spread over agents) are usable here: `run_scale`
    gives them cooldowns once the daemon is READY (see `_expire_soon`)."""
    agents = min(agents, profiles)
    dbs = []
    t = now_ms()
    held_back = set(_late_js(profiles))
    for a in range(agents):
        db = AgentDb(root / "openclaw", f"agent{a:03d}")
        prof: dict[str, Any] = {}
        usage: dict[str, Any] = {}
        for j in range(a, profiles, agents):
            pid = f"anthropic:p{j:05d}"
            prof[pid] = api_key("anthropic", _key(j))
            if j in held_back:
                usage[pid] = {"lastUsed": t - 60_000}
                continue
            if j % 10 == 0:
                until = t + 6 * 3_600_000
            else:
                usage[pid] = {"lastUsed": t - 60_000}
                continue
            usage[pid] = {
                "cooldownUntil": until,
                "cooldownReason": "rate_limit",
                "errorCount": 1,
                "failureCounts": {"rate_limit": 1},
                "lastFailureAt": t - 20_000,
            }
        db.create(prof, usage)
        dbs.append(db)
    return dbs


def _late_js(profiles: int) -> list[int]:
    """The LATE_N profiles (numbers) held back for `_expire_soon`: spread over the fleet."""
    return sorted({(n * profiles // LATE_N) // 10 * 10 for n in range(LATE_N)})


def _drain(sock: socket.socket) -> None:
    """Read every later notification (STATUS=, WATCHDOG=1) as systemd would: an unread
    datagram socket fills after 10 messages and then blocks the daemon's sd_notify call."""
    sock.settimeout(None)
    try:
        while sock.recv(4096):
            pass
    except OSError:
        return


def _expire_soon(dbs: list[AgentDb], profiles: int) -> set[str]:
    """Give the LATE_N held-back profiles cooldowns whose probes fall due 3-6 s from now, as a
    gateway would write them into a running fleet; their wake-up lateness is what is measured.

    A window is probed `[probe] lead` before it ends, so each ends that much later: windows
    ending within `lead` are due at once, all together, and their "lateness" would be the
    queue of one provider's flight, not the timer."""
    t = now_ms() + int(Config().probe.lead * 1000)
    pids = set()
    for n, j in enumerate(_late_js(profiles)):
        db = dbs[j % len(dbs)]
        pid = f"anthropic:p{j:05d}"
        until = t + 3000 + n * 150
        db.update_stats(
            pid,
            lambda s, until=until: {
                **s,
                "cooldownUntil": until,
                "cooldownReason": "rate_limit",
                "errorCount": 1,
                "failureCounts": {"rate_limit": 1},
                "lastFailureAt": now_ms(),
            },
        )
        pids.add(pid)
    return pids


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _timed(cmd: list[str], runs: int = 3) -> tuple[float | None, str | None]:
    return _timed_cpu(cmd, runs)[:2]


def _timed_cpu(cmd: list[str], runs: int = 3) -> tuple[float | None, str | None, float | None]:
    """Median wall ms, error, median CPU ms (user + system of the child) over `runs`."""
    import resource

    times, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if p.returncode not in (0, 75, 77):
            err = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1][:200]
            return None, err, None
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return statistics.median(times) * 1000, None, statistics.median(cpus)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _compiled() -> None:
    """probed's bytecode, as `pip install` leaves it: a checkout run with
    PYTHONDONTWRITEBYTECODE (set on this machine) would otherwise compile every module on every
    command, and time that instead of what an installed probed does."""
    import compileall

    import probed

    compileall.compile_dir(Path(probed.__file__).parent, quiet=1)


def run_scale(profiles: int, agents: int, *, idle_s: float) -> ScaleResult:
    _compiled()
    with tempfile.TemporaryDirectory(prefix="probed-scale-") as tmp, FakeProvider() as fake:
        root = Path(tmp)
        dbs = build(root, profiles, agents)
        config = root / "probed.toml"
        write_config(config, root, fake.base_url, 1.0)
        py = sys.executable
        scans = []
        for _ in range(3):
            out = subprocess.run(
                [py, "-m", "bench.scan", str(config)],
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            )
            scans.append(json.loads(out.stdout)["s"])
        sock_path = root / "notify.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(sock_path))
        sock.settimeout(120)
        env = {k: v for k, v in os.environ.items() if k not in ("PROBED_CONFIG", "JOURNAL_STREAM")}
        env["NOTIFY_SOCKET"] = str(sock_path)
        proc = subprocess.Popen(
            [py, "-m", "probed", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        logs = LogReader(proc)
        try:
            ready_at = None
            while ready_at is None:
                msg = sock.recv(4096).decode()
                if "READY=1" in msg:
                    ready_at = time.time()
                    ready_cpu = _cpu_s(proc.pid)
            started = logs.wait("daemon_started", 30)
            ready_s = ready_at - ts(started)
            threading.Thread(target=_drain, args=(sock,), daemon=True).start()
            time.sleep(3.0)  # start-up's own work settles
            late_pids = _expire_soon(dbs, profiles)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(
                {e["profile"] for e in logs.of("probe_started") if e["profile"] in late_pids}
            ) < len(late_pids):
                time.sleep(0.1)
            time.sleep(2.0)
            cpu0, w0 = _cpu_s(proc.pid), time.monotonic()
            time.sleep(idle_s)
            cpu1, w1 = _cpu_s(proc.pid), time.monotonic()
            rss = _rss_mb(proc.pid)
            late = []
            sched = {}
            for ev in logs.of("probe_scheduled"):
                sched[ev["profile"]] = iso_s(ev.get("at"))
            for ev in logs.of("probe_started"):
                at = sched.get(ev["profile"])
                if at is not None and ev["profile"] in late_pids:
                    late.append((ts(ev) - at) * 1000)
            reacts = []
            for i in range(5):
                db = dbs[(i * 7) % len(dbs)]
                pid = f"anthropic:react{i}"
                db.write(
                    profiles={
                        **_profiles_of(db),
                        pid: api_key("anthropic", _key(900000 + i)),
                    }
                )
                t_write = time.time()
                db.update_stats(
                    pid,
                    lambda s: {
                        **s,
                        "cooldownUntil": now_ms() + 3_600_000,
                        "cooldownReason": "rate_limit",
                        "errorCount": 1,
                        "failureCounts": {"rate_limit": 1},
                        "lastFailureAt": now_ms(),
                    },
                )
                t_write = time.time()
                try:
                    ev = logs.wait("probe_scheduled", 30, profile=pid)
                    reacts.append((ts(ev) - t_write) * 1000)
                except RuntimeError:
                    break
            status_ms, err, status_cpu = _timed_cpu(
                [py, "-m", "probed", "status", "-c", str(config)]
            )
            status_json_ms, err2 = _timed(
                [py, "-m", "probed", "status", "--json", "-c", str(config)]
            )
        finally:
            stop(proc)
            logs.join()
            sock.close()
    return ScaleResult(
        profiles,
        min(agents, profiles),
        statistics.median(scans),
        ready_s,
        rss,
        100 * (cpu1 - cpu0) / (w1 - w0),
        w1 - w0,
        _pct(late, 0.5) if late else None,
        _pct(late, 0.99) if late else None,
        len(late),
        statistics.median(reacts) if reacts else None,
        status_ms,
        status_json_ms,
        err or err2,
        ready_cpu,
        status_cpu,
        os.getloadavg()[0],
    )


def _profiles_of(db: AgentDb) -> dict[str, Any]:
    import sqlite3

    conn = sqlite3.connect(db.path)
    try:
        row = conn.execute(
            "SELECT store_json FROM auth_profile_store WHERE store_key='primary'"
        ).fetchone()
    finally:
        conn.close()
    return dict(json.loads(row[0]).get("profiles") or {})


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.scale [--profiles N] [--agents A] [--idle S]`: one size, printed."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=main.__doc__)
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measured")
    args = ap.parse_args(argv)
    print(run_scale(args.profiles, args.agents, idle_s=args.idle), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
