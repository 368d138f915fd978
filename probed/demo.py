"""`probed run --demo`: the real daemon, live, against a throw-away OpenClaw state.

Everything is local: a temporary OpenClaw state dir (era B JSON files, one agent, three profiles),
the built-in fake provider on 127.0.0.1, and a configuration that points every provider at it.
No credentials (the keys are made up), no network, no reload command. The story, about half a
minute long:

- `anthropic:default` is billing-disabled until ~10 s from now; the provider has been topped up,
  so the first probe after the window succeeds and the profile is cleared;
- `openai:default` is rate-limited until ~5 s from now; the provider still says 429 for a few
  seconds, so the first probe fails and extends the window, and the next one recovers it;
- `anthropic:backup` is healthy and is left alone (no probe is sent for it).

It ends by itself and prints a one-screen summary.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import anyio

from probed.clock import now_ms
from probed.config import Config, parse_config
from probed.daemon import Daemon, DaemonOptions
from probed.durations import humanize
from probed.fakeprovider import FakeProvider, fingerprint
from probed.logs import configure
from probed.model import Profile, Usage
from probed.notify import Notifier
from probed.recover import ProbeResult
from probed.stores.discover import discover

AGENT = "main"
# Made-up keys in the providers' shapes: the demo shows they never reach the log.
KEYS = {
    "anthropic:default": ("anthropic", "sk-ant-demo-0001-not-a-real-key"),
    "anthropic:backup": ("anthropic", "sk-ant-demo-0002-not-a-real-key"),
    "openai:default": ("openai", "sk-demo-0003-not-a-real-key"),
}
DEADLINE_S = 90.0


def build_state(root: Path, *, start_ms: int, billing_in_s: float, limit_in_s: float) -> Path:
    """An OpenClaw 2026.5 (era B) state dir: auth-profiles.json + auth-state.json."""
    agent_dir = root / "openclaw" / "agents" / AGENT / "agent"
    agent_dir.mkdir(parents=True, mode=0o700)
    profiles = {
        pid: {"type": "api_key", "provider": provider, "key": key}
        for pid, (provider, key) in KEYS.items()
    }
    usage = {
        "anthropic:default": {
            "disabledUntil": start_ms + int(billing_in_s * 1000),
            "disabledReason": "billing",
            "errorCount": 1,
            "failureCounts": {"billing": 1},
            "lastFailureAt": start_ms - 50_000,
        },
        "openai:default": {
            "cooldownUntil": start_ms + int(limit_in_s * 1000),
            "cooldownReason": "rate_limit",
            "errorCount": 1,
            "failureCounts": {"rate_limit": 1},
            "lastFailureAt": start_ms - 25_000,
        },
        "anthropic:backup": {"lastUsed": start_ms - 60_000},
    }
    for name, payload in (
        ("auth-profiles.json", {"version": 1, "profiles": profiles}),
        ("auth-state.json", {"version": 1, "usageStats": usage}),
    ):
        path = agent_dir / name
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return root / "openclaw"


def demo_config(root: Path, openclaw_dir: Path, base_url: str, *, retry_base: str) -> Config:
    raw: dict[str, Any] = {
        "daemon": {
            "log_format": "console",
            "state_dir": str(root / "probed-state"),
            "lock_dir": str(root / "probed-locks"),
        },
        "openclaw": {"state_dir": str(openclaw_dir), "reload_command": []},
        "probe": {"timeout": "5s", "jitter": "0%", "jitter_max": "0s"},
        "backoff": {"rate_limit": {"base": retry_base, "cap": "30s"}},
        "providers": {
            "anthropic": {"api": "anthropic", "base_url": base_url, "model": "claude-haiku-4-5"},
            "openai": {"api": "openai", "base_url": f"{base_url}/v1", "model": "gpt-5-mini"},
        },
    }
    return parse_config(raw, None, {})


def _state_line(usage: Usage, profile: Profile, at_ms: int) -> str:
    view = usage.view(profile.provider, at_ms)
    if view.usable:
        return "ok"
    left = humanize(((view.until_ms or at_ms) - at_ms) / 1000)
    return f"{view.state} ({view.reason}, {left} left)"


def run_demo(
    *,
    out: TextIO | None = None,
    deadline_s: float = DEADLINE_S,
    billing_in_s: float = 10.0,
    limit_in_s: float = 5.0,
    limit_fails_s: float = 8.0,
    retry_base: str = "6s",
) -> int:
    """Run the story; exit 0 when every profile ended usable. Tests pass shorter times."""
    stream = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="probed-demo-") as tmp, FakeProvider() as fake:
        root = Path(tmp)
        start = now_ms()
        openclaw_dir = build_state(
            root, start_ms=start, billing_in_s=billing_in_s, limit_in_s=limit_in_s
        )
        # openai still answers 429 for a few seconds, then recovers; anthropic is already fine
        fake.respond(
            credential=KEYS["openai:default"][1],
            status=429,
            headers={"retry-after": "1"},
            until=time.time() + limit_fails_s,
        )
        config = demo_config(root, openclaw_dir, fake.base_url, retry_base=retry_base)
        configure("info", "console", stream=stream)
        stream.write(
            f"probed demo: OpenClaw state in {openclaw_dir}, fake provider at {fake.base_url}\n"
            "watch a billing window and a rate limit expire, get probed and recover...\n\n"
        )
        stream.flush()
        before = _snapshot(config)
        results: list[ProbeResult] = []
        stop = anyio.Event()
        opts = DaemonOptions(spread_s=1.0, on_result=results.append, stop=stop, status_s=0.5)
        daemon = Daemon(config, notifier=Notifier(env={}), options=opts)

        async def main() -> int:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_stop_when_recovered, daemon, stop, deadline_s)
                code = await daemon.run()
                tg.cancel_scope.cancel()
            return code

        code = anyio.run(main, backend="asyncio")
        after = _snapshot(config)
        _summary(stream, before, after, results, fake, time.time() - start / 1000)
        recovered = all(state == "ok" for state in after.values())
        return code if recovered else 1


async def _stop_when_recovered(daemon: Daemon, stop: anyio.Event, deadline_s: float) -> None:
    """Stop once every profile is usable and the daemon has nothing left to probe. A window
    that has just ended reads as usable while its probe is still out (and may extend it):
    usable alone stopped the demo a moment before a failed probe's verdict landed."""

    def done() -> bool:
        idle = not daemon.sched.running() and not daemon.sched.scheduled()
        return (
            bool(daemon.stores)
            and idle
            and all(v == "ok" for v in _snapshot(daemon.config).values())
        )

    with anyio.move_on_after(deadline_s):
        while True:
            await anyio.sleep(0.25)
            if done():
                await anyio.sleep(0.5)  # let the last log lines land
                if done():
                    break
    stop.set()


def _snapshot(config: Config) -> dict[str, str]:
    out: dict[str, str] = {}
    at = now_ms()
    for store in discover(config.openclaw):
        snap = store.read()
        for pid, profile in snap.profiles.items():
            out[pid] = _state_line(snap.usage(pid), profile, at)
    return out


def _summary(  # noqa: PLR0917
    stream: TextIO,
    before: dict[str, str],
    after: dict[str, str],
    results: list[ProbeResult],
    fake: FakeProvider,
    elapsed: float,
) -> None:
    sent = Counter[str]()
    paid = Counter[str]()
    prints = {fingerprint(key): pid for pid, (_, key) in KEYS.items()}
    for req in fake.requests:
        pid = prints.get(req.credential_fingerprint or "", "?")
        sent[pid] += 1
        paid[pid] += int(req.paid)
    counts = fake.counts()
    lines = [
        "",
        f"probed demo finished in {elapsed:.0f}s (no credentials used, no network touched)",
        "",
        # per profile: the HTTP requests the fake provider received (a probe pass may send
        # a free check and then a paid generation: two requests)
        f"{'profile':<20} {'before':<34} {'after':<6} {'requests':>8} {'paid':>5} {'free':>5}",
    ]
    for pid in sorted(set(before) | set(after)):
        lines.append(
            f"{pid:<20} {before.get(pid, '-'):<34} {after.get(pid, '-'):<6} "
            f"{sent[pid]:>8} {paid[pid]:>5} {sent[pid] - paid[pid]:>5}"
        )
    outcomes = ", ".join(f"{r.profile} {r.outcome}" for r in results) or "none"
    lines += [
        "",
        f"probe passes: {outcomes}",
        f"requests to the fake provider: {counts.total} ({counts.paid} paid, {counts.free} free)",
        "",
        "In production: `probed run` under systemd (docs/install.md), `probed status` to see it.",
    ]
    stream.write("\n".join(lines) + "\n")
    stream.flush()
