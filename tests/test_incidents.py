"""The two seed incidents, reproduced end to end through `probed probe`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.probestate import (
    ALL_SECRETS,
    KEY_A,
    LITELLM_KEY,
    OAUTH_OK,
    TOKEN_BAD,
    billing,
    now_ms,
    read_usage,
    write_config,
    write_store,
)

from probed.cli import main
from probed.config import load_config
from probed.fakeprovider import FakeProvider
from probed.model import Usage
from probed.stores.discover import discover


def test_a_broken_manual_token_no_longer_takes_the_healthy_oauth_profile_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oc = tmp_path / "oc"
    write_store(
        oc,
        {
            "anthropic:manual": {"type": "token", "provider": "anthropic", "token": TOKEN_BAD},
            "anthropic:me@example.com": {
                "type": "oauth",
                "provider": "anthropic",
                "access": OAUTH_OK,
                "refresh": "r-SECRET",
                "expires": now_ms() + 3600_000,
            },
        },
        {"anthropic:manual": billing(), "anthropic:me@example.com": billing()},
    )
    with FakeProvider() as fake:
        fake.respond(
            credential=TOKEN_BAD,
            status=401,
            body='{"type":"error","error":{"type":"authentication_error",'
            '"message":"Invalid bearer token"}}',
        )
        cfg = write_config(tmp_path, oc, providers={"anthropic": {"base_url": fake.base_url}})
        code = main(["-c", str(cfg), "probe", "anthropic", "--json"])
        out = capsys.readouterr()
        assert fake.counts().paid == 1  # only the healthy profile needed (and got) a paid probe
    assert code == 77
    doc = json.loads(out.out)
    by = {r["profile"]: r for r in doc["results"]}
    assert by["anthropic:me@example.com"]["outcome"] == "recovered"
    assert by["anthropic:manual"]["outcome"] == "failed"
    assert by["anthropic:manual"]["reason"] in ("auth", "auth_permanent")
    healthy = read_usage(oc, "anthropic:me@example.com")
    assert "disabledUntil" not in healthy and "disabledReason" not in healthy
    broken = read_usage(oc, "anthropic:manual")
    assert broken.get("disabledReason") != "billing" and broken.get("cooldownReason") != "billing"
    assert (broken.get("disabledReason") or broken.get("cooldownReason")) in (
        "auth",
        "auth_permanent",
    )
    for secret in (*ALL_SECRETS, "r-SECRET"):
        assert secret not in out.out and secret not in out.err


def test_one_models_402_behind_an_aggregator_leaves_the_working_model_usable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oc = tmp_path / "oc"
    write_store(
        oc,
        {"litellm:default": {"type": "api_key", "provider": "litellm", "key": LITELLM_KEY}},
        {"litellm:default": billing()},
    )
    with FakeProvider() as fake:
        (oc / "openclaw.json").write_text(
            f"{{ models: {{ providers: {{ litellm: {{ baseUrl: '{fake.base_url}',"
            " api: 'openai-completions',"
            " models: [{ id: 'claude-opus-4-6' }, { id: 'gpt-6-astra' }] } } } }"
        )
        fake.respond(
            model="claude-opus-4-6",
            status=402,
            body='{"error":{"message":"litellm.BadRequestError: AnthropicException - '
            'Your credit balance is too low to access the Anthropic API.",'
            '"type":"invalid_request_error","param":null,"code":"402"}}',
        )
        cfg = write_config(tmp_path, oc)
        code = main(["-c", str(cfg), "probe", "litellm", "--json"])
        out = capsys.readouterr()
        assert fake.counts().paid == 2
    doc = json.loads(out.out)
    by = {r["model"]: r for r in doc["results"]}
    assert by["gpt-6-astra"]["outcome"] == "recovered"
    assert by["claude-opus-4-6"]["outcome"] == "failed"
    assert code == 75
    [store] = discover(load_config(cfg).openclaw)
    usage = store.read().usage("litellm:default")
    assert isinstance(usage, Usage)
    assert usage.view("litellm", now_ms(), for_model="gpt-6-astra").usable
    assert not usage.view("litellm", now_ms(), for_model="claude-opus-4-6").usable
    gate = main(["-c", str(cfg), "gate", "litellm/gpt-6-astra"])
    assert gate == 0
    assert main(["-c", str(cfg), "gate", "litellm/claude-opus-4-6"]) == 75
    assert KEY_A not in out.out and LITELLM_KEY not in out.out + out.err
