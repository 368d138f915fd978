"""The configuration schema: defaults, every key, and one sentence naming the key at fault."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from probed.config import (
    DEFAULT_BACKOFF,
    Backoff,
    find_config,
    load_config,
    parse_config,
    resolve_lock_dir,
    resolve_openclaw_dir,
    resolve_state_dir,
    to_toml_dict,
)
from probed.errors import ConfigError
from probed.reasons import Reason

ENV = {"HOME": "/home/alice"}


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> object:
    path = tmp_path / "probed.toml"
    path.write_text(text)
    return load_config(path, env=env or ENV)


def test_defaults_without_a_file() -> None:
    config = parse_config({}, None, ENV)
    assert config.probe.timeout == 20
    assert config.probe.concurrency == 4
    assert config.probe.jitter == pytest.approx(0.10)
    assert config.probe.jitter_max == 30
    assert config.probe.daily_budget == 48
    assert config.openclaw.reload_command == ("openclaw", "secrets", "reload")
    assert config.openclaw.state_dir == Path("/home/alice/.openclaw")
    assert config.daemon.state_dir == Path("/home/alice/.local/state/probed")
    assert config.repair.clamp_stale is True
    assert config.backoff_for(Reason.BILLING) == Backoff(20, 240, early=600)
    assert config.probe.lead == 20
    assert config.backoff_for(Reason.RATE_LIMIT) == Backoff(30, 300)
    assert config.backoff_for(Reason.QUOTA) == Backoff(1800, 21600)
    assert config.backoff_for(Reason.AUTH) == Backoff(5, 240, early=600)
    assert set(config.backoff) == set(Reason)


def test_every_contract_key_is_read(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
[daemon]
log_level = "debug"
log_format = "json"
lock_dir = "/run/x"
state_dir = "/var/lib/x"

[openclaw]
state_dir = "/srv/oc"
agents = ["main", "worker"]
reload_command = []

[probe]
timeout = "250ms"
concurrency = 2
jitter = "0%"
jitter_max = "1h30m"
daily_budget = 0

[backoff.billing]
base = "5m"
cap = "1d"

[repair]
clamp_stale = false

[providers.litellm]
api = "openai"
base_url = "http://127.0.0.1:4000/v1/"
model = "gpt-4o-mini"
""",
    )
    assert config.daemon.log_level == "debug"  # type: ignore[attr-defined]
    assert config.daemon.log_format == "json"  # type: ignore[attr-defined]
    assert config.daemon.lock_dir == Path("/run/x")  # type: ignore[attr-defined]
    assert config.openclaw.agents == ("main", "worker")  # type: ignore[attr-defined]
    assert config.openclaw.reload_command == ()  # type: ignore[attr-defined]
    assert config.probe.timeout == pytest.approx(0.25)  # type: ignore[attr-defined]
    assert config.probe.jitter == 0  # type: ignore[attr-defined]
    assert config.probe.jitter_max == 5400  # type: ignore[attr-defined]
    assert config.probe.daily_budget == 0  # type: ignore[attr-defined]
    assert config.backoff_for(Reason.BILLING) == Backoff(300, 86400, early=600)  # type: ignore[attr-defined]
    # Tables not named keep their defaults.
    assert config.backoff_for(Reason.TIMEOUT) == DEFAULT_BACKOFF[Reason.TIMEOUT]  # type: ignore[attr-defined]
    assert config.repair.clamp_stale is False  # type: ignore[attr-defined]
    litellm = config.providers["litellm"]  # type: ignore[attr-defined]
    assert (litellm.api, litellm.base_url, litellm.model) == (
        "openai",
        "http://127.0.0.1:4000/v1",
        "gpt-4o-mini",
    )


@pytest.mark.parametrize(
    ("text", "key_path"),
    [
        ('[backoff.billing]\ncap = "2x"', "backoff.billing.cap"),
        ("[backoff.billing]\nbase = 600", "backoff.billing.base"),
        ('[backoff.billing]\nbase = "2h"\ncap = "1h"', "backoff.billing.cap"),
        ('[backoff.sadness]\nbase = "1m"', "backoff.sadness"),
        ('[backoff.billing]\nfloor = "1m"', "backoff.billing.floor"),
        ("[probe]\nconcurrency = 0", "probe.concurrency"),
        ('[probe]\nconcurrency = "4"', "probe.concurrency"),
        ('[probe]\njitter = "10"', "probe.jitter"),
        ('[probe]\njitter = "150%"', "probe.jitter"),
        ('[probe]\ntimeout = "0s"', "probe.timeout"),
        ("[probe]\ndaily_budget = -1", "probe.daily_budget"),
        ("[probe]\ntimout = '5s'", "probe.timout"),
        ('[daemon]\nlog_level = "loud"', "daemon.log_level"),
        ('[daemon]\nlog_format = "xml"', "daemon.log_format"),
        ('[openclaw]\nreload_command = "openclaw secrets reload"', "openclaw.reload_command"),
        ("[openclaw]\nagents = [1]", "openclaw.agents"),
        ('[repair]\nclamp_stale = "yes"', "repair.clamp_stale"),
        ('[providers.x]\napi = "soap"', "providers.x.api"),
        ('[providers.x]\nbase_url = "ftp://x"', "providers.x.base_url"),
        ('[providers.x]\ncolour = "red"', "providers.x.colour"),
        ("[surprise]\nx = 1", "surprise"),
        ("probe = 3", "probe"),
    ],
)
def test_errors_name_the_file_and_key_path(tmp_path: Path, text: str, key_path: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    message = str(info.value)
    assert str(tmp_path / "probed.toml") in message
    assert f" {key_path} " in message + " "
    assert "\n" not in message
    assert info.value.exit_code == 78


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"probed\.toml: not valid TOML"):
        load(tmp_path, "[probe\n")


def test_missing_explicit_file_is_an_error_but_missing_default_is_not(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        find_config(tmp_path / "absent.toml", {})
    with pytest.raises(ConfigError, match=r"\$PROBED_CONFIG"):
        find_config(None, {"PROBED_CONFIG": str(tmp_path / "absent.toml")})


def test_probed_config_env_is_used(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[probe]\nconcurrency = 7\n")
    assert find_config(None, {"PROBED_CONFIG": str(path)}) == path
    assert load_config(None, env={"PROBED_CONFIG": str(path)}).probe.concurrency == 7


def test_directory_resolution_follows_the_contract_order() -> None:
    assert resolve_lock_dir("", {"RUNTIME_DIRECTORY": "/run/probed"}) == Path("/run/probed")
    assert resolve_lock_dir("", {"XDG_RUNTIME_DIR": "/run/user/1000"}) == Path(
        "/run/user/1000/probed"
    )
    assert str(resolve_lock_dir("", {})).startswith("/tmp/probed-")
    assert resolve_state_dir("", {"STATE_DIRECTORY": "/var/lib/probed"}) == Path("/var/lib/probed")
    assert resolve_state_dir("", {"XDG_STATE_HOME": "/s", "HOME": "/h"}) == Path("/s/probed")
    assert resolve_state_dir("", {"HOME": "/h"}) == Path("/h/.local/state/probed")
    assert resolve_openclaw_dir("", {"OPENCLAW_STATE_DIR": "/oc", "HOME": "/h"}) == Path("/oc")
    assert resolve_openclaw_dir("", {"HOME": "/h"}) == Path("/h/.openclaw")
    assert resolve_openclaw_dir("/explicit", {"OPENCLAW_STATE_DIR": "/oc"}) == Path("/explicit")


def test_resolved_config_round_trips_through_toml(tmp_path: Path) -> None:
    config = parse_config({}, None, ENV)
    text = tomli_w.dumps(to_toml_dict(config))
    again = parse_config(tomllib.loads(text), None, ENV)
    assert again == config


def test_example_config_documents_every_key_and_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    raw = tomllib.loads(example.read_text())
    config = parse_config(raw, example, ENV)
    shown = to_toml_dict(config)
    for table in ("daemon", "openclaw", "probe", "repair"):
        assert set(raw[table]) == set(shown[table]), table
    assert set(raw["backoff"]) == {str(r) for r in Reason}


@given(
    base=st.integers(min_value=1, max_value=10**6),
    extra=st.integers(min_value=0, max_value=10**6),
    concurrency=st.integers(min_value=1, max_value=64),
)
def test_generated_configs_round_trip(base: int, extra: int, concurrency: int) -> None:
    raw = {
        "probe": {"concurrency": concurrency},
        "backoff": {"quota": {"base": f"{base}s", "cap": f"{base + extra}s"}},
    }
    config = parse_config(raw, None, ENV)
    assert config.backoff_for(Reason.QUOTA) == Backoff(base, base + extra)
    assert parse_config(tomllib.loads(tomli_w.dumps(to_toml_dict(config))), None, ENV) == config


def test_a_config_path_that_is_not_a_file_says_so(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="is not a regular file"):
        load_config(fifo, env={})
    with pytest.raises(ConfigError, match="is not a regular file"):
        load_config(tmp_path, env={})


@pytest.mark.parametrize(
    ("section", "key"),
    [("daemon", "lock_dir"), ("daemon", "state_dir"), ("openclaw", "state_dir")],
)
def test_a_directory_key_pointing_at_a_file_names_the_key(
    tmp_path: Path, section: str, key: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for target, said in ((blocker, "is "), (blocker / "below", "is under ")):
        with pytest.raises(ConfigError) as err:
            load(tmp_path, f'[{section}]\n{key} = "{target}"\n')
        message = str(err.value)
        assert f"{section}.{key} {said}{blocker}, which is not a directory" in message
        assert message.startswith(str(tmp_path / "probed.toml"))


def test_a_directory_that_does_not_exist_yet_is_fine(tmp_path: Path) -> None:
    config = load(tmp_path, f'[daemon]\nlock_dir = "{tmp_path / "later" / "locks"}"\n')
    assert config.daemon.lock_dir == tmp_path / "later" / "locks"  # type: ignore[attr-defined]
