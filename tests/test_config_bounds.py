"""Absurd configuration values are exit 78 naming the key, at `config check` time, never a
traceback nor a failure at the first probe: huge durations, absurd backoffs, 5,000-character
paths, NUL bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from probed.cli import main
from probed.durations import MAX_SECONDS, parse_duration

LONG = "/tmp/" + "a" * 5000
DEEP = "/tmp/" + "b" * 300

CASES = [
    ("probe.timeout", '[probe]\ntimeout = "100000000d"'),
    ("probe.timeout", '[probe]\ntimeout = "1' + "0" * 400 + 's"'),
    ("probe.timeout", '[probe]\ntimeout = "1e400s"'),
    ("probe.timeout", '[probe]\ntimeout = "' + "9" * 5000 + 's"'),
    ("probe.jitter_max", '[probe]\njitter_max = "100000000d"'),
    ("probe.jitter", '[probe]\njitter = "1e400%"'),
    ("probe.concurrency", "[probe]\nconcurrency = 1000000000000"),
    ("backoff.billing.base", '[backoff.billing]\nbase = "100000000d"\ncap = "100000000d"'),
    ("backoff.quota.cap", '[backoff.quota]\ncap = "100000000d"'),
    ("backoff.rate_limit.cap", '[backoff.rate_limit]\nbase = "1s"\ncap = "400d"'),
    ("backoff.auth.cap", '[backoff.auth]\nbase = "1s"\ncap = "40d"'),
    ("daemon.lock_dir", f'[daemon]\nlock_dir = "{LONG}"'),
    ("daemon.state_dir", f'[daemon]\nstate_dir = "{DEEP}"'),
    ("openclaw.state_dir", f'[openclaw]\nstate_dir = "{LONG}"'),
    ("daemon.state_dir", '[daemon]\nstate_dir = "/tmp/x\\u0000y"'),
    ("openclaw.agents", '[openclaw]\nagents = ["' + "c" * 300 + '"]'),
    ("openclaw.agents", '[openclaw]\nagents = ["../escape"]'),
]


@pytest.mark.parametrize(("key", "toml"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)])
def test_config_check_names_the_key(tmp_path: Path, capsys, key: str, toml: str) -> None:
    cfg = tmp_path / "probed.toml"
    cfg.write_text(toml + "\n", encoding="utf-8")
    assert main(["-c", str(cfg), "config", "check"]) == 78
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith(f"probed: {cfg}: {key} "), line
    assert len(line) < 400 and "Traceback" not in err


def test_a_5000_character_config_path_is_one_sentence(tmp_path: Path, capsys) -> None:
    assert main(["-c", LONG, "config", "check"]) == 78
    [line] = capsys.readouterr().err.splitlines()
    assert "configuration file named by -c" in line and len(line) < 400


def test_the_largest_accepted_backoff_still_schedules_a_failed_probe(tmp_path, capsys) -> None:
    from helpers.probestate import KEY_A, billing, write_config, write_store

    from probed.fakeprovider import FakeProvider

    write_store(
        tmp_path / "oc",
        {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
        {"anthropic:default": billing()},
    )
    with FakeProvider() as fake:
        fake.respond(kind="paid", status=402)
        cfg = write_config(
            tmp_path,
            tmp_path / "oc",
            providers={"anthropic": {"base_url": fake.base_url}},
            extra='[backoff.billing]\nbase = "30d"\ncap = "30d"\n',
        )
        assert main(["-c", str(cfg), "config", "check"]) == 0
        assert main(["-c", str(cfg), "probe", "anthropic:default"]) == 75
    out = capsys.readouterr().out
    assert "failed (billing until" in out and "next probe" in out


def test_parse_duration_bounds() -> None:
    assert parse_duration("365d") == MAX_SECONDS
    for bad in ("366d", "1" + "0" * 400 + "s", "9" * 100 + "ms"):
        with pytest.raises(ValueError, match=r"allowed here|characters"):
            parse_duration(bad)
    with pytest.raises(ValueError, match="1m allowed here"):
        parse_duration("2m", maximum=60)
