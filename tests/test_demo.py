"""`probed run --demo`: the whole loop against the built-in fake provider, shortened."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest

from probed.demo import KEYS, run_demo


@pytest.fixture(autouse=True)
def _no_notify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)


def test_demo_recovers_both_profiles_and_summarises() -> None:
    out = io.StringIO()
    code = run_demo(
        out=out,
        deadline_s=20,
        billing_in_s=1.5,
        limit_in_s=1.0,
        limit_fails_s=1.8,
        retry_base="1s",
    )
    text = out.getvalue()
    assert code == 0, text
    summary = text[text.index("probed demo finished") :]
    rows = {line.split()[0]: line for line in summary.splitlines() if ":" in line.split(" ")[0]}
    assert "disabled (billing" in rows["anthropic:default"]
    assert "cooldown (rate_limit" in rows["openai:default"]
    for pid in KEYS:
        assert rows[pid].split()[-4] == "ok" or " ok " in rows[pid]
    # the healthy profile cost nothing; the rate-limited one needed more than one probe pass
    assert rows["anthropic:backup"].split()[-3:] == ["0", "0", "0"]
    assert "backoff_extended" in text and "state_cleared" in text
    assert text.count("openai:default failed") >= 1 and "openai:default recovered" in text
    for _, key in KEYS.values():
        assert key not in text
    # the table counts HTTP requests, and says so; no log line has an empty `field=`
    header = next(line for line in summary.splitlines() if line.startswith("profile "))
    assert header.split()[3:] == ["requests", "paid", "free"]
    assert "probes" not in header
    assert not re.search(r"(^|\s)[A-Za-z_]+=(\s|$)", text, re.M)


def test_demo_command_line_is_wired() -> None:
    """`probed run --demo` reaches run_demo (checked via --help: the real run is above)."""
    proc = subprocess.run(
        [sys.executable, "-m", "probed", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0 and "--demo" in proc.stdout
