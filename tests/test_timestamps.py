"""Out-of-range timestamps in any store field: the profile is named once, the rest goes on.

`1e20`, negative, NaN, Infinity, an int beyond any float, a string: OpenClaw never writes these,
but a store is input. Before 0.2 one of them made `probed status` fail for every profile
(`OSError: Value too large`) and the daemon exit at start-up (a crash loop under systemd)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from helpers.openclawstate import AgentStore, api_key, cooldown, now_ms

from probed.cli import main
from probed.clock import MAX_MS, from_ms, iso_ms, valid_ms
from probed.fakeprovider import FakeProvider
from probed.logs import configure
from probed.model import Usage

BAD: list[Any] = [1e20, -5, float("nan"), float("inf"), 10**30, "1700000000000", True, MAX_MS + 1]
FIELDS = ["cooldownUntil", "disabledUntil", "blockedUntil", "lastFailureAt", "lastUsed"]
KEY_GOOD = "sk-ant-api03-TIMES-0001-aaaaaaaaaaaaaaaa"
KEY_BAD = "sk-ant-api03-TIMES-0002-bbbbbbbbbbbbbbbb"


@pytest.mark.parametrize("value", BAD, ids=repr)
def test_a_value_that_is_not_a_time_is_ignored_and_noted(value: Any) -> None:
    raw = {field: value for field in FIELDS} | {"cooldownReason": "rate_limit"}
    usage = Usage.from_json(raw)
    assert usage.cooldown_until is None and usage.disabled_until is None
    assert usage.last_failure_at is None and usage.recorded() is None
    assert {f for f, _ in usage.invalid} == set(FIELDS)
    note = usage.invalid_note("anthropic:bad")
    assert note is not None and note.startswith("profile anthropic:bad: usageStats.")
    assert not valid_ms(value)
    assert iso_ms(value)  # shown, never raised


def test_zero_and_null_are_unset_not_invalid() -> None:
    assert Usage.from_json({"cooldownUntil": 0, "disabledUntil": None}).invalid == ()


def test_from_ms_refuses_clearly() -> None:
    assert from_ms(MAX_MS).year == 9999
    assert from_ms(1_800_000_000_000) == from_ms(1_800_000_000_000.0)  # an int takes a shortcut
    for bad in (1e20, MAX_MS + 1, -MAX_MS - 1, float("nan")):
        with pytest.raises(ValueError, match="not an epoch-millisecond time"):
            from_ms(bad)


def _stores(tmp_path: Path, era: str, value: Any) -> Path:
    t = now_ms()
    store = AgentStore(tmp_path / "openclaw", "main", era)
    store.write(
        {
            "anthropic:bad": api_key("anthropic", KEY_BAD),
            "anthropic:good": api_key("anthropic", KEY_GOOD),
        },
        {
            "anthropic:bad": {
                "disabledUntil": value,
                "disabledReason": "billing",
                "cooldownUntil": value,
                "cooldownReason": "rate_limit",
                "lastFailureAt": t - 1000,
            },
            "anthropic:good": cooldown(t + 400),
        },
    )
    return tmp_path / "openclaw"


def _config(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "probed.toml"
    path.write_text(
        f"""
[daemon]
log_format = "json"
state_dir = "{tmp_path / "state"}"
lock_dir = "{tmp_path / "locks"}"
[openclaw]
state_dir = "{tmp_path / "openclaw"}"
reload_command = []
[probe]
jitter = "0%"
[providers.anthropic]
base_url = "{base_url}"
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("era", ["B", "C"])
@pytest.mark.parametrize("value", [1e20, -1, float("nan")], ids=repr)
def test_status_shows_every_other_profile_and_names_the_bad_one(
    tmp_path, capsys, era: str, value: float
) -> None:
    _stores(tmp_path, era, value)
    cfg = _config(tmp_path, "http://127.0.0.1:9")
    assert main(["-c", str(cfg), "status", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_id = {p["profile"]: p for p in doc["profiles"]}
    assert set(by_id) == {"anthropic:bad", "anthropic:good"}
    assert by_id["anthropic:good"]["state"] == "cooldown"
    [note] = [n for n in doc["notes"] if "anthropic:bad" in n["message"]]
    assert "usageStats.disabledUntil" in note["message"] and "probed clear" in note["message"]
    assert main(["-c", str(cfg), "status"]) == 0
    out = capsys.readouterr().out
    assert "anthropic:good" in out and "note: agent main: profile anthropic:bad" in out


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("era", ["B", "C"])
async def test_daemon_keeps_serving_the_other_profiles(tmp_path: Path, era: str) -> None:
    from probed.config import load_config
    from probed.daemon import Daemon, DaemonOptions
    from probed.notify import Notifier
    from probed.recover import ProbeResult

    results: list[ProbeResult] = []
    logs = io.StringIO()
    with FakeProvider() as fake:
        _stores(tmp_path, era, 1e20)
        cfg = _config(tmp_path, fake.base_url)
        stop = anyio.Event()
        daemon = Daemon(
            load_config(cfg, env={}),
            config_path=cfg,
            notifier=Notifier(env={}),
            options=DaemonOptions(spread_s=0.1, on_result=results.append, stop=stop, rescan_s=0.3),
        )
        codes: list[int] = []
        async with anyio.create_task_group() as tg:

            async def serve() -> None:
                configure("info", "json", stream=logs)
                codes.append(await daemon.run())

            tg.start_soon(serve)
            with anyio.fail_after(20):
                while not any(r.profile == "anthropic:good" and r.usable for r in results):
                    await anyio.sleep(0.02)
                while logs.getvalue().count('"store_value_invalid"') < 1:
                    await anyio.sleep(0.02)
                await anyio.sleep(0.8)  # a few more passes: said once, not once per pass
            stop.set()
    configure("info", "console", stream=io.StringIO())
    assert codes == [0]
    events = [json.loads(line) for line in logs.getvalue().splitlines()]
    invalid = [e for e in events if e["event"] == "store_value_invalid"]
    assert len(invalid) == 1 and invalid[0]["profile"] == "anthropic:bad"
    assert not [e for e in events if e.get("level") in ("error", "critical")]
