"""The first seed incident against a real LiteLLM proxy (litellm[proxy], pinned in
tests/helpers/litellm.py), as users run it: one master key, two models, no database.

One model's upstream (a real HTTP server on 127.0.0.1) answers 402 with OpenRouter's body; the
other is healthy. OpenClaw disabled the litellm profile for billing after that one model's 402.
`probed probe litellm` must see through the proxy's own `GET /key/info` failure (500: no
database), send a one-token generation per model, and leave the profile usable for the healthy
model with the failing model alone in cooldown, as OpenClaw 2026.5.28 (JSON files) and 2026.9.6
(SQLite: an agent's own database and the shared main store) read the result.

The proxy starts once for the module (9-15 s); each test seeds its own store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.litellm import Deployment, LiteLLMProxy
from helpers.ocstate import AGENT_SCHEMA, SHARED_SCHEMA, compact
from helpers.openclaw import json_pkg, probe_view, sqlite_pkg
from helpers.probestate import LITELLM_KEY, billing, now_ms, write_config, write_store
from helpers.provider_fixtures import provider_errors

from probed.cli import main
from probed.fakeprovider import FakeProvider

pytestmark = [pytest.mark.interop, pytest.mark.slow]

HEALTHY = "gpt-6-astra"
BROKE = "claude-opus-4-6"
PROFILE = "litellm:default"
PROFILES = {PROFILE: {"type": "api_key", "provider": "litellm", "key": LITELLM_KEY}}
ROOT = Path(__file__).resolve().parents[2]


def _openrouter_402() -> dict[str, Any]:
    [case] = [e for e in provider_errors() if e["id"] == "openrouter-402-insufficient-credits"]
    return case


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture(scope="module")
def proxy(
    tmp_path_factory: pytest.TempPathFactory, upstream: FakeProvider
) -> Iterator[LiteLLMProxy]:
    base = upstream.base_url + "/v1"
    deployments = [
        Deployment(HEALTHY, base, "astra-upstream"),
        Deployment(BROKE, base, "opus-upstream"),
    ]
    with LiteLLMProxy(tmp_path_factory.mktemp("litellm"), deployments, LITELLM_KEY) as p:
        yield p


@pytest.fixture
def broke_upstream(upstream: FakeProvider) -> Iterator[FakeProvider]:
    """The upstream with its rules and records reset: opus answers 402, astra is healthy."""
    upstream.reset()
    case = _openrouter_402()
    upstream.respond(model="opus-upstream", status=402, body=case["body"], headers=case["headers"])
    yield upstream
    upstream.reset()


def _openclaw_json(state: Path, proxy: LiteLLMProxy) -> None:
    doc = {
        "models": {
            "mode": "merge",
            "providers": {
                "litellm": {
                    "baseUrl": proxy.url + "/v1",
                    "api": "openai-completions",
                    "models": [{"id": HEALTHY}, {"id": BROKE}],
                }
            },
        },
        "agents": {"defaults": {"model": {"primary": f"litellm/{HEALTHY}"}}},
    }
    (state / "openclaw.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _seed_sqlite_agent(state: Path, agent: str, usage: dict[str, Any]) -> Path:
    d = state / "agents" / agent / "agent"
    d.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(d / "openclaw-agent.sqlite", isolation_level=None)
    conn.executescript(AGENT_SCHEMA)
    conn.execute("PRAGMA user_version = 23")
    conn.execute("PRAGMA journal_mode = WAL")
    store = compact({"version": 1, "profiles": PROFILES})
    conn.execute("INSERT INTO auth_profile_store VALUES ('primary', ?, 1)", (store,))
    state_doc = compact({"version": 1, "usageStats": usage})
    conn.execute("INSERT INTO auth_profile_state VALUES ('primary', ?, 1)", (state_doc,))
    conn.close()
    return d


def _seed_sqlite_shared(state: Path, usage: dict[str, Any]) -> Path:
    (state / "state").mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(state / "state" / "openclaw.sqlite", isolation_level=None)
    conn.executescript(SHARED_SCHEMA)
    conn.execute("PRAGMA user_version = 18")
    conn.execute("PRAGMA journal_mode = WAL")
    rows = {
        "auth.sharedStore": '{"location":"state-db"}',
        "authProfiles.store": compact({"version": 1, "profiles": PROFILES}),
        "authProfiles.state": compact({"version": 1, "usageStats": usage}),
    }
    for key, value in rows.items():
        conn.execute("INSERT INTO config_machine_state VALUES (?, ?, 1)", (key, value))
    conn.close()
    d = state / "agents" / "main" / "agent"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _probe(tmp_path: Path, state: Path) -> tuple[int, dict[str, Any], str]:
    """`probed probe litellm --json` as a user runs it: a real subprocess."""
    cfg = write_config(tmp_path, state, timeout="30s")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROBED_", "OPENCLAW_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "probed", "-c", str(cfg), "probe", "litellm", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert proc.stdout.strip(), f"no output from probed probe; stderr:\n{proc.stderr[-3000:]}"
    return proc.returncode, json.loads(proc.stdout), proc.stdout + proc.stderr


def _assert_outcome(code: int, doc: dict[str, Any], output: str, upstream: FakeProvider) -> None:
    by = {r["model"]: r for r in doc["results"]}
    assert set(by) == {HEALTHY, BROKE}, doc
    assert by[HEALTHY]["outcome"] == "recovered", by[HEALTHY]
    assert by[BROKE]["outcome"] == "failed" and by[BROKE]["reason"] == "billing", by[BROKE]
    assert code == 75  # one model still unavailable for money
    chats = [r for r in upstream.requests if r.path.endswith("/chat/completions")]
    assert sorted((r.model, r.paid) for r in chats) == [
        ("astra-upstream", True),
        ("opus-upstream", True),
    ]
    # one output token, in the field the gateway uses (LiteLLM passes it through unchanged)
    assert all(r.body.get("max_completion_tokens") == 1 for r in chats), [r.body for r in chats]
    assert LITELLM_KEY not in output


def _assert_openclaw_sees(agent_dir: Path, pkg: str, version: str) -> None:
    # inside the window probed wrote: its next probe (20 s, billing's early step) + lead (20 s)
    later = now_ms() + 30_000
    healthy = probe_view(agent_dir, pkg=pkg, now_ms=later, model=HEALTHY)
    broke = probe_view(agent_dir, pkg=pkg, now_ms=later, model=BROKE)
    assert healthy["openclawVersion"] == version
    assert healthy["profiles"][PROFILE]["inCooldown"] is False, healthy["profiles"][PROFILE]
    assert broke["profiles"][PROFILE]["inCooldown"] is True, broke["profiles"][PROFILE]
    stats = healthy["profiles"][PROFILE]["usageStats"]
    assert "disabledUntil" not in stats and "disabledReason" not in stats  # billing lifted
    assert stats.get("cooldownModel") == BROKE  # the failing model alone


def test_the_proxy_without_a_database_cannot_answer_key_info(proxy: LiteLLMProxy) -> None:
    """The premise of the seed incident, on the real proxy: /key/info is the proxy's own 500,
    while the model routes work with the same master key."""
    auth = {"authorization": f"Bearer {LITELLM_KEY}"}
    info = httpx.get(f"{proxy.url}/key/info", headers=auth, timeout=30)
    models = httpx.get(f"{proxy.url}/v1/models", headers=auth, timeout=30)
    assert info.status_code == 500
    assert models.status_code == 200
    assert {m["id"] for m in models.json()["data"]} == {HEALTHY, BROKE}


def test_json_store_recovers_for_the_healthy_model_as_openclaw_5_28_sees_it(
    tmp_path: Path, proxy: LiteLLMProxy, broke_upstream: FakeProvider
) -> None:
    state = tmp_path / "oc"
    agent_dir = write_store(state, PROFILES, {PROFILE: billing()})
    _openclaw_json(state, proxy)
    code, doc, output = _probe(tmp_path, state)
    _assert_outcome(code, doc, output, broke_upstream)
    assert 'GET /key/info HTTP/1.1" 500' in proxy.log_tail(400)  # the free check was asked
    _assert_openclaw_sees(agent_dir, json_pkg(), "2026.5.28")
    cfg = tmp_path / "probed.toml"
    assert main(["-c", str(cfg), "gate", f"litellm/{HEALTHY}"]) == 0
    assert main(["-c", str(cfg), "gate", f"litellm/{BROKE}"]) == 75


@pytest.mark.parametrize("store", ["agent-db", "shared-main-db"])
def test_sqlite_store_recovers_for_the_healthy_model_as_openclaw_9_6_sees_it(
    tmp_path: Path, proxy: LiteLLMProxy, broke_upstream: FakeProvider, store: str
) -> None:
    state = tmp_path / "oc"
    usage = {PROFILE: billing()}
    if store == "agent-db":
        agent_dir = _seed_sqlite_agent(state, "worker", usage)
    else:
        agent_dir = _seed_sqlite_shared(state, usage)
    _openclaw_json(state, proxy)
    code, doc, output = _probe(tmp_path, state)
    _assert_outcome(code, doc, output, broke_upstream)
    _assert_openclaw_sees(agent_dir, sqlite_pkg(), "2026.9.6")
