"""One cheap look at the local OpenClaw gateway: does it answer, and since when has it been up?

`GET http://127.0.0.1:<port>/readyz` needs no token, sends nothing upstream and answers in
milliseconds (`{"ready": true, "uptimeMs": N, ...}` on 2026.5.28 and 2026.9.6; 503 while it is
still starting, with the same body). The port is `$OPENCLAW_GATEWAY_PORT`, else `gateway.port`
in `<state>/openclaw.json`, else OpenClaw's default 18789. A gateway bound to another address
than loopback still answers on 127.0.0.1 unless it is bound to one LAN address only; then it is
seen as not running, and `probed status` says so (the reload command, which OpenClaw's own CLI
runs, still reaches it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx

from probed.confirm import GatewaySeen
from probed.openclawjson import load_openclaw_json

DEFAULT_PORT = 18789
LOOK_TIMEOUT_S = 2.0


def gateway_port(state_dir: Path, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = (env.get("OPENCLAW_GATEWAY_PORT") or "").strip()
    if raw.isdigit() and 0 < int(raw) < 65536:
        return int(raw)
    gateway = load_openclaw_json(state_dir).get("gateway")
    port = gateway.get("port") if isinstance(gateway, Mapping) else None
    if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
        return port
    return DEFAULT_PORT


def look(state_dir: Path, *, now_ms: int, timeout: float = LOOK_TIMEOUT_S) -> GatewaySeen:
    """Ask the gateway of the install at `state_dir` how it is. Never raises."""
    port = gateway_port(state_dir)
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            resp = client.get(url)
    except httpx.HTTPError as exc:
        why = "nothing listens" if isinstance(exc, httpx.ConnectError) else type(exc).__name__
        return GatewaySeen(False, None, f"no gateway answers on 127.0.0.1:{port} ({why})")
    started = None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        uptime = body.get("uptimeMs")
        if isinstance(uptime, int | float) and not isinstance(uptime, bool) and uptime >= 0:
            started = now_ms - int(uptime)
    return GatewaySeen(True, started, None)
