"""`probed probe` per the contract: outputs, exit codes, targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.probestate import KEY_A, OPENAI_KEY, billing, write_config, write_store

from probed.cli import main
from probed.fakeprovider import FakeProvider

KEYS = (
    "agent",
    "profile",
    "provider",
    "model",
    "outcome",
    "reason",
    "retry_at",
    "until",
    "next_probe_at",
    "message",
    "action",
    "reused",
    "paid",
    "billable",
)


def _setup(tmp_path: Path, fake: FakeProvider, usage: dict | None = None) -> Path:
    write_store(
        tmp_path / "oc",
        {
            "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A},
            "openai:default": {"type": "api_key", "provider": "openai", "key": OPENAI_KEY},
        },
        usage or {},
    )
    write_store(
        tmp_path / "oc",
        {"anthropic:work": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
        {},
        agent="helper",
    )
    return write_config(
        tmp_path,
        tmp_path / "oc",
        providers={
            "anthropic": {"base_url": fake.base_url},
            "openai": {"base_url": fake.base_url + "/v1"},
        },
    )


def test_usable_targets_exit_0_and_send_nothing(tmp_path, capsys) -> None:
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
        assert main(["-c", str(cfg), "probe", "anthropic"]) == 0
        assert fake.counts().total == 0
    out = capsys.readouterr().out
    assert "anthropic:default (main): usable" in out
    assert "anthropic:work (helper): usable" in out


def test_json_shape_and_recovery(tmp_path, capsys) -> None:
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake, {"anthropic:default": billing()})
        assert main(["probe", "anthropic:default", "--json", "-c", str(cfg)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"generated_at", "results"} and doc["generated_at"].endswith("Z")
    [r] = doc["results"]
    assert tuple(r) == KEYS
    assert r["outcome"] == "recovered" and r["paid"] is True and r["reason"] is None


def test_exit_75_for_money_and_77_for_credentials(tmp_path, capsys) -> None:
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake, {"anthropic:default": billing(), "openai:default": billing()})
        fake.respond(kind="paid", status=402)
        assert main(["-c", str(cfg), "probe", "anthropic:default"]) == 75
        line = capsys.readouterr().out
        assert "failed (billing until" in line and " - " in line  # reason, until, action
        fake.respond(credential=OPENAI_KEY, status=401)
        assert main(["-c", str(cfg), "probe", "openai", "--force"]) == 77
        out, err = capsys.readouterr()
    assert KEY_A not in out + err and OPENAI_KEY not in out + err


def test_agent_filter_and_model(tmp_path, capsys) -> None:
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
        assert (
            main(
                [
                    "-c",
                    str(cfg),
                    "probe",
                    "anthropic",
                    "--agent",
                    "helper",
                    "--force",
                    "--model",
                    "claude-x",
                    "--json",
                ]
            )
            == 0
        )
        doc = json.loads(capsys.readouterr().out)
    assert [(r["agent"], r["profile"], r["model"]) for r in doc["results"]] == [
        ("helper", "anthropic:work", "claude-x")
    ]


def test_a_target_that_matches_nothing_is_named(tmp_path, capsys) -> None:
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
        assert main(["-c", str(cfg), "probe", "nosuch:default"]) == 2
    assert "nosuch:default" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["groq"])
def test_a_provider_with_no_profiles_is_not_found(tmp_path, capsys, target) -> None:
    with FakeProvider() as fake:
        cfg = _setup(tmp_path, fake)
        assert main(["-c", str(cfg), "probe", target]) == 2
    assert target in capsys.readouterr().err
