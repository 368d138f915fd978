"""The shipped units pass `systemd-analyze verify` with no output at all (warnings included)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parent.parent / "systemd"
ANALYZE = Path("/usr/bin/systemd-analyze")


def _probed_executable() -> str:
    exe = Path(sys.executable).parent / "probed"
    return str(exe if exe.exists() else Path("/bin/true"))


def render(unit: Path, dest: Path) -> Path:
    """A copy whose ExecStart= binary exists here (verify insists on it), same name."""
    text = unit.read_text(encoding="utf-8")
    text, n = re.subn(r"^ExecStart=\S+", f"ExecStart={_probed_executable()}", text, flags=re.M)
    assert n == 1
    out = dest / "probed.service"
    out.write_text(text, encoding="utf-8")
    return out


def verify(unit: Path, *, user: bool, tmp: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE.exists(), "systemd-analyze is required for this test (it never skips)"
    env = dict(os.environ)
    args = [str(ANALYZE)]
    if user:
        runtime = tmp / "xdg-runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)
        args.append("--user")
    return subprocess.run(
        [*args, "verify", str(unit)], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "user"), [("probed.service", False), ("probed-user.service", True)]
)
def test_unit_verifies_with_no_output(name: str, user: bool, tmp_path: Path) -> None:
    unit = render(UNITS / name, tmp_path)
    proc = verify(unit, user=user, tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout + proc.stderr == ""


def test_a_typo_would_be_caught(tmp_path: Path) -> None:
    """The check is real: verify prints a warning (rc 0) for an unknown key, and we see it."""
    unit = render(UNITS / "probed.service", tmp_path)
    unit.write_text(unit.read_text().replace("ProtectSystem=", "ProtectSytem="))
    proc = verify(unit, user=False, tmp=tmp_path)
    assert "ProtectSytem" in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["probed.service", "probed-user.service"])
def test_units_speak_the_contract(name: str) -> None:
    text = (UNITS / name).read_text(encoding="utf-8")
    for line in (
        "Type=notify",
        "NotifyAccess=main",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "RuntimeDirectory=probed",
        "ProtectSystem=strict",
    ):
        assert line in text.splitlines(), line
    assert re.search(r"^WatchdogSec=\d+s$", text, flags=re.M)
    assert re.search(r"^ExecStart=\S*probed run\b", text, flags=re.M)
    if name == "probed-user.service":
        assert "PrivateUsers=yes" in text and "WantedBy=default.target" in text
        # the daemon's ledger is where `probed status` in the user's shell looks for it
        assert "ReadWritePaths=%h/.openclaw %h/.local/state/probed" in text.splitlines()
        assert not re.search(r"^StateDirectory=", text, flags=re.M)
    else:
        assert "WantedBy=multi-user.target" in text
        assert "StateDirectory=probed" in text.splitlines()
