"""probed.files: what probed trusts on disk, private atomic writes, and the sweep of dead temps."""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.probestate import KEY_A, billing, read_usage, write_config, write_store

from probed.cli import main
from probed.fakeprovider import FakeProvider
from probed.files import (
    UntrustedPath,
    ensure_private_dir,
    read_trusted,
    sweep_temps,
    trust_problem,
    write_private,
)
from probed.stores.atomic import temp_pattern, write_atomic

NOBODY = 65534


def _give_away(path: Path) -> None:
    """Make `path` another user's, as it would be had they created it first."""
    assert os.geteuid() == 0, "this test needs root (CI runs as root) to chown to nobody"
    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


def _st(uid: int, mode: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


def test_trust_rule() -> None:
    me = 1000
    assert trust_problem(_st(me, stat.S_IFDIR | 0o700), euid=me) is None
    assert trust_problem(_st(0, stat.S_IFDIR | 0o755), euid=me) is None  # root's is fine
    assert "owned by uid 1001" in str(trust_problem(_st(1001, stat.S_IFDIR | 0o700), euid=me))
    assert "writable by other users" in str(trust_problem(_st(me, stat.S_IFDIR | 0o770), euid=me))
    assert "writable by other users" in str(trust_problem(_st(me, stat.S_IFDIR | 0o1777), euid=me))
    assert "not a regular file" in str(
        trust_problem(_st(me, stat.S_IFDIR | 0o600), euid=me, kind="regular file")
    )


def test_private_dir_is_created_0700_and_foreign_ones_refused(tmp_path: Path) -> None:
    mine = tmp_path / "probed-1"
    ensure_private_dir(mine)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o700
    _give_away(mine)
    with pytest.raises(UntrustedPath, match=f"owned by uid {NOBODY}"):
        ensure_private_dir(mine)
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    with pytest.raises(UntrustedPath, match="writable by other users"):
        ensure_private_dir(loose)


def test_read_trusted_refuses_symlinks_and_foreign_files(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert read_trusted(real) == b"{}"
    assert read_trusted(tmp_path / "missing") is None
    with pytest.raises(UntrustedPath, match="symlink"):
        read_trusted(link)
    real.chmod(0o666)
    with pytest.raises(UntrustedPath, match="writable"):
        read_trusted(real)
    real.chmod(0o600)
    _give_away(real)
    with pytest.raises(UntrustedPath, match=f"owned by uid {NOBODY}"):
        read_trusted(real)


def test_write_private_replaces_a_planted_symlink_never_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "results.json"
    target.symlink_to(victim)
    write_private(target, b"new")
    assert victim.read_text() == "precious"
    assert not target.is_symlink() and target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "victim"]


# ---- the lock directory, end to end ----------------------------------------------------


def _setup(tmp_path: Path, fake: FakeProvider) -> Path:
    write_store(
        tmp_path / "oc",
        {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
        {"anthropic:default": billing()},
    )
    return write_config(
        tmp_path, tmp_path / "oc", providers={"anthropic": {"base_url": fake.base_url}}
    )


def _forge(lock: Path) -> None:
    """A results file claiming a fresh recovery, as another user could plant it."""
    forged = {
        "main/anthropic:default/": {
            "agent": "main",
            "profile": "anthropic:default",
            "provider": "anthropic",
            "model": None,
            "outcome": "recovered",
            "failure": None,
            "until": None,
            "next_probe_at": None,
            "per_model": [],
            "at": time.time() + 3600,
        }
    }
    (lock / "anthropic.results.json").write_text(json.dumps(forged))


@pytest.mark.parametrize("how", ["world_writable", "foreign_owner"])
def test_a_lock_dir_someone_else_made_is_refused(tmp_path, capsys, how) -> None:
    lock = tmp_path / "lock"
    lock.mkdir()
    _forge(lock)
    if how == "world_writable":
        lock.chmod(0o777)
    else:
        _give_away(lock)
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
        code = main(["-c", str(cfg), "probe", "anthropic:default"])
        sent = fake.counts().total
    err = capsys.readouterr().err
    assert code == 78 and sent == 0
    assert f"{lock}: probed's lock directory" in err and "[daemon] lock_dir" in err
    assert "recovered" not in err and read_usage(tmp_path / "oc", "anthropic:default")


def test_a_results_file_we_did_not_write_is_ignored(tmp_path, capsys) -> None:
    lock = tmp_path / "lock"
    lock.mkdir(mode=0o700)
    _forge(lock)
    _give_away(lock / "anthropic.results.json")
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
        fake.respond(kind="paid", status=402)
        code = main(["-c", str(cfg), "probe", "anthropic:default", "--json"])
        sent = fake.counts().paid
    doc = json.loads(capsys.readouterr().out)
    assert code == 75 and sent == 1  # really probed: the forged "recovered" was not believed
    assert doc["results"][0]["reused"] is False and doc["results"][0]["outcome"] == "failed"


def test_a_symlink_planted_at_the_old_temp_name_is_never_followed(tmp_path, capsys) -> None:
    lock = tmp_path / "lock"
    lock.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    # 0.1 wrote `.<name>.<pid>.tmp` with O_TRUNC: one link per pid a run could get
    for pid in range(os.getpid(), os.getpid() + 1):
        (lock / f".anthropic.results.json.{pid}.tmp").symlink_to(victim)
    (lock / "anthropic.lock").symlink_to(tmp_path / "created-by-lock")
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
        code = main(["-c", str(cfg), "probe", "anthropic:default"])
    err = capsys.readouterr().err
    assert victim.read_text() == "precious"
    assert not (tmp_path / "created-by-lock").exists()
    assert code == 78 and "anthropic.lock: the single-flight lock is a symlink" in err
    (lock / "anthropic.lock").unlink()
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
        assert main(["-c", str(cfg), "probe", "anthropic:default"]) == 0
    assert victim.read_text() == "precious"
    assert json.loads((lock / "anthropic.results.json").read_text())


# ---- stale temp files (kill -9 during a write) ---------------------------------------------


def _age(path: Path, seconds: float = 300) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)


def test_sweep_takes_only_our_dead_old_temps(tmp_path: Path) -> None:
    pat = temp_pattern("auth-profiles.json")
    dead = tmp_path / "auth-profiles.json.0b6a3e9c-5f0e-4a51-9d7e-3b2a1c0d9e8f.tmp"
    young = tmp_path / "auth-profiles.json.1b6a3e9c-5f0e-4a51-9d7e-3b2a1c0d9e8f.tmp"
    live = tmp_path / "auth-profiles.json.2b6a3e9c-5f0e-4a51-9d7e-3b2a1c0d9e8f.tmp"
    theirs = tmp_path / ".fs-safe-0b6a3e9c-5f0e-4a51-9d7e-3b2a1c0d9e8f.tmp"  # OpenClaw's
    other = tmp_path / "auth-profiles.json.bak"
    for p in (dead, young, live, theirs, other):
        p.write_text("copy")
    for p in (dead, live, theirs, other):
        _age(p)
    with live.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert sweep_temps(tmp_path, pat) == 1
    assert not dead.exists()
    assert young.exists() and live.exists() and theirs.exists() and other.exists()
    assert sweep_temps(tmp_path, re.compile("nothing")) == 0


_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from probed.stores import atomic
real = os.fsync
def stuck(fd):
    print("writing", flush=True)
    time.sleep(3600)
os.fsync = stuck
atomic.write_atomic(Path(sys.argv[1]), open(sys.argv[1]).read().replace("1", "2"))
"""


def test_a_writer_killed_mid_write_leaves_a_temp_the_next_write_sweeps(tmp_path, capsys) -> None:
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
    store = tmp_path / "oc" / "agents" / "main" / "agent" / "auth-state.json"
    before = store.read_text()
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(store)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    [tmp] = [p for p in store.parent.iterdir() if p.name.endswith(".tmp")]
    assert stat.S_IMODE(tmp.stat().st_mode) == 0o600
    assert sweep_temps(store.parent, temp_pattern(store.name), min_age_s=0) == 0  # still live
    child.kill()
    child.wait()
    assert tmp.exists() and store.read_text() == before
    _age(tmp)
    assert main(["-c", str(cfg), "clear", "anthropic:default"]) == 0
    assert not tmp.exists()
    assert sorted(p.name for p in store.parent.iterdir()) == [
        "auth-profiles.json",
        "auth-state.json",
    ]
    capsys.readouterr()


def test_enospc_while_writing_a_store_leaves_it_intact_and_no_temp(tmp_path, monkeypatch) -> None:
    import errno

    from probed.errors import StoreError

    store = tmp_path / "auth-state.json"
    store.write_text('{"version": 1}\n')

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StoreError, match=r"auth-state\.json: cannot be written"):
        write_atomic(store, '{"version": 1, "x": 1}\n')
    monkeypatch.undo()
    assert store.read_text() == '{"version": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["auth-state.json"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_daemon_start_sweeps_stale_store_temps(tmp_path: Path) -> None:
    import anyio

    from probed.config import load_config
    from probed.daemon import Daemon, DaemonOptions
    from probed.notify import Notifier

    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
    agent = tmp_path / "oc" / "agents" / "main" / "agent"
    stale = agent / "auth-profiles.json.0b6a3e9c-5f0e-4a51-9d7e-3b2a1c0d9e8f.tmp"
    stale.write_text((agent / "auth-profiles.json").read_text())  # a credentials copy
    stale.chmod(0o600)
    _age(stale)
    stop = anyio.Event()
    daemon = Daemon(
        load_config(cfg, env={}),
        config_path=cfg,
        notifier=Notifier(env={}),
        options=DaemonOptions(stop=stop, spread_s=3600),
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(daemon.run)
        with anyio.fail_after(10):
            while stale.exists():
                await anyio.sleep(0.02)
        stop.set()
    assert sorted(p.name for p in agent.iterdir()) == ["auth-profiles.json", "auth-state.json"]


def test_state_dir_that_cannot_be_made_names_the_key(tmp_path: Path) -> None:
    from probed.errors import ConfigError
    from probed.files import make_state_dir

    (tmp_path / "taken").write_text("a file where the directory should go")
    with pytest.raises(ConfigError, match=r"taken/state: cannot create .*\[daemon\] state_dir"):
        make_state_dir(tmp_path / "taken" / "state")
    make_state_dir(tmp_path / "fresh" / "state")
    assert (tmp_path / "fresh" / "state").stat().st_mode & 0o777 == 0o700
