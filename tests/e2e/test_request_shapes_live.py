"""probed's probe carries the fields that decide routing, billing bucket and verdict exactly as
the real OpenClaw 2026.9.6 sends them, credential kind by credential kind.

Recorded on every run (once per module, ~15-60 s): OpenClaw's own minimal probe, `openclaw
models status --probe`, which runs the gateway's model transport, through a recording server
on 127.0.0.1 (tests/helpers/recorder.py): the direct APIs (api.anthropic.com,
generativelanguage.googleapis.com) reach it as OpenClaw's forward proxy with a throw-away test
CA, the OpenAI-compatible ones by `baseUrl`. probed reads the same `openclaw.json` and builds
its probe for the same profiles; the two reductions (tests/helpers/shapes.py `deciding`) must
be equal. The one field this path does not show, `service_tier` (set by the gateway's agent
path only), is pinned against a recording of a running gateway in tests/test_request_shapes.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from helpers.recorder import Recorder
from helpers.shapes import (
    ANTHROPIC_MODEL,
    GEMINI_MODEL,
    KEY_API,
    KEY_GEMINI,
    KEY_KIMI,
    KEY_OAT,
    KEY_OPENAI,
    KIMI_MODEL,
    OPENAI_MODEL,
    SECRETS,
    deciding,
    deciding_captured,
    generations,
    record_cli_probe,
)

from probed.config import parse_config
from probed.openclawjson import load_openclaw_json
from probed.probes.credentials import Secret
from probed.probes.endpoints import openclaw_providers, resolve
from probed.probes.gatewaymodel import gateway_model
from probed.probes.http import make_http_client
from probed.probes.ladder import run_ladder
from probed.providers.family import family as family_for

pytestmark = [pytest.mark.interop, pytest.mark.slow]


KINDS = ("anthropic-api-key", "anthropic-token", "gemini", "openai-compatible", "kimi-base-url")


def _kind(d: dict[str, Any]) -> str:
    if d["host"] == "api.anthropic.com":
        return "anthropic-api-key" if d["auth"] == "x-api-key" else "anthropic-token"
    if d["host"] == "generativelanguage.googleapis.com":
        return "gemini"
    return "kimi-base-url" if d["route"].startswith("/kimi/") else "openai-compatible"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("shapes")
    with Recorder(secrets=SECRETS, tls_dir=root / "tls") as rec:
        probe = record_cli_probe(root, rec)
        by: dict[str, dict[str, Any]] = {}
        for c in generations(rec):
            d = deciding_captured(c)
            by.setdefault(_kind(d), d)
        missing = [k for k in KINDS if k not in by]
        assert not missing, f"OpenClaw sent nothing for {missing}; its probe said {probe}"
        yield {"by": by, "state": root / "state", "recorder": rec}


# (kind, provider id, secret, sent as a bearer token)
CASES = [
    ("anthropic-api-key", "anthropic", KEY_API, False),
    ("anthropic-token", "anthropic", KEY_OAT, True),
    ("gemini", "google", KEY_GEMINI, False),
    ("openai-compatible", "myproxy", KEY_OPENAI, False),
    ("kimi-base-url", "kimi", KEY_KIMI, False),
]


def _probed(state: Path, provider: str, secret: Secret) -> dict[str, Any]:
    """probed's own probe for this provider, from the same openclaw.json OpenClaw used."""
    cfg = parse_config({}, None, {"HOME": "/nonexistent"})
    doc = load_openclaw_json(state)
    endpoint = resolve(provider, cfg, openclaw_providers(doc))
    model = gateway_model(doc, "main", provider) or endpoint.model
    assert model is not None
    family = family_for(endpoint.api)
    request = family.generation(endpoint, model, secret)
    parts = urlsplit(request.url)
    return deciding(parts.netloc, parts.path, family.headers(secret, endpoint), request.json_body)


@pytest.mark.parametrize(("kind", "provider", "key", "bearer"), CASES, ids=[c[0] for c in CASES])
def test_probed_sends_what_the_gateway_sends(
    recording: dict[str, Any], kind: str, provider: str, key: str, bearer: bool
) -> None:
    theirs = dict(recording["by"][kind])
    ours = _probed(recording["state"], provider, Secret(key, oauth=bearer))
    if kind.startswith("anthropic"):
        # `models status --probe` is not the agent path: the gateway's agent requests add
        # service_tier (pinned against the gateway recording in tests/test_request_shapes.py).
        assert theirs["service_tier"] is None and ours["service_tier"] == "standard_only"
        theirs.pop("service_tier"), ours.pop("service_tier")
    assert ours == theirs


def test_the_recording_shows_what_the_issue_names(recording: dict[str, Any]) -> None:
    """The facts themselves, so a change in OpenClaw's shapes shows here by name."""
    by = recording["by"]
    token = by["anthropic-token"]
    assert token["auth"] == "bearer" and token["x_app"] == "cli"
    assert token["billing_betas"] == ["claude-code-20250219", "oauth-2025-04-20"]
    assert token["claude_cli_agent"].startswith("claude-cli/")
    assert token["claude_code_system"][0].startswith("x-anthropic-billing-header: cc_version=")
    assert token["claude_code_system"][1] == (
        "You are Claude Code, Anthropic's official CLI for Claude."
    )
    assert by["anthropic-api-key"]["auth"] == "x-api-key"
    assert by["anthropic-api-key"]["billing_betas"] == []
    assert by["anthropic-api-key"]["claude_code_system"] == []
    assert by["openai-compatible"]["route"] == "/v1/chat/completions"
    assert by["openai-compatible"]["token_field"] == "max_completion_tokens"
    assert by["kimi-base-url"]["route"] == "/kimi/chat/completions"  # not Anthropic Messages
    assert by["gemini"]["auth"] == "x-goog-api-key"
    models = {k: by[k]["model"] for k in KINDS}
    assert models == {
        "anthropic-api-key": ANTHROPIC_MODEL,
        "anthropic-token": ANTHROPIC_MODEL,
        "gemini": GEMINI_MODEL,
        "openai-compatible": OPENAI_MODEL,
        "kimi-base-url": KIMI_MODEL,
    }


def test_probeds_wire_request_matches_through_a_real_socket(recording: dict[str, Any]) -> None:
    """The same comparison on the wire: probed's ladder sends to the same recorder (the
    OpenAI-compatible provider, reached by baseUrl) and the recorded requests reduce alike."""
    rec: Recorder = recording["recorder"]
    rec.clear()
    cfg = parse_config({}, None, {"HOME": "/nonexistent"})
    doc = load_openclaw_json(recording["state"])
    endpoint = resolve("myproxy", cfg, openclaw_providers(doc))

    async def go() -> None:
        async with make_http_client(10.0) as client:
            result = await run_ladder(
                client,
                endpoint,
                Secret(KEY_OPENAI, oauth=False),
                need_paid=True,
                model=None,
                timeout=10.0,
                now=lambda: datetime.now(UTC),
                spend=lambda: True,
            )
            assert result.ok and result.paid, result

    anyio.run(go)
    [sent] = generations(rec)
    assert deciding_captured(sent) == recording["by"]["openai-compatible"]
    assert KEY_OPENAI not in str(sent.to_json())  # the recorder keeps no credential
