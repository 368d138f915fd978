"""A full disk under `[daemon] state_dir` or the lock directory, for real: a 1 MiB tmpfs filled up.

probed's own memory (the ledger) and the shared results are never a reason to stop recovering:
probes go out, OpenClaw's store is repaired, the problem is logged once, and no temp file is
left behind. Mounting needs root (CI runs as root on this machine)."""

from __future__ import annotations

import contextlib
import errno
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.probestate import KEY_A, billing, read_usage, write_config, write_store

from probed.cli import main
from probed.fakeprovider import FakeProvider
from probed.fallbackledger import FallbackLedger
from probed.logs import configure


@contextlib.contextmanager
def full_tmpfs(where: Path) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"cannot mount a tmpfs (needs root): {done.stderr.strip()}"
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory: Path) -> None:
    """Write until the filesystem says ENOSPC, byte-exact to the last block."""
    with (directory / "filler").open("wb", buffering=0) as fh:
        for size in (4096, 512, 1):
            try:
                while True:
                    fh.write(b"x" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    probe = directory / "probe"
    with pytest.raises(OSError) as info:
        probe.write_bytes(b"x" * 4096)
    assert info.value.errno == errno.ENOSPC
    with contextlib.suppress(OSError):
        probe.unlink()


def _setup(tmp_path: Path, fake: FakeProvider, state: Path, lock: Path) -> Path:
    write_store(
        tmp_path / "oc",
        {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
        {"anthropic:default": billing()},
    )
    cfg = write_config(
        tmp_path, tmp_path / "oc", providers={"anthropic": {"base_url": fake.base_url}}
    )
    text = cfg.read_text()
    text = text.replace(f'state_dir = "{tmp_path / "state"}"', f'state_dir = "{state}"')
    text = text.replace(f'lock_dir = "{tmp_path / "lock"}"', f'lock_dir = "{lock}"')
    cfg.write_text(text)
    return cfg


def test_full_state_dir_still_recovers_and_says_so_once(tmp_path, capsys) -> None:
    configure("warning", "console", stream=sys.stderr)  # this test's stderr, not an old one's
    with full_tmpfs(tmp_path / "full") as full, FakeProvider() as fake:
        state = full / "state"
        ledger = FallbackLedger(state)
        ledger.set_next("main", "old:profile", None, None)  # an existing ledger
        assert ledger.problem is None
        fill(full)
        cfg = _setup(tmp_path, fake, state, tmp_path / "lock")
        code = main(["-c", str(cfg), "probe", "anthropic:default", "--json"])
        paid = fake.counts().paid
        _, err = capsys.readouterr()
        assert main(["-c", str(cfg), "status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
    assert code == 0 and paid == 1
    assert read_usage(tmp_path / "oc", "anthropic:default").get("disabledUntil") is None
    assert err.count("ledger_unwritable") == 1, err
    assert "Traceback" not in err and "internal error" not in err
    assert [p["state"] for p in status["profiles"]] == ["ok"]


def test_full_lock_dir_keeps_the_repair_and_leaves_no_temp(tmp_path, capsys) -> None:
    with full_tmpfs(tmp_path / "full") as full, FakeProvider() as fake:
        lock = full / "lock"
        lock.mkdir(mode=0o700)
        (lock / "anthropic.lock").touch(mode=0o600)
        fill(full)
        cfg = _setup(tmp_path, fake, tmp_path / "state", lock)
        code = main(["-c", str(cfg), "probe", "anthropic:default"])
        left = sorted(p.name for p in lock.iterdir())
    _, err = capsys.readouterr()
    assert code == 0, err
    assert read_usage(tmp_path / "oc", "anthropic:default").get("disabledUntil") is None
    assert left == ["anthropic.lock"]
    assert err.count("results_unwritable") == 1 and "internal error" not in err


def test_full_openclaw_dir_is_one_sentence_and_the_store_is_intact(tmp_path, capsys) -> None:
    with full_tmpfs(tmp_path / "full") as full, FakeProvider() as fake:
        oc = full / "oc"
        write_store(
            oc,
            {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
            {"anthropic:default": billing()},
        )
        agent = oc / "agents" / "main" / "agent"
        before = {p.name: p.read_bytes() for p in agent.iterdir()}
        fill(full)
        cfg = write_config(tmp_path, oc, providers={"anthropic": {"base_url": fake.base_url}})
        code = main(["-c", str(cfg), "probe", "anthropic:default"])
        after = {p.name: p.read_bytes() for p in agent.iterdir()}
    _, err = capsys.readouterr()
    assert code == 75, err
    assert after == before  # no temp file, the store byte for byte as it was
    lines = [line for line in err.splitlines() if line.startswith("probed:")]
    assert len(lines) == 1 and "no space left" in lines[0].lower(), err
    assert "internal error" not in err and "Traceback" not in err


def test_an_unwritable_ledger_keeps_budget_and_streak_in_memory(tmp_path: Path) -> None:
    """The daily budget stays bounded and the backoff streak grows while nothing can be written
    (here every open fails: the state directory is a file)."""
    from datetime import UTC, datetime

    (tmp_path / "state").write_text("not a directory")
    ledger = FallbackLedger(tmp_path / "state")
    now = datetime.now(UTC)
    got = [ledger.try_spend("anthropic", now, 3) for _ in range(5)]
    assert got == [(True, False), (True, False), (True, False), (False, True), (False, False)]
    rec = ledger.record_probe("main", "p", None, at=now, result="billing", next_probe_at=None)
    assert rec.consecutive_failures == 1
    rec = ledger.record_probe("main", "p", None, at=now, result="billing", next_probe_at=None)
    assert rec.consecutive_failures == 2 and ledger.get("main", "p") == rec
    assert ledger.problem is not None and "state" in ledger.problem
