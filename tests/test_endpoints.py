"""Endpoint resolution: [providers.<id>], then openclaw.json, then the built-in table."""

from __future__ import annotations

from pathlib import Path

import pytest

from probed.config import parse_config
from probed.errors import ConfigError
from probed.openclawjson import load_openclaw_json
from probed.probes.endpoints import canonical, openclaw_providers, resolve


def _config(tmp_path: Path, providers: dict | None = None):
    raw = {"openclaw": {"state_dir": str(tmp_path)}}
    if providers:
        raw["providers"] = providers
    return parse_config(raw, None, {"HOME": str(tmp_path)})


def test_builtin_table_and_aliases(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    a = resolve("anthropic", cfg)
    assert (a.api, a.base_url, a.model) == (
        "anthropic",
        "https://api.anthropic.com",
        "claude-haiku-4-5",
    )
    assert a.url("v1/models?limit=1") == "https://api.anthropic.com/v1/models?limit=1"
    g = resolve("gemini", cfg)
    assert g.provider == "google" and g.api == "gemini"
    assert canonical("Kimi-Coding") == "kimi"
    assert resolve("kimi-coding", cfg).base_url == "https://api.kimi.com/coding"
    orr = resolve("openrouter", cfg)
    assert [c.kind for c in orr.free_checks] == ["openrouter_key", "openrouter_credits"]
    assert orr.url("key") == "https://openrouter.ai/api/v1/key"
    ds = resolve("deepseek", cfg)
    assert ds.url("/user/balance") == "https://api.deepseek.com/user/balance"
    assert [c.kind for c in resolve("xai", cfg).free_checks] == ["models", "xai_api_key"]
    assert resolve("moonshot", cfg).url("users/me/balance") == (
        "https://api.moonshot.ai/v1/users/me/balance"
    )
    assert resolve("openai", cfg).url("models") == "https://api.openai.com/v1/models"
    assert resolve("google", cfg).url("v1beta/models") == (
        "https://generativelanguage.googleapis.com/v1beta/models"
    )


def test_config_overrides_win(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path,
        {
            "anthropic": {
                "base_url": "http://127.0.0.1:9/v1",
                "model": "claude-x",
                "models": ["a", "b"],
            }
        },
    )
    a = resolve("anthropic", cfg)
    assert a.base_url == "http://127.0.0.1:9"  # the SDK form: no /v1
    assert a.model == "claude-x" and a.models == ("a", "b") and a.source == "config"


def test_openclaw_json_is_read_as_json5(tmp_path: Path) -> None:
    (tmp_path / "openclaw.json").write_text("""{
      // JSON5: comments, unquoted keys, trailing commas
      models: { providers: {
        litellm: { baseUrl: "http://127.0.0.1:4000", api: "openai-completions",
                   models: [{ id: "claude-opus-4-6" }, { id: "gpt-6-astra" },], },
        google: { baseUrl: "https://generativelanguage.googleapis.com/v1beta" },
        "my-proxy": { baseUrl: "http://127.0.0.1:5000/v1" },
        minimax: { baseUrl: "https://api.minimax.io/anthropic", api: "anthropic-messages" },
        weird: { baseUrl: "http://x", api: "bedrock-converse-stream" },
      } },
    }""")
    cfg = _config(tmp_path)
    oc = openclaw_providers(load_openclaw_json(tmp_path))
    lt = resolve("litellm", cfg, oc)
    assert (lt.api, lt.base_url, lt.source) == ("openai", "http://127.0.0.1:4000", "openclaw.json")
    assert lt.models == ("claude-opus-4-6", "gpt-6-astra")
    assert lt.model == "claude-opus-4-6"
    assert [c.kind for c in lt.free_checks] == ["litellm_key_info"]
    assert lt.url("/key/info") == "http://127.0.0.1:4000/key/info"
    assert resolve("google", cfg, oc).base_url == "https://generativelanguage.googleapis.com"
    custom = resolve("my-proxy", cfg, oc)
    assert custom.api == "openai" and custom.url("models") == "http://127.0.0.1:5000/v1/models"
    assert resolve("minimax", cfg, oc).api == "anthropic"
    with pytest.raises(ConfigError, match="weird"):
        resolve("weird", cfg, oc)
    # probed's own config still wins over openclaw.json
    cfg2 = _config(tmp_path, {"litellm": {"base_url": "http://127.0.0.1:4001/v1", "model": "m0"}})
    lt2 = resolve("litellm", cfg2, oc)
    assert lt2.base_url == "http://127.0.0.1:4001/v1" and lt2.model == "m0"


def test_unknown_provider_without_a_base_url_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'nosuch'.*base_url"):
        resolve("nosuch", _config(tmp_path), {})


def test_unreadable_openclaw_json_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "openclaw.json").write_text("{ not json5 ")
    assert load_openclaw_json(tmp_path) == {}
    assert load_openclaw_json(tmp_path / "missing") == {}


def test_the_table_is_the_provider_specs(tmp_path: Path) -> None:
    """The built-in table moved into probed/providers/: the free checks come from the specs."""
    cfg = _config(tmp_path)
    a = resolve("anthropic", cfg)
    assert [c.kind for c in a.free_checks] == ["models", "anthropic_oauth_usage"]
    usage = a.free_checks[1]
    assert usage.oauth_only and usage.advisory
    assert a.url(usage.path) == "https://api.anthropic.com/api/oauth/usage"
    k = resolve("kimi", cfg)
    assert k.url(k.free_checks[-1].path) == "https://api.kimi.com/coding/v1/usages"
    # newer providers name no default endpoint: classified, and probed once configured
    for pid in ("codex", "zai", "minimax"):
        with pytest.raises(ConfigError, match="no known endpoint"):
            resolve(pid, cfg)
    codex = resolve(
        "codex",
        _config(tmp_path, {"openai-codex": {"base_url": "https://chatgpt.com/backend-api/codex"}}),
    )
    assert codex.provider == "openai-codex"
    assert [c.kind for c in codex.free_checks] == ["codex_usage"]
    assert codex.url("/backend-api/wham/usage") == "https://chatgpt.com/backend-api/wham/usage"
    z = resolve(
        "zai", _config(tmp_path, {"zai": {"base_url": "https://api.z.ai/api/coding/paas/v4"}})
    )
    assert (z.api, z.model) == ("openai", "glm-4.5-flash")
    assert z.url(z.free_checks[-1].path) == "https://api.z.ai/api/monitor/usage/quota/limit"
    # a configured api other than the built-in family's drops the built-in checks and model
    other = resolve("kimi", _config(tmp_path, {"kimi": {"api": "openai"}}))
    assert [c.kind for c in other.free_checks] == ["models"] and other.model is None
