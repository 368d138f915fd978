"""A real OpenClaw gateway, offline, beside a fake provider on 127.0.0.1: start, talk, reload, stop.

Used by tests/e2e/ (probed beside a running gateway), by bench/ and by the request-shape
recordings. Everything runs on this machine: the pinned OpenClaw releases under Node 24 (what
scripts/install-openclaw installs; see `helpers.openclaw` for the environment variables), a
throw-away `OPENCLAW_STATE_DIR` and `HOME`, the gateway and the provider on ephemeral ports.

    from helpers.gateway import RELEASE_9_6, GatewaySpec, ProviderSpec, start_gateway

    with FakeProvider() as fake, start_gateway(tmp_path, GatewaySpec(
        release=RELEASE_9_6,                      # or RELEASE_5_28 (JSON-file era)
        providers=(ProviderSpec("fake", profiles=("fake:a",)),),
        fallback=None,                            # or ProviderSpec("spare", ...): its first model
                                                  # becomes agents.defaults.model.fallbacks[0]
        store="shared",                           # 9.6: "shared" main store (state/openclaw.sqlite)
                                                  # or "agent": a default agent `worker` with its
                                                  # own <agentDir>/openclaw-agent.sqlite
    ), provider_url=fake.base_url) as gw:
        fake.respond(credential=gw.key("fake:a"), kind="paid", status=402)
        result = gw.chat("hello")             # ChatResult(status, body, elapsed_s); never raises
        gw.state()                            # usageStats as OpenClaw wrote it (probed's reader)
        gw.secrets_reload()                   # `openclaw secrets reload`, a CompletedProcess
        gw.openclaw("models", "status", "--json")   # any CLI command, the gateway's env
        gw.env                                    # env for subprocesses that must see this install
        gw.pid, gw.alive(), gw.log_tail()
        gw.assert_untouched(pid)              # same pid, alive, no signal, no in-process restart

`start_gateway` writes `openclaw.json` (gateway on loopback with a token and the OpenAI-compatible
`/v1/chat/completions` endpoint; `update.checkOnStart: false`; `logging.file` inside the throw-away
dir; providers pointed at `provider_url` with `api: openai-completions`), stores the keys as the
reference says (9.6: `openclaw models auth paste-api-key`, then `auth.order` set back; 5.28: a
hand-written `agents/main/agent/auth-profiles.json`), runs `openclaw gateway run --verbose` in a
process group of its own and waits for `/health` and `/readyz` (generous deadline: 12-50 s is
normal, more on a loaded machine), then pairs the CLI (`Gateway.pair`). If the gateway exits or
the deadline passes it raises `GatewayError` with the tail of the gateway's log: never a hang,
never a skip. A first chat request warms the agent up (12-17 s) unless `warm=False`.

Observed with this harness (2 loaded cores): 9.6 ready in 30-45 s, 5.28 in ~10 s; a 402 makes
9.6 disable the profile for 10 min and 5.28 for 5 h; `openclaw secrets reload` takes 2-3 s.
`GET /readyz` answers `{"ready": true, "uptimeMs": N, ...}` without a token.

`Gateway.stop()` sends SIGTERM to the process group, then SIGKILL after a grace period. It never
sends SIGHUP: that kills a gateway silently on both releases. `Gateway.start()` after a stop
starts it again on the same state (a new port, written into `openclaw.json`).

A `bin/openclaw` wrapper is written into the throw-away dir and put first on `gw.env["PATH"]`,
so a probed subprocess run with `gw.env` uses its default `reload_command` unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from helpers.openclaw import json_pkg, node, require, sqlite_pkg

READY_DEADLINE_S = 240.0  # 12-50 s observed unloaded; seven engineers share two cores
CHAT_TIMEOUT_S = 180.0  # first agent request 12-17 s unloaded
STOP_GRACE_S = 20.0
CLI_TIMEOUT_S = 120.0
TOKEN = "gw-test-token-0123456789abcdef"


@dataclass(frozen=True, slots=True)
class Release:
    """One pinned OpenClaw release: where it is installed and how it stores auth state."""

    version: str
    era: Literal["sqlite", "json"]
    pkg_dir: Callable[[], str]

    @property
    def cli(self) -> str:
        return str(Path(self.pkg_dir()) / "openclaw.mjs")


RELEASE_9_6 = Release("2026.9.6", "sqlite", sqlite_pkg)
RELEASE_5_28 = Release("2026.5.28", "json", json_pkg)


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """A provider in `models.providers`, pointed at the fake. Profiles are `<id>:<name>`."""

    id: str
    profiles: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    api: str = "openai-completions"  # or anthropic-messages, google-generative-ai, ...
    path: str = "/v1"  # appended to provider_url for this provider's baseUrl

    @property
    def profile_ids(self) -> tuple[str, ...]:
        return self.profiles or (f"{self.id}:a",)

    @property
    def model_ids(self) -> tuple[str, ...]:
        return self.models or (f"{self.id}-model",)


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    release: Release = RELEASE_9_6
    providers: tuple[ProviderSpec, ...] = (ProviderSpec("fake"),)
    fallback: ProviderSpec | None = None
    store: Literal["shared", "agent"] = "shared"  # 9.6 only; 5.28 always has agent JSON files
    warm: bool = True  # send one chat request after ready, so tests do not pay the 12-17 s
    extra_config: Mapping[str, Any] = field(default_factory=dict)  # merged into openclaw.json

    @property
    def agent(self) -> str:
        return "worker" if self.store == "agent" and self.release.era == "sqlite" else "main"

    def all_providers(self) -> tuple[ProviderSpec, ...]:
        return (*self.providers, *((self.fallback,) if self.fallback else ()))


@dataclass(frozen=True, slots=True)
class ChatResult:
    status: int | None  # None: no HTTP answer (connection refused, timeout)
    body: str
    elapsed_s: float

    @property
    def ok(self) -> bool:
        return self.status == 200

    def __str__(self) -> str:
        return f"HTTP {self.status} in {self.elapsed_s:.1f}s: {self.body[:300]}"


class GatewayError(AssertionError):
    """The gateway did not start, or a command against it failed; carries its log tail."""


def free_port() -> int:
    """An ephemeral port the OS just handed out (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll `check` until it returns something truthy; raise AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} ({last!r})")
        time.sleep(interval)


class Gateway:
    """One OpenClaw gateway process on a throw-away state dir. See the module docstring."""

    def __init__(self, root: Path, spec: GatewaySpec, provider_url: str) -> None:
        require(spec.release.pkg_dir())
        self.root = root
        self.spec = spec
        self.provider_url = provider_url.rstrip("/")
        self.state_dir = root / "state"
        self.home = root / "home"
        self.bin_dir = root / "bin"
        self.log_file = root / "gateway.log"
        self.out_file = root / "gateway.out"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._keys = {
            pid: f"sk-fake-{pid.replace(':', '-')}-{os.urandom(6).hex()}"
            for p in spec.all_providers()
            for pid in p.profile_ids
        }
        self._replaced: list[str] = []
        self.env = self._environment()

    # ---- set-up ----------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_", "PROBED_"))}
        node_dir = str(Path(node()).parent)
        return {
            **keep,
            "HOME": str(self.home),
            "OPENCLAW_STATE_DIR": str(self.state_dir),
            "PATH": f"{self.bin_dir}:{node_dir}:{keep.get('PATH', '/usr/bin:/bin')}",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
        }

    def key(self, profile_id: str) -> str:
        """The (made-up) API key stored for `profile_id`: use it in FakeProvider rules."""
        return self._keys[profile_id]

    @property
    def agent(self) -> str:
        return self.spec.agent

    @property
    def agent_dir(self) -> Path:
        return self.state_dir / "agents" / self.agent / "agent"

    @property
    def store_path(self) -> Path:
        """The file OpenClaw keeps this agent's failure state in."""
        if self.spec.release.era == "json":
            return self.agent_dir / "auth-state.json"
        if self.spec.store == "agent":
            return self.agent_dir / "openclaw-agent.sqlite"
        return self.state_dir / "state" / "openclaw.sqlite"

    def _config(self) -> dict[str, Any]:
        spec = self.spec
        providers: dict[str, Any] = {}
        for p in spec.all_providers():
            providers[p.id] = {
                "baseUrl": f"{self.provider_url}{p.path}",
                "api": p.api,
                "models": [
                    {
                        "id": m,
                        "name": m,
                        "reasoning": False,
                        "input": ["text"],
                        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
                        "contextWindow": 128000,
                        "maxTokens": 4096,
                    }
                    for m in p.model_ids
                ],
            }
        primary = spec.providers[0]
        model: dict[str, Any] = {"primary": f"{primary.id}/{primary.model_ids[0]}"}
        if spec.fallback is not None:
            model["fallbacks"] = [f"{spec.fallback.id}/{spec.fallback.model_ids[0]}"]
        agents: dict[str, Any] = {"defaults": {"model": model}}
        if spec.agent != "main":
            agents["list"] = [{"id": spec.agent, "default": True}]
        config: dict[str, Any] = {
            "gateway": {
                "mode": "local",
                "port": self.port,
                "bind": "loopback",
                "auth": {"mode": "token", "token": TOKEN},
                "http": {"endpoints": {"chatCompletions": {"enabled": True}}},
            },
            "models": {"mode": "merge", "providers": providers},
            "auth": {
                "profiles": {
                    pid: {"provider": p.id, "mode": "api_key"}
                    for p in spec.all_providers()
                    for pid in p.profile_ids
                },
                "order": {p.id: list(p.profile_ids) for p in spec.all_providers()},
            },
            "agents": agents,
            "update": {"checkOnStart": False},
            "logging": {"file": str(self.log_file)},
        }
        return _merge(config, spec.extra_config)

    def _write_config(self, config: Mapping[str, Any]) -> None:
        path = self.state_dir / "openclaw.json"
        path.write_text(json.dumps(config, indent=2) + "\n")

    def _read_config(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "openclaw.json").read_text())  # type: ignore[no-any-return]

    def prepare(self) -> None:
        """Write openclaw.json, the keys and the CLI wrapper (done once, before the first start)."""
        for d in (self.state_dir, self.home, self.bin_dir):
            d.mkdir(parents=True, exist_ok=True)
        wrapper = self.bin_dir / "openclaw"
        wrapper.write_text(f'#!/bin/sh\nexec "{node()}" "{self.spec.release.cli}" "$@"\n')
        wrapper.chmod(0o755)
        self.port = free_port()
        config = self._config()
        self._write_config(config)
        if self.spec.release.era == "json":
            self._write_json_keys()
        else:
            for p in self.spec.all_providers():
                for pid in p.profile_ids:
                    self._paste_key(p.id, pid)
            # A paste reorders auth.order (and may touch other keys): put ours back.
            current = self._read_config()
            current["auth"] = config["auth"]
            current.setdefault("gateway", {})["port"] = self.port
            self._write_config(current)

    def _write_json_keys(self) -> None:
        self.agent_dir.mkdir(parents=True, exist_ok=True)
        doc = {
            "version": 1,
            "profiles": {
                pid: {"type": "api_key", "provider": p.id, "key": self._keys[pid]}
                for p in self.spec.all_providers()
                for pid in p.profile_ids
            },
        }
        path = self.agent_dir / "auth-profiles.json"
        path.write_text(json.dumps(doc, indent=2) + "\n")
        path.chmod(0o600)

    def replace_key(self, profile_id: str, key: str) -> None:
        """Give `profile_id` a new key as a person does while the gateway runs: `openclaw models
        auth paste-api-key` (nothing put back afterwards: what the paste does is what they get)."""
        if self.spec.release.era == "json":
            raise GatewayError("replace_key is written for the SQLite era (2026.9.6) only")
        provider = next(p.id for p in self.spec.all_providers() if profile_id in p.profile_ids)
        self._replaced.append(self._keys[profile_id])
        self._keys[profile_id] = key
        self._paste_key(provider, profile_id)

    def _every_key(self) -> list[str]:
        """What output is scrubbed of: the keys held now and the ones replaced."""
        return [*self._keys.values(), *self._replaced]

    def _paste_key(self, provider: str, profile_id: str) -> None:
        args = ["models", "auth", "paste-api-key", "--provider", provider, "--profile-id"]
        args.append(profile_id)
        if self.agent != "main":
            args += ["--agent", self.agent]
        proc = self.openclaw(*args, input=self._keys[profile_id] + "\n")
        if proc.returncode != 0:
            raise GatewayError(
                f"openclaw models auth paste-api-key for {profile_id} exited {proc.returncode}: "
                f"{_scrub(proc.stdout + proc.stderr, self._every_key())[-2000:]}"
            )

    # ---- the process ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise GatewayError("the gateway is not running")
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, *, deadline: float = READY_DEADLINE_S) -> None:
        """Start `openclaw gateway run` and wait until /health and /readyz answer 200."""
        if self.alive():
            return
        if self.proc is not None:  # a restart: a fresh port, in case the old one was taken
            self.port = free_port()
            config = self._read_config()
            config.setdefault("gateway", {})["port"] = self.port
            self._write_config(config)
        with self.out_file.open("ab") as out:
            self.proc = subprocess.Popen(
                [node(), self.spec.release.cli, "gateway", "run", "--verbose"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.home,
                start_new_session=True,
            )
        try:
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, deadline_s: float) -> None:
        deadline = time.monotonic() + deadline_s
        pending = ["/health", "/readyz"]
        with httpx.Client(timeout=5.0) as client:
            while pending:
                if not self.alive():
                    code = self.proc.returncode if self.proc else None
                    raise GatewayError(
                        f"the OpenClaw {self.spec.release.version} gateway exited ({code}) "
                        f"before {pending[0]} answered; log tail:\n{self.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise GatewayError(
                        f"the OpenClaw {self.spec.release.version} gateway did not answer "
                        f"{pending[0]} within {deadline_s:g}s; log tail:\n{self.log_tail()}"
                    )
                try:
                    if client.get(self.url + pending[0]).status_code == 200:
                        pending.pop(0)
                        continue
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)

    def pair(self) -> None:
        """Pair this HOME's CLI device with the gateway, with the scopes `secrets reload` needs.

        The first CLI connection is approved (loopback) with the scopes it asks for; a later one
        asking for more (5.28: `gateway call` then `secrets reload`) is refused with "pairing
        required". So the first call is the widest one: `secrets reload` itself."""
        proc = self.secrets_reload()
        if proc.returncode != 0:
            raise GatewayError(
                f"openclaw secrets reload failed ({proc.returncode}) right after start: "
                f"{_scrub(proc.stdout + proc.stderr, self._every_key())[-1500:]}\n{self.log_tail()}"
            )

    def stop(self, *, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM to the process group, SIGKILL after `grace` seconds. Never SIGHUP."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            _reap_group(proc)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        _reap_group(proc)

    def log_tail(self, lines: int = 60) -> str:
        """The end of the gateway's stdout and its log file, secrets masked."""
        parts = []
        for f in (self.out_file, self.log_file):
            if f.is_file():
                text = f.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {f.name}\n" + "\n".join(text))
        return _scrub("\n".join(parts) or "(no gateway log was written)", self._every_key())

    def signals_received(self) -> list[str]:
        """Every signal the gateway logged receiving (`[gateway] signal SIGTERM received`)."""
        text = self.out_file.read_text(errors="replace") if self.out_file.is_file() else ""
        return re.findall(r"\[gateway\] signal (SIG[A-Z0-9]+) received", text)

    def starts(self) -> int:
        """How many times the gateway came up (`[gateway] ready`), in-process restarts included."""
        text = self.out_file.read_text(errors="replace") if self.out_file.is_file() else ""
        return len(re.findall(r"\[gateway\] ready$", text, flags=re.MULTILINE))

    def assert_untouched(self, pid: int, *, starts: int = 1) -> None:
        """The gateway `pid` still runs, was never signalled and never restarted in-process."""
        assert self.alive() and self.pid == pid, f"the gateway {pid} is gone\n{self.log_tail()}"
        assert self.signals_received() == [], f"the gateway got {self.signals_received()}"
        assert self.starts() == starts, f"the gateway came up {self.starts()} times, not {starts}"

    def log_text(self) -> str:
        return "\n".join(
            f.read_text(errors="replace") for f in (self.out_file, self.log_file) if f.is_file()
        )

    # ---- talking to it ---------------------------------------------------------------------

    def chat(self, text: str = "hello", *, timeout: float = CHAT_TIMEOUT_S) -> ChatResult:
        """One request through the gateway's OpenAI-compatible endpoint. Never raises."""
        started = time.monotonic()
        try:
            resp = httpx.post(
                f"{self.url}/v1/chat/completions",
                headers={"authorization": f"Bearer {TOKEN}"},
                json={"model": "openclaw", "messages": [{"role": "user", "content": text}]},
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            return ChatResult(None, f"{type(exc).__name__}: {exc}", time.monotonic() - started)
        return ChatResult(resp.status_code, resp.text, time.monotonic() - started)

    def openclaw(
        self, *args: str, input: str | None = None, timeout: float = CLI_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """Run the OpenClaw CLI of this release with the gateway's environment."""
        return subprocess.run(
            [node(), self.spec.release.cli, *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.home,
            timeout=timeout,
            check=False,
        )

    def secrets_reload(self) -> subprocess.CompletedProcess[str]:
        return self.openclaw("secrets", "reload")

    def state(self) -> dict[str, Any]:
        """This agent's `usageStats`, read with probed's own store reader."""
        from probed.stores.discover import open_agent

        stats = open_agent(self.state_dir, self.agent).read().state.get("usageStats") or {}
        return dict(stats)

    def entry(self, profile_id: str) -> dict[str, Any]:
        return dict(self.state().get(profile_id) or {})


def _reap_group(proc: subprocess.Popen[bytes] | None) -> None:
    """Children of a gateway that outlived it (same process group) get SIGKILL."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _scrub(text: str, keys: Iterable[str]) -> str:
    for key in keys:
        text = text.replace(key, "<key>")
    return text


@contextlib.contextmanager
def start_gateway(
    root: Path, spec: GatewaySpec, *, provider_url: str, deadline: float = READY_DEADLINE_S
) -> Iterator[Gateway]:
    """Prepare, start and (on exit) stop a gateway under `root`. Raises GatewayError on failure."""
    root.mkdir(parents=True, exist_ok=True)
    gw = Gateway(root, spec, provider_url)
    try:
        gw.prepare()
        gw.start(deadline=deadline)
        gw.pair()
        if spec.warm:
            result = gw.chat("warm up")
            if not result.ok:
                raise GatewayError(f"the warm-up request failed: {result}\n{gw.log_tail()}")
        yield gw
    finally:
        gw.stop()
