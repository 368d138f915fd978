"""Record what the real OpenClaw sends upstream, and reduce a request to the fields that decide
its routing, its billing bucket and the provider's verdict, so that probed's probe can be
compared with it field by field.

Two recorders of the real OpenClaw 2026.9.6, both offline (tests/helpers/recorder.py answers
on 127.0.0.1; the direct APIs come through it as OpenClaw's forward proxy with a test CA):

- `record_cli_probe`: `openclaw models status --probe`, OpenClaw's own minimal probe, which
  runs the gateway's model transport (identity headers, betas, token field, endpoint choice)
  for every profile: ~15-60 s, so tests/e2e/test_request_shapes_live.py records it on every run.
- `record_gateway`: a real `openclaw gateway run` answering a chat (~2 min on a loaded
  machine): its agent request adds what only the agent path sets (`service_tier`). Too slow
  for every CI run; tests/fixtures/gateway-requests/record.py writes its reduction to
  tests/fixtures/gateway-requests/, which tests/test_request_shapes.py pins probed against.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from helpers.gateway import Gateway, GatewaySpec, ProviderSpec
from helpers.openclaw import node, require, sqlite_pkg
from helpers.recorder import Captured, Recorder

# Fake credentials in the shapes the providers use; long enough for OpenClaw's own checks.
KEY_API = "sk-ant-api03-RECORD-0001-" + "a" * 40
KEY_OAT = "sk-ant-oat01-RECORD-0002-" + "b" * 80 + "-AA"
KEY_OPENAI = "sk-proj-RECORD-0003-" + "c" * 40
KEY_GEMINI = "AIzaRECORD0004" + "d" * 25
KEY_KIMI = "sk-kimi-RECORD-0005-" + "e" * 40
SECRETS = (KEY_API, KEY_OAT, KEY_OPENAI, KEY_GEMINI, KEY_KIMI)

ANTHROPIC_MODEL = "claude-haiku-4-5"
GEMINI_MODEL = "gemini-2.5-flash"
OPENAI_MODEL = "gpt-x-mini"
KIMI_MODEL = "kimi-for-coding"

# The betas that choose the billing bucket (Claude subscription vs API); the others the gateway
# adds (fine-grained tool streaming, interleaved thinking, context management) shape features a
# probe does not use.
BILLING_BETAS = frozenset({"claude-code-20250219", "oauth-2025-04-20"})


def deciding(host: str, path: str, headers: Mapping[str, str], body: Any) -> dict[str, Any]:
    """The fields that decide where a request goes, which bucket pays, and what is answered."""
    h = {k.lower(): v for k, v in headers.items()}
    b = body if isinstance(body, dict) else {}
    auth = None
    if "x-api-key" in h:
        auth = "x-api-key"
    elif h.get("authorization", "").lower().startswith("bearer "):
        auth = "bearer"
    elif "x-goog-api-key" in h:
        auth = "x-goog-api-key"
    route = urlsplit(path).path.replace(":streamGenerateContent", ":generateContent")
    model = b.get("model")
    if model is None and "/models/" in route:
        model = route.split("/models/", 1)[1].split(":", 1)[0]
    token_field = next((f for f in ("max_tokens", "max_completion_tokens") if f in b), None)
    if token_field is None and isinstance(b.get("generationConfig"), dict):
        token_field = "maxOutputTokens" if "maxOutputTokens" in b["generationConfig"] else None
    system = b.get("system")
    leading: list[str] = []
    if (
        isinstance(system, list)
        and system
        and isinstance(system[0], dict)
        and str(system[0].get("text", "")).startswith("x-anthropic-billing-header")
    ):
        leading = [str(block.get("text")) for block in system[:2] if isinstance(block, dict)]
    agent = h.get("user-agent", "")
    return {
        "host": host.split(":", maxsplit=1)[0],
        "route": route,
        "auth": auth,
        "anthropic_version": h.get("anthropic-version"),
        "billing_betas": sorted(set(h.get("anthropic-beta", "").split(",")) & BILLING_BETAS),
        "x_app": h.get("x-app"),
        "claude_cli_agent": agent if agent.startswith("claude-cli/") else None,
        "model": model,
        "service_tier": b.get("service_tier"),
        "token_field": token_field,
        "claude_code_system": leading,
    }


def deciding_captured(c: Captured) -> dict[str, Any]:
    return deciding(c.headers.get("host", ""), c.path, c.headers, c.body)


def generations(recorder: Recorder) -> list[Captured]:
    """The POSTs that are model requests (not telemetry, catalogs or plugin feeds)."""
    routes = ("/messages", "/chat/completions", "generatecontent")
    return [c for c in recorder.generations() if any(r in c.path.lower() for r in routes)]


def _model(model_id: str) -> dict[str, Any]:
    return {
        "id": model_id,
        "name": model_id,
        "reasoning": False,
        "input": ["text"],
        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
        "contextWindow": 128000,
        "maxTokens": 4096,
    }


def _run(args: list[str], env: Mapping[str, str], *, stdin: str = "", timeout: float = 240):
    return subprocess.run(
        args,
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=timeout,
        check=False,
    )


def record_cli_probe(root: Path, recorder: Recorder) -> dict[str, Any]:
    """`openclaw models status --probe` (2026.9.6) for five credential kinds, through
    `recorder` (which must intercept TLS). Returns OpenClaw's probe results; the requests are
    in the recorder. Profiles: anthropic:key (api_key), anthropic:sub (token, sk-ant-oat),
    google:default (api_key, direct API), myproxy:default (a custom provider with a baseUrl
    and no api), kimi:default (the built-in kimi id with a baseUrl and no api)."""
    pkg = sqlite_pkg()
    require(pkg)
    cli = [node(), str(Path(pkg) / "openclaw.mjs")]
    state, home = root / "state", root / "home"
    state.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{Path(node()).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "OPENCLAW_STATE_DIR": str(state),
        "NO_COLOR": "1",
    }
    base = {"update": {"checkOnStart": False}, "logging": {"file": str(root / "openclaw.log")}}
    (state / "openclaw.json").write_text(json.dumps(base), encoding="utf-8")
    # One real paste creates OpenClaw's own database; the other profiles join its store row.
    paste_args = ("models", "auth", "paste-api-key", "--provider", "anthropic")
    paste = _run(
        [*cli, *paste_args, "--profile-id", "anthropic:key"],
        env,
        stdin=KEY_API + "\n",
    )
    if paste.returncode != 0:
        raise AssertionError(f"openclaw models auth paste-api-key failed: {_tail(paste)}")
    db = state / "state" / "openclaw.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        row = conn.execute(
            "SELECT value_json FROM config_machine_state WHERE state_key='authProfiles.store'"
        ).fetchone()
        store = json.loads(row[0])
        store["profiles"].update(
            {
                "anthropic:sub": {"type": "token", "provider": "anthropic", "token": KEY_OAT},
                "google:default": {"type": "api_key", "provider": "google", "key": KEY_GEMINI},
                "myproxy:default": {"type": "api_key", "provider": "myproxy", "key": KEY_OPENAI},
                "kimi:default": {"type": "api_key", "provider": "kimi", "key": KEY_KIMI},
            }
        )
        conn.execute(
            "UPDATE config_machine_state SET value_json=? WHERE state_key='authProfiles.store'",
            (json.dumps(store, separators=(",", ":")),),
        )
    finally:
        conn.close()
    config = json.loads((state / "openclaw.json").read_text(encoding="utf-8"))
    config["models"] = {
        "mode": "merge",
        "providers": {
            "myproxy": {"baseUrl": recorder.base_url + "/v1", "models": [_model(OPENAI_MODEL)]},
            "kimi": {"baseUrl": recorder.base_url + "/kimi", "models": [_model(KIMI_MODEL)]},
        },
    }
    config["agents"] = {
        "defaults": {
            "model": {
                "primary": f"anthropic/{ANTHROPIC_MODEL}",
                "fallbacks": [f"google/{GEMINI_MODEL}"],
            }
        }
    }
    (state / "openclaw.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    env |= {"OPENCLAW_PROXY_URL": recorder.proxy_url, "NODE_EXTRA_CA_CERTS": str(recorder.ca_file)}
    proc = _run([*cli, "models", "status", "--probe", "--json", "--probe-timeout", "60000"], env)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(f"openclaw models status --probe failed: {_tail(proc)}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _tail(proc: subprocess.CompletedProcess[str]) -> str:
    text = f"exit {proc.returncode}\n{proc.stdout[-1500:]}\n{proc.stderr[-2500:]}"
    for secret in SECRETS:
        text = text.replace(secret, "<credential>")
    return text


class RecordingGateway(Gateway):
    """The gateway harness with OpenClaw's built-in anthropic provider (no baseUrl: the direct
    API, reached through the recorder as forward proxy) and two profiles, an API key first and
    a Claude subscription token second."""

    def __init__(self, root: Path, recorder: Recorder) -> None:
        spec = GatewaySpec(
            providers=(
                ProviderSpec(
                    "anthropic",
                    profiles=("anthropic:key", "anthropic:sub"),
                    models=(ANTHROPIC_MODEL,),
                ),
            ),
            warm=False,
        )
        super().__init__(root, spec, recorder.base_url)
        self._keys = {"anthropic:key": KEY_API, "anthropic:sub": KEY_OAT}
        self.env.update(
            {"OPENCLAW_PROXY_URL": recorder.proxy_url, "NODE_EXTRA_CA_CERTS": str(recorder.ca_file)}
        )

    def _config(self) -> dict[str, Any]:
        config = super()._config()
        config["models"]["providers"].pop("anthropic")
        config["auth"]["profiles"]["anthropic:sub"]["mode"] = "token"
        return config

    def _paste_key(self, provider: str, profile_id: str) -> None:
        if profile_id != "anthropic:sub":
            super()._paste_key(provider, profile_id)
            return
        proc = self.openclaw(
            "models", "auth", "paste-token", "--provider", provider, "--profile-id", profile_id,
            input=self._keys[profile_id] + "\n",
        )  # fmt: skip
        if proc.returncode != 0:
            raise AssertionError(f"openclaw models auth paste-token failed: {_tail(proc)}")


def record_gateway(root: Path) -> dict[str, Any]:
    """One chat through a real 2026.9.6 gateway whose API key is out of credit (a 402), so the
    same request rotates to the subscription token: both agent requests are recorded."""

    def refuse(c: Captured) -> tuple[int, str] | None:
        if c.method == "POST" and c.headers.get("x-api-key"):
            return 402, json.dumps(
                {
                    "type": "error",
                    "error": {
                        "type": "billing_error",
                        "message": "Your credit balance is too low to access the Anthropic API.",
                    },
                }
            )
        return None

    with Recorder(secrets=SECRETS, tls_dir=root / "tls", refuse=refuse) as rec:
        gw = RecordingGateway(root / "gateway", rec)
        try:
            gw.prepare()
            gw.start()
            chat = gw.chat("hello")
        finally:
            gw.stop()
        if not chat.ok:
            raise AssertionError(f"the chat through the gateway failed: {chat}\n{gw.log_tail()}")
        agent = [
            c
            for c in generations(rec)
            if isinstance(c.body, dict) and isinstance(c.body.get("tools"), list)
        ]
    by_kind = {}
    for c in agent:
        kind = "anthropic-api-key" if c.headers.get("x-api-key") else "anthropic-token"
        by_kind.setdefault(kind, deciding_captured(c))
    return {
        "openclaw": "2026.9.6",
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        "how": "tests/fixtures/gateway-requests/record.py (helpers.shapes.record_gateway)",
        "requests": by_kind,
    }
