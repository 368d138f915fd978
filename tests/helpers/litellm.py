"""Run a real LiteLLM proxy (`litellm[proxy]` from PyPI, pinned) on 127.0.0.1 for the e2e tests.

The proxy lives in its own venv (`.venv-litellm`, created by scripts/test; override with
$PROBED_LITELLM_VENV) so that LiteLLM's many pins never meet probed's own dependencies. It is
started the way most people run it: one master key, several models, no database
(`DATABASE_URL` unset), so `GET /key/info` fails with the proxy's own error, the first seed
incident.

A proxy that is missing, the wrong version, exits, or is not ready before the deadline FAILS
the test with the tail of its log, never skips and never hangs. Start one per test module
(`start` in a module-scoped fixture); `stop` ends its whole process group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "tests" / "requirements-litellm.txt"  # the pin; scripts/test installs it
READY_DEADLINE_S = 180.0  # cold start on a loaded 2-core machine; 9-15 s is usual


@dataclass(frozen=True, slots=True)
class Deployment:
    """One `model_list` entry: the name clients ask for, and where LiteLLM sends it."""

    name: str
    upstream_base: str  # an OpenAI-compatible base URL with /v1
    upstream_model: str
    upstream_key: str = "sk-upstream-not-a-secret"


def pinned_version() -> str:
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        if line.startswith("litellm[proxy]=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{REQUIREMENTS} pins no litellm[proxy]==VERSION")


def venv() -> Path:
    return Path(os.environ.get("PROBED_LITELLM_VENV", str(ROOT / ".venv-litellm")))


def require() -> Path:
    """The `litellm` executable of the pinned release, or a failed test saying how to get it."""
    version = pinned_version()
    exe = venv() / "bin" / "litellm"
    found = sorted((venv() / "lib").glob("python3*/site-packages/litellm-*.dist-info"))
    if not exe.is_file() or not found:
        pytest.fail(
            f"LiteLLM proxy not installed at {venv()}: run scripts/test (it creates "
            f".venv-litellm with litellm[proxy]=={version}) or set PROBED_LITELLM_VENV",
            pytrace=False,
        )
    have = found[-1].name.removeprefix("litellm-").removesuffix(".dist-info")
    if have != version:
        pytest.fail(
            f"{venv()} holds litellm {have}, {REQUIREMENTS.name} pins {version}: run scripts/test",
            pytrace=False,
        )
    return exe


def config_yaml(deployments: Sequence[Deployment], master_key: str) -> str:
    """LiteLLM's config (YAML is a superset of JSON, so JSON is written: no YAML library)."""
    doc = {
        "model_list": [
            {
                "model_name": d.name,
                "litellm_params": {
                    "model": f"openai/{d.upstream_model}",
                    "api_base": d.upstream_base,
                    "api_key": d.upstream_key,
                },
            }
            for d in deployments
        ],
        "general_settings": {"master_key": master_key},
        # No retries and no cooldowns of its own: each probe meets the upstream exactly once.
        "litellm_settings": {"num_retries": 0, "disable_cooldowns": True, "telemetry": False},
        "router_settings": {"disable_cooldowns": True},
    }
    return json.dumps(doc, indent=2) + "\n"


class LiteLLMProxy:
    """One proxy process: `start()` returns once it answers, `stop()` always cleans up."""

    def __init__(self, workdir: Path, deployments: Sequence[Deployment], master_key: str) -> None:
        self.workdir = workdir
        self.deployments = tuple(deployments)
        self.master_key = master_key
        self.port = 0
        self.log_path = workdir / "litellm.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> LiteLLMProxy:
        exe = require()
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "config.yaml"
        cfg.write_text(config_yaml(self.deployments, self.master_key), encoding="utf-8")
        for _attempt in range(3):  # a port the OS gave us can be taken before the proxy binds
            self.port = _free_port()
            self._spawn(exe, cfg)
            if self._wait_ready():
                return self
            in_use = "address already in use" in self.log_tail(200).lower()
            self.stop()
            if not in_use:
                break
        pytest.fail(
            f"the LiteLLM proxy ({venv()}) did not become ready on {self.url} within "
            f"{READY_DEADLINE_S:.0f} s; log tail:\n{self.log_tail()}",
            pytrace=False,
        )

    def _spawn(self, exe: Path, cfg: Path) -> None:
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        env = {
            "PATH": f"{exe.parent}:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            # Offline: the bundled model cost map instead of fetching it from GitHub.
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_TELEMETRY": "False",
            "NO_PROXY": "*",
        }
        log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                [str(exe), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def _wait_ready(self) -> bool:
        """Ready = the model routes answer an authenticated request (not only liveliness)."""
        assert self._proc is not None
        deadline = time.monotonic() + READY_DEADLINE_S
        headers = {"authorization": f"Bearer {self.master_key}"}
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                r = httpx.get(f"{self.url}/v1/models", headers=headers, timeout=5.0)
                if r.status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.25)  # polling a condition, with a deadline
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> LiteLLMProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
