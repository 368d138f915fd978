"""`[notify]` and `[metrics]` in the configuration: defaults, validation naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from probed.cli import main
from probed.config import parse_config, split_listen, to_toml_dict
from probed.errors import ConfigError


def parse(raw: dict[str, object]) -> object:
    return parse_config(raw, Path("/etc/probed/config.toml"), {"HOME": "/home/x"})


def test_defaults_are_off() -> None:
    c = parse_config({}, None, {"HOME": "/home/x"})
    assert c.notify.urls == () and c.notify.events == ("action_needed", "recovered")
    assert c.metrics.listen == "" and c.metrics.textfile is None and not c.metrics.enabled


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"notify": {"events": ["recovered", "sometimes"]}}, "notify.events must list only"),
        ({"notify": {"urls": "json://x"}}, "notify.urls must be a list of strings"),
        ({"notify": {"urls": ["p4ssw0rd-only"]}}, "notify.urls entry 1 is not an Apprise URL"),
        ({"notify": {"when": []}}, "notify.when is not a known key"),
        ({"metrics": {"listen": "0.0.0.0:9464"}}, "metrics.listen must be a loopback address"),
        ({"metrics": {"listen": "9464"}}, 'metrics.listen must be "host:port"'),
        ({"metrics": {"listen": "127.0.0.1:99999"}}, "metrics.listen port must be 0 to 65535"),
        ({"metrics": {"textfile": "/var/lib/x/probed.txt"}}, "metrics.textfile must name a"),
        ({"metrics": {"port": 1}}, "metrics.port is not a known key"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse(raw)
    assert str(info.value).startswith("/etc/probed/config.toml: ")
    assert "p4ssw0rd" not in str(info.value)


def test_loopback_forms() -> None:
    assert split_listen("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert split_listen("[::1]:0") == ("::1", 0)
    assert split_listen("localhost:9464") == ("localhost", 9464)


def test_config_check_shows_urls_by_scheme_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "c.toml"
    f.write_text(
        '[notify]\nurls = ["ntfys://me:s3cret-t0ken@ntfy.example/alerts"]\n'
        'events = ["action_needed", "recovered", "unavailable"]\n'
        f'[metrics]\nlisten = "127.0.0.1:9464"\ntextfile = "{tmp_path}/probed.prom"\n'
    )
    assert main(["config", "check", "-c", str(f)]) == 0
    out = capsys.readouterr().out
    assert "s3cret-t0ken" not in out and "ntfys://***" in out
    assert 'listen = "127.0.0.1:9464"' in out and "probed.prom" in out
    c = parse_config({"notify": {"urls": ["json://u:pw@h/x"]}}, None, {})
    assert "pw" not in repr(c.notify) and "pw" not in str(to_toml_dict(c))
