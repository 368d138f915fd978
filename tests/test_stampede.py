"""20 `python -m probed probe` processes at once: exactly one paid request, one shared outcome."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.probestate import KEY_A, billing, read_usage, write_config, write_store

from probed.fakeprovider import FakeProvider

N = 20


def _waiting_on(lock: Path, pids: list[int]) -> int:
    """How many of `pids` have the lock file open (i.e. are polling for it)."""
    count = 0
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(lock):
                    count += 1
                    break
            except OSError:
                continue
    return count


def _probe_all_at_once(
    tmp_path: Path, cfg: Path, n: int
) -> tuple[list[tuple[str, str]], list[int]]:
    """`probed probe anthropic --json` from `n` processes, released together: the provider lock
    is held until every one of them is waiting for it. Their (stdout, stderr) and exit codes."""
    lock_dir = tmp_path / "lock"
    lock_dir.mkdir(mode=0o700)
    lock = lock_dir / "anthropic.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "probed", "-c", str(cfg), "probe", "anthropic", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(n)
    ]
    try:
        deadline = time.monotonic() + 20
        while _waiting_on(lock, [p.pid for p in procs]) < n:
            assert time.monotonic() < deadline, "the probes never all reached the lock"
            assert all(p.poll() is None for p in procs), "a probe exited early"
            time.sleep(0.05)
    finally:
        os.close(fd)  # release: one of them probes, the rest reuse its result
    outputs = [p.communicate(timeout=30) for p in procs]
    return outputs, [p.returncode for p in procs]


@pytest.mark.slow
def test_twenty_processes_one_paid_probe(tmp_path: Path) -> None:
    oc = tmp_path / "oc"
    write_store(
        oc,
        {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
        {"anthropic:default": billing()},
    )
    with FakeProvider(delay=0.3) as fake:
        cfg = write_config(tmp_path, oc, providers={"anthropic": {"base_url": fake.base_url}})
        outputs, codes = _probe_all_at_once(tmp_path, cfg, N)
        assert fake.counts().paid == 1
    docs = [json.loads(out) for out, _ in outputs]
    outcomes = {(d["results"][0]["outcome"], d["results"][0]["reason"]) for d in docs}
    assert outcomes == {("recovered", None)}
    assert codes == [0] * N
    assert sum(1 for d in docs if d["results"][0]["reused"]) == N - 1
    assert sum(1 for d in docs if d["results"][0]["paid"]) == 1
    for out, err in outputs:
        assert KEY_A not in out and KEY_A not in err
    assert "disabledUntil" not in read_usage(oc, "anthropic:default")


@pytest.mark.slow
def test_concurrent_provider_probes_ask_each_profile_once(tmp_path: Path) -> None:
    """`probe anthropic` from five processes at once, two profiles that stay rate-limited: each
    profile is asked once, whoever waited for the second one reuses its result (a caller that
    started before a result was obtained asked the same question)."""
    key_b = "sk-ant-api03-SECRET-0005-eeeeeeeeeeeeeeee"
    oc = tmp_path / "oc"
    t = int(time.time() * 1000)
    window = {
        "cooldownUntil": t + 10_000,  # ends before the stated reset (30 s): extended once
        "cooldownReason": "rate_limit",
        "errorCount": 1,
        "failureCounts": {"rate_limit": 1},
        "lastFailureAt": t,
    }
    write_store(
        oc,
        {
            "anthropic:a": {"type": "api_key", "provider": "anthropic", "key": KEY_A},
            "anthropic:b": {"type": "api_key", "provider": "anthropic", "key": key_b},
        },
        {"anthropic:a": window, "anthropic:b": window},
    )
    n = 5
    with FakeProvider(delay=0.3) as fake:
        fake.respond(status=429, headers={"retry-after": "30"})
        cfg = write_config(tmp_path, oc, providers={"anthropic": {"base_url": fake.base_url}})
        outputs, codes = _probe_all_at_once(tmp_path, cfg, n)
        asked = [r.credential_fingerprint for r in fake.requests]
    assert codes == [75] * n  # both profiles stay rate-limited
    assert len(asked) == 2 and len(set(asked)) == 2  # one request per profile, not per caller
    results = [r for out, _ in outputs for r in json.loads(out)["results"]]
    assert len(results) == 2 * n
    assert sum(1 for r in results if not r["reused"]) == 2
    assert {r["reason"] for r in results} == {"rate_limit"}
    assert read_usage(oc, "anthropic:b")["errorCount"] == 2  # written once, not once per caller
