"""`probed status`: rows from OpenClaw's state plus probed's ledger; never writes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.ocstate import SECRETS, agent_dir, era_b, era_c_agent, tree_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from probed.cli import main
from probed.clock import from_ms
from probed.ledger import Ledger
from probed.status import Row, _until, short_duration

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "openclaw-state"
EXAMPLE_SECRETS = ("EXAMPLE-not-a-real",)
NOW = 1_800_000_000_000
H = 3_600_000
KEYS = [
    "agent",
    "profile",
    "provider",
    "type",
    "state",
    "reason",
    "until",
    "remaining_s",
    "model",
    "last_probe_at",
    "last_probe_result",
    "next_probe_at",
    "action",
    "gateway",  # 0.2 additions: has the running gateway taken probed's last repair?
    "repair_confirmed",
    "gateway_detail",
]


def _config(tmp_path: Path, state: Path) -> Path:
    cfg = tmp_path / "probed.toml"
    cfg.write_text(
        f'[daemon]\nstate_dir = "{tmp_path / "probed-state"}"\n'
        f'[openclaw]\nstate_dir = "{state}"\nreload_command = []\n'
    )
    return cfg


def _status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["status", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_example_state_json_matches_the_contract_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    shutil.copytree(EXAMPLE, state)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in state.rglob("*") if p.is_file()}
    code, out, _ = _status(capsys, "-c", str(_config(tmp_path, state)), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["generated_at"].endswith("Z")
    rows = {r["profile"]: r for r in doc["profiles"]}
    assert all(list(r) == KEYS for r in doc["profiles"])
    assert rows["anthropic:default"]["state"] == "disabled"
    assert rows["anthropic:default"]["reason"] == "billing"
    assert rows["anthropic:default"]["until"] == "2099-01-01T01:00:00Z"
    assert rows["anthropic:work"]["model"] == "claude-opus-4-7"
    assert rows["openai:default"]["reason"] == "auth"
    assert rows["openai:default"]["remaining_s"] > 0
    assert rows["google:default"]["state"] == "ok" and rows["google:default"]["until"] is None
    assert rows["openrouter:default"]["state"] == "ok"  # OpenClaw never cools openrouter down
    assert all(r["action"] for r in doc["profiles"])
    assert not any(s in out for s in EXAMPLE_SECRETS)
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in state.rglob("*") if p.is_file()}
    assert after == before and not (tmp_path / "probed-state").exists()


def test_table_is_readable_at_100_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _status(capsys, "-c", str(_config(tmp_path, EXAMPLE)))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("5 profiles in 1 agent, 2 usable, 3 unusable")
    assert lines[2].split() == [
        "AGENT",
        "PROFILE",
        "PROVIDER",
        "STATE",
        "REASON",
        "UNTIL",
        "(LEFT)",
        "LAST",
        "NEXT",
    ]
    assert max(len(line) for line in lines) <= 100
    profiles = [line.split()[1] for line in lines[3:] if line.startswith("main ")]
    assert profiles == sorted(profiles, key=lambda p: (p.split(":")[0], p))
    assert "only for model claude-opus-4-7" in out
    assert not any(s in out for s in EXAMPLE_SECRETS)


def test_filters_ledger_columns_and_unreadable_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    now = from_ms(NOW)
    import time as _t

    real_now = int(_t.time() * 1000)
    era_b(
        state,
        {
            "anthropic:a": {
                "cooldownUntil": real_now + H,
                "cooldownReason": "timeout",
                "lastFailureAt": real_now,
            }
        },
    )
    era_c_agent(state, {}, agent="worker")
    broken = agent_dir(state, "zbroken") / "auth-profiles.json"
    broken.write_text('{"version": 1, "profiles": {')
    # the file at fault is named even when it is not where the state lives (auth-state.json)
    (broken.parent / "auth-state.json").write_text('{"version": 1}')
    cfg = _config(tmp_path, state)
    ledger = Ledger(tmp_path / "probed-state")
    ledger.record_probe(
        "main",
        "anthropic:a",
        None,
        at=now,
        result="timeout",
        next_probe_at=from_ms(real_now) + timedelta(minutes=30),
    )
    code, out, err = _status(capsys, "-c", str(cfg), "--json", "--provider", "Anthropic")
    assert code == 0
    doc = json.loads(out)
    main_a = next(
        r for r in doc["profiles"] if r["agent"] == "main" and r["profile"] == "anthropic:a"
    )
    assert main_a["last_probe_result"] == "timeout"
    assert main_a["last_probe_at"] == "2027-01-15T08:00:00Z"
    assert main_a["next_probe_at"] is not None
    assert {r["provider"] for r in doc["profiles"]} == {"anthropic"}
    assert doc["errors"] == [
        {"agent": "zbroken", "file": str(broken), "error": doc["errors"][0]["error"]}
    ]
    assert str(broken) in doc["errors"][0]["error"] and str(broken) in err
    code, out, _ = _status(capsys, "-c", str(cfg), "--agent", "worker")
    assert "main " not in out and "worker" in out
    code, out, _ = _status(capsys, "-c", str(cfg))
    assert f"! agent zbroken: {broken}" in out
    assert not any(s in out + err for s in SECRETS)


def test_missing_state_dir_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _status(capsys, "-c", str(_config(tmp_path, tmp_path / "none")))
    assert code == 78 and out == ""
    assert err.count("\n") == 1 and str(tmp_path / "none") in err


def test_console_script_on_the_example_state(tmp_path: Path) -> None:
    before = tree_bytes(EXAMPLE)
    proc = subprocess.run(
        [sys.executable, "-m", "probed", "status", "-c", str(_config(tmp_path, EXAMPLE))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "anthropic:default" in proc.stdout and "billing" in proc.stdout
    assert tree_bytes(EXAMPLE) == before  # status writes nothing


def test_legacy_files_openclaw_refuses_are_noted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    era_c_agent(state, {}, agent="worker")
    era_b(state, {}, agent="worker")  # an import `openclaw doctor --fix` never ran
    cfg = str(_config(tmp_path, state))
    code, out, _ = _status(capsys, "-c", cfg)
    assert code == 0 and "note: agent worker:" in out and "doctor --fix" in out
    code, out, _ = _status(capsys, "-c", cfg, "--json")
    (note,) = json.loads(out)["notes"]
    assert note["agent"] == "worker" and note["file"].endswith(
        "agents/worker/agent/auth-profiles.json"
    )


def test_provider_filter_knows_the_contracts_aliases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    d = agent_dir(state, "main")
    profiles = {
        "google:default": {"type": "api_key", "provider": "google", "key": "AIza-SECRET-x"},
        "kimi:default": {"type": "api_key", "provider": "kimi-coding", "key": "sk-SECRET-kimi"},
        "openai:default": {"type": "api_key", "provider": "openai", "key": "sk-SECRET-openai"},
    }
    (d / "auth-profiles.json").write_text(json.dumps({"version": 1, "profiles": profiles}))
    cfg = str(_config(tmp_path, state))
    for asked, expected in (
        ("gemini", "google:default"),
        ("google", "google:default"),
        ("kimi", "kimi:default"),
        ("kimi-coding", "kimi:default"),
    ):
        code, out, _ = _status(capsys, "-c", cfg, "--json", "--provider", asked)
        assert code == 0
        assert [r["profile"] for r in json.loads(out)["profiles"]] == [expected], asked


def test_an_unknown_agent_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "oc"
    era_b(state, {}, agent="main")
    code, out, err = _status(capsys, "-c", str(_config(tmp_path, state)), "--agent", "ghost")
    assert code == 2 and out == "" and "agent ghost" in err


def test_a_quota_openclaw_wrote_as_a_rate_limit_gets_the_quota_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenClaw has no word for quota; probed's own verdict says what the person should do."""
    import time as _t

    state = tmp_path / "oc"
    real_now = int(_t.time() * 1000)
    window = {"cooldownUntil": real_now + H, "cooldownReason": "rate_limit"}
    era_b(state, {"anthropic:a": {**window, "lastFailureAt": real_now}})
    cfg = _config(tmp_path, state)
    _, out, _ = _status(capsys, "-c", str(cfg), "--json")
    [before] = [r for r in json.loads(out)["profiles"] if r["profile"] == "anthropic:a"]
    Ledger(tmp_path / "probed-state").record_probe(
        "main", "anthropic:a", None, at=from_ms(real_now), result="quota", next_probe_at=None
    )
    _, out, _ = _status(capsys, "-c", str(cfg), "--json")
    [after] = [r for r in json.loads(out)["profiles"] if r["profile"] == "anthropic:a"]
    assert after["reason"] == "rate_limit"  # what OpenClaw recorded, as it is
    assert "quota" in after["action"] and after["action"] != before["action"]


_HEAVY = ("structlog", "httpx", "asyncio", "apscheduler", "anyio", "email", "ssl")
_IMPORTS_OF_STATUS = """
import sys
from probed.cli import main
code = main(["status", "-c", sys.argv[1]])
print("heavy:", sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2:])))
raise SystemExit(code)
"""


def test_status_imports_no_logging_or_network_library(tmp_path: Path) -> None:
    """`probed status` starts fast: structlog (with asyncio), httpx and the daemon's libraries
    are imported only by what needs them (a record logged, an open repair, the daemon)."""
    state = tmp_path / "oc"
    era_c_agent(state, {"anthropic:a": {"cooldownUntil": NOW + H, "cooldownReason": "billing"}})
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORTS_OF_STATUS, str(_config(tmp_path, state)), *_HEAVY],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "anthropic:a" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "heavy: []"


def test_notes_follow_the_stores_order_of_profiles_not_its_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows with a window are looked at apart from the usable rest; their notes (a time that is
    not a time) still come in the order the store lists its profiles, as they always did."""
    state = tmp_path / "oc"
    bad = {"cooldownUntil": "soon", "cooldownReason": "rate_limit"}
    era_c_agent(
        state,
        {"openrouter:x": bad, "anthropic:b": bad, "anthropic:a": {"lastUsed": NOW}},
        agent="main",
    )
    ledger = Ledger(tmp_path / "probed-state")
    ledger.record_probe(
        "main", "anthropic:a", None, at=from_ms(NOW), result="ok", next_probe_at=None
    )
    assert main(["status", "--json", "-c", str(_config(tmp_path, state))]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [n["message"].split(":")[0:2] for n in doc["notes"]] == [
        ["profile anthropic", "b"],
        ["profile openrouter", "x"],
    ]
    rows = {r["profile"]: r for r in doc["profiles"]}
    assert rows["anthropic:a"]["last_probe_result"] == "ok"  # probed's record, no window
    assert rows["anthropic:b"]["state"] == "ok" and rows["openrouter:x"]["state"] == "ok"


def test_names_that_look_like_format_templates_are_shown_as_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table's lines are laid out with `%` templates: a name holding `%s`, `%%` or braces is
    a value put into one, never part of it."""
    state = tmp_path / "oc"
    d = agent_dir(state, "main")
    names = ["anthropic:%s", "anthropic:100%%", "anthropic:{0}{}"]
    profiles = {n: {"type": "api_key", "provider": "anthropic", "key": SECRETS[0]} for n in names}
    (d / "auth-profiles.json").write_text(json.dumps({"version": 1, "profiles": profiles}))
    usage = {"anthropic:{0}{}": {"cooldownUntil": NOW * 2, "cooldownReason": "rate_limit"}}
    (d / "auth-state.json").write_text(json.dumps({"version": 1, "usageStats": usage}))
    code, out, _ = _status(capsys, "-c", str(_config(tmp_path, state)))
    assert code == 0
    rows = [line.split()[:4] for line in out.splitlines()[3:] if line.startswith("main ")]
    assert sorted(rows) == [
        ["main", "anthropic:%s", "anthropic", "ok"],
        ["main", "anthropic:100%%", "anthropic", "ok"],
        ["main", "anthropic:{0}{}", "anthropic", "cooldown"],
    ]


def _short_duration_by_units(seconds: float) -> str:
    """0.2.0's loop, unit by unit: the reference `short_duration` must agree with."""
    rest = max(0, round(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size}{unit}")
            rest %= size
        if len(parts) == 2:
            break
    return "".join(parts)


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=-10.0, max_value=400 * 86400.0) | st.integers(0, 3 * 86400))
def test_short_duration_shows_the_two_largest_units_not_zero(seconds: float) -> None:
    assert short_duration(seconds) == _short_duration_by_units(seconds)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_until_cell_reads_as_strftime_would(until: datetime) -> None:
    until = until.replace(tzinfo=UTC)
    for now in (until - timedelta(hours=1), until - timedelta(days=400)):  # this year, another
        shape = "%m-%d %H:%M" if until.year == now.year else "%Y-%m-%d %H:%M"
        row = Row("a", "p", "anthropic", "api_key", "cooldown", "rate_limit", until, 1, *[None] * 5)
        assert _until(row, now).startswith(until.strftime(shape) + " (")
