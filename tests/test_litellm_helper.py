"""tests/helpers/litellm.py fails loudly and fast, never skips and never hangs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import litellm
from helpers.litellm import Deployment, LiteLLMProxy


def test_a_missing_proxy_fails_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBED_LITELLM_VENV", str(tmp_path / "nowhere"))
    with pytest.raises(pytest.fail.Exception) as err:
        litellm.require()
    assert "scripts/test" in str(err.value) and litellm.pinned_version() in str(err.value)


def _fake_venv(root: Path, version: str, script: str) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "lib" / "python3.11" / "site-packages" / f"litellm-{version}.dist-info").mkdir(
        parents=True
    )
    exe = root / "bin" / "litellm"
    exe.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    exe.chmod(0o755)
    return root


def test_the_wrong_release_fails_naming_both_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBED_LITELLM_VENV", str(_fake_venv(tmp_path / "v", "1.0.0", "exit 0")))
    with pytest.raises(pytest.fail.Exception) as err:
        litellm.require()
    assert "1.0.0" in str(err.value) and litellm.pinned_version() in str(err.value)


def test_a_proxy_that_dies_at_start_fails_at_once_with_its_log_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = _fake_venv(
        tmp_path / "v",
        litellm.pinned_version(),
        'echo "ImportError: no module named uvicorn (a broken install)"; exit 3',
    )
    monkeypatch.setenv("PROBED_LITELLM_VENV", str(venv))
    proxy = LiteLLMProxy(tmp_path / "run", [Deployment("m", "http://127.0.0.1:9/v1", "u")], "sk-x")
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as err:
        proxy.start()
    assert time.monotonic() - started < 30  # the exit is noticed, the deadline is not waited
    assert "a broken install" in str(err.value)


def test_the_config_has_no_database_and_one_master_key() -> None:
    text = litellm.config_yaml(
        [
            Deployment("a", "http://127.0.0.1:9/v1", "ua"),
            Deployment("b", "http://127.0.0.1:9/v1", "ub"),
        ],
        "sk-master",
    )
    assert "database" not in text.lower()
    assert '"master_key": "sk-master"' in text
    assert '"model": "openai/ua"' in text and '"model_name": "b"' in text
