"""One scenario against a real LiteLLM proxy with its background health checks, the peer that
does probe on its own (tests/helpers/litellm.py starts the pinned `litellm[proxy]`).

Configured as its docs say to use them for this: `general_settings.background_health_checks`
with `health_check_interval` (300 s, the default), and `router_settings.
enable_health_check_routing`, so a deployment whose check failed is routed around while
another one can answer (with a fallback) and tried anyway when none can (its fail-open rule).
Every health check is a real one-token completion, so each that succeeds is billed.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.scenarios import Scenario
from bench.world import RunResult, Traffic, account, break_provider, until_recovered, wait_for
from probed.fakeprovider import FakeProvider

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from helpers import litellm as launcher  # noqa: E402 - after the sys.path line
from helpers.litellm import Deployment, LiteLLMProxy  # noqa: E402 - after the sys.path line

HEALTH_CHECK_INTERVAL_S = 300
MASTER = "sk-bench-master-0123456789"
PRIMARY_KEY = "sk-bench-upstream-primary-000000"
SPARE_KEY = "sk-bench-upstream-spare-000000"


class HealthCheckedProxy(LiteLLMProxy):
    """The launcher's proxy, with background health checks and health-check routing on."""

    def __init__(self, workdir: Path, deployments: list[Deployment], *, fallback: bool) -> None:
        super().__init__(workdir, deployments, MASTER)
        self.fallback = fallback

    def start(self) -> LiteLLMProxy:
        """The launcher's start, with this config (no shared state: runs go in parallel)."""
        exe = launcher.require()
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "config.yaml"
        cfg.write_text(self._config(), encoding="utf-8")
        for _attempt in range(3):  # a port the OS gave us can be taken before the proxy binds
            self.port = launcher._free_port()
            self._spawn(exe, cfg)
            if self._wait_ready():
                return self
            self.stop()
        raise RuntimeError(f"the LiteLLM proxy did not become ready: {self.log_tail()}")

    def _config(self) -> str:
        doc = json.loads(launcher.config_yaml(self.deployments, self.master_key))
        doc["general_settings"].update(
            {"background_health_checks": True, "health_check_interval": HEALTH_CHECK_INTERVAL_S}
        )
        doc["litellm_settings"] = {"num_retries": 0, "telemetry": False}
        router: dict[str, object] = {"enable_health_check_routing": True}
        if self.fallback:
            router["fallbacks"] = [{"fake-model": ["spare-model"]}]
        doc["router_settings"] = router
        return json.dumps(doc, indent=2) + "\n"


def system_name(sc: Scenario) -> str:
    fb = ", fallback" if sc.fallback else ""
    return f"LiteLLM health checks ({HEALTH_CHECK_INTERVAL_S} s{fb})"


def run_litellm(sc: Scenario, *, repeat: int, workdir: Path | None = None) -> RunResult:
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="probed-bench-ll-", dir=workdir) as tmp,
        FakeProvider() as fake,
    ):
        deployments = [Deployment("fake-model", f"{fake.base_url}/v1", "fake-model", PRIMARY_KEY)]
        if sc.fallback:
            deployments.append(
                Deployment("spare-model", f"{fake.base_url}/v1", "spare-model", SPARE_KEY)
            )
        proxy = HealthCheckedProxy(Path(tmp), deployments, fallback=sc.fallback)
        client = httpx.Client(timeout=60)

        def send(marker: str) -> int | None:
            try:
                r = client.post(
                    f"{proxy.url}/v1/chat/completions",
                    headers={"authorization": f"Bearer {MASTER}"},
                    json={"model": "fake-model", "messages": [{"role": "user", "content": marker}]},
                )
            except httpx.HTTPError:
                return None
            return r.status_code

        traffic = Traffic(send=send)
        broke_at = t0 = fix_at = time.time()
        error: str | None = None
        try:
            proxy.start()
            now = time.time()
            if sc.hours_in:
                fix_at = now + sc.fix_s + sc.offset_s
                t0 = now
            else:
                fix_at = now + sc.fix_s + sc.offset_s + 1.0
                t0 = fix_at - sc.fix_s - sc.offset_s
            broke_at = break_provider(fake, sc, PRIMARY_KEY, fix_at)
            time.sleep(max(0.0, t0 - time.time()))
            recovered = until_recovered(
                fake, PRIMARY_KEY, traffic, fix_at=fix_at, horizon_s=sc.horizon_s
            )
            runner = threading.Thread(target=traffic.run, args=(recovered,), daemon=True)
            runner.start()
            wait_for(lambda: fix_at <= time.time(), sc.fix_s + 5, 0.2)
            runner.join(timeout=sc.horizon_s + 200)
            traffic.stop()
        except BaseException as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            traffic.stop()
        finally:
            client.close()
            proxy.stop()
        return account(
            sc,
            system_name(sc),
            repeat,
            fake=fake,
            credential=PRIMARY_KEY,
            traffic=traffic,
            t0=t0,
            fix_at=fix_at,
            broke_at=broke_at,
            window_end=None,
            wall_s=time.monotonic() - started,
            error=error,
        )
