"""probed's request builders against what the real gateway sends (pure, fast).

tests/fixtures/gateway-requests/openclaw-2026.9.6.json is a recording of a running OpenClaw
2026.9.6 gateway's agent requests to the direct Anthropic API, reduced to the fields that
decide routing, billing bucket and verdict (made by record.py beside it, ~2 min, too slow for
every CI run). tests/e2e/test_request_shapes_live.py records OpenClaw's own probe live on every run
for the other credential kinds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from helpers.shapes import ANTHROPIC_MODEL, KEY_API, KEY_OAT, deciding

from probed.config import parse_config
from probed.probes import anthropic, openai
from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint, openclaw_providers, resolve
from probed.probes.gatewaymodel import agent_model_refs, gateway_model

FIXTURE = Path(__file__).parent / "fixtures" / "gateway-requests" / "openclaw-2026.9.6.json"
CFG = parse_config({}, None, {"HOME": "/nonexistent"})


def _gateway(kind: str) -> dict[str, Any]:
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return dict(doc["requests"][kind])


def _anthropic(secret: Secret, endpoint: Endpoint, model: str) -> dict[str, Any]:
    request = anthropic.generation(endpoint, model, secret)
    parts = urlsplit(request.url)
    return deciding(
        parts.netloc, parts.path, anthropic.headers(secret, endpoint), request.json_body
    )


@pytest.mark.parametrize(
    ("kind", "secret"),
    [
        ("anthropic-api-key", Secret(KEY_API, oauth=False)),
        ("anthropic-token", Secret(KEY_OAT, oauth=True)),
    ],
)
def test_direct_anthropic_probe_is_the_gateways_request(kind: str, secret: Secret) -> None:
    direct = resolve("anthropic", CFG, {})
    assert direct.base_url == "https://api.anthropic.com"
    assert _anthropic(secret, direct, ANTHROPIC_MODEL) == _gateway(kind)


def test_the_gateway_recording_holds_what_the_issue_names() -> None:
    key, token = _gateway("anthropic-api-key"), _gateway("anthropic-token")
    assert key["service_tier"] == token["service_tier"] == "standard_only"
    assert token["billing_betas"] == ["claude-code-20250219", "oauth-2025-04-20"]
    assert token["x_app"] == "cli" and token["claude_cli_agent"] == "claude-cli/2.1.278"
    assert len(token["claude_code_system"]) == 2


def test_a_subscription_token_through_a_proxy_gets_the_identity_but_no_betas() -> None:
    """As the gateway: the betas go only to the direct API; the identity goes everywhere."""
    proxy = resolve(
        "anthropic",
        parse_config({"providers": {"anthropic": {"base_url": "http://p:1"}}}, None, {}),
        {},
    )
    shape = _anthropic(Secret(KEY_OAT, oauth=True), proxy, ANTHROPIC_MODEL)
    assert shape["billing_betas"] == [] and shape["x_app"] == "cli"
    assert len(shape["claude_code_system"]) == 2 and shape["service_tier"] is None


def test_no_service_tier_for_models_without_a_priority_tier() -> None:
    direct = resolve("anthropic", CFG, {})
    for model in ("claude-opus-5", "claude-sonnet-5-20261001"):
        assert _anthropic(Secret(KEY_API, oauth=False), direct, model)["service_tier"] is None
    assert _anthropic(Secret(KEY_API, oauth=False), direct, "claude-opus-4-6")["service_tier"]


def test_a_bearer_token_that_is_no_subscription_keeps_the_sdk_beta() -> None:
    h = anthropic.headers(Secret("tok-SECRET-0009-zzzz", oauth=True), resolve("anthropic", CFG, {}))
    assert h["anthropic-beta"] == "oauth-2025-04-20" and "x-app" not in h


@pytest.mark.parametrize(
    ("provider", "base_url", "field"),
    [
        ("openai", "https://api.openai.com/v1", "max_completion_tokens"),
        ("litellm", "http://127.0.0.1:4000/v1", "max_completion_tokens"),
        ("my-proxy", "http://127.0.0.1:5000/v1", "max_completion_tokens"),
        ("openrouter", "https://openrouter.ai/api/v1", "max_completion_tokens"),
        ("mistral", "https://api.mistral.ai/v1", "max_tokens"),
        ("moonshot", "https://api.moonshot.ai/v1", "max_tokens"),
        ("my-mistral", "https://api.mistral.ai/v1", "max_tokens"),
    ],
)
def test_the_token_limit_goes_in_the_gateways_field(
    provider: str, base_url: str, field: str
) -> None:
    cfg = parse_config({"providers": {provider: {"base_url": base_url, "api": "openai"}}}, None, {})
    endpoint = resolve(provider, cfg, {})
    body = openai.generation(endpoint, "m").json_body
    assert body is not None and body[field] == 1
    other = {"max_tokens", "max_completion_tokens"} - {field}
    assert not other & body.keys()


def _openclaw(providers: dict[str, Any]) -> dict[str, Any]:
    return openclaw_providers({"models": {"providers": providers}})


def test_a_base_url_without_api_is_spoken_as_the_gateway_speaks_it() -> None:
    oc = _openclaw(
        {
            "kimi": {"baseUrl": "http://127.0.0.1:9/kimi", "models": [{"id": "kimi-for-coding"}]},
            "google": {"baseUrl": "https://generativelanguage.googleapis.com/v1beta"},
            "anthropic": {"baseUrl": "http://127.0.0.1:9"},
            "my-proxy": {"baseUrl": "http://127.0.0.1:9/v1"},
        }
    )
    kimi = resolve("kimi", CFG, oc)
    assert (kimi.api, kimi.model) == ("openai", "kimi-for-coding")
    assert kimi.url("chat/completions") == "http://127.0.0.1:9/kimi/chat/completions"
    assert resolve("google", CFG, oc).api == "gemini"  # its own host: its own API
    assert resolve("anthropic", CFG, oc).api == "anthropic"  # always Messages
    assert resolve("my-proxy", CFG, oc).api == "openai"
    assert resolve("kimi", CFG, {}).api == "anthropic"  # the built-in Kimi Code endpoint


@pytest.mark.parametrize(
    ("doc", "agent", "provider", "model"),
    [
        (
            {"agents": {"defaults": {"model": "anthropic/claude-x"}}},
            "main",
            "anthropic",
            "claude-x",
        ),
        (
            {
                "agents": {
                    "defaults": {
                        "model": {"primary": "openai/gpt-y", "fallbacks": ["anthropic/c-z"]}
                    }
                }
            },
            "main",
            "anthropic",
            "c-z",
        ),
        (
            {
                "agents": {
                    "defaults": {"model": "anthropic/claude-default"},
                    "list": [{"id": "Worker", "model": {"primary": "anthropic/claude-own"}}],
                }
            },
            "worker",
            "anthropic",
            "claude-own",
        ),
        (
            {"agents": {"entries": {"ops": {"model": "openrouter/qwen/qwen3:free"}}}},
            "ops",
            "openrouter",
            "qwen/qwen3:free",
        ),
        (
            {"agents": {"defaults": {"model": "gemini/gemini-2.5-pro"}}},
            "main",
            "google",
            "gemini-2.5-pro",
        ),
        ({"agents": {"defaults": {"model": "openai/gpt-y"}}}, "main", "anthropic", None),
        ({}, "main", "anthropic", None),
        ({"agents": {"defaults": {"model": 7}}}, "main", "anthropic", None),
    ],
)
def test_the_model_the_gateway_would_use(
    doc: dict[str, Any], agent: str, provider: str, model: str | None
) -> None:
    assert gateway_model(doc, agent, provider) == model


def test_an_agents_own_models_come_before_the_defaults() -> None:
    doc = {
        "agents": {
            "defaults": {"model": {"primary": "a/1", "fallbacks": ["b/2"]}},
            "entries": {"w": {"model": {"primary": "c/3", "fallbacks": ["a/1"]}}},
        }
    }
    assert agent_model_refs(doc, "w") == ("c/3", "a/1", "b/2")
    assert agent_model_refs(doc, "main") == ("a/1", "b/2")


def test_probed_probe_asks_for_the_agents_model_not_the_built_in_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from helpers.probestate import KEY_A, billing, write_config, write_store

    from probed.cli import main
    from probed.fakeprovider import FakeProvider

    oc = tmp_path / "oc"
    profiles = {"anthropic:a": {"type": "api_key", "provider": "anthropic", "key": KEY_A}}
    write_store(oc, profiles, {"anthropic:a": billing()})
    doc = {"agents": {"defaults": {"model": {"primary": "anthropic/claude-sonnet-4-5"}}}}
    (oc / "openclaw.json").write_text(json.dumps(doc), encoding="utf-8")
    with FakeProvider() as fake:
        cfg = write_config(tmp_path, oc, providers={"anthropic": {"base_url": fake.base_url}})
        code = main(["-c", str(cfg), "probe", "anthropic", "--json"])
        paid = [r.model for r in fake.requests if r.paid]
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and paid == ["claude-sonnet-4-5"]
    assert [r["model"] for r in out["results"]] == ["claude-sonnet-4-5"]
