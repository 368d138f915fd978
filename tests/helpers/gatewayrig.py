"""A fake provider and a real gateway in front of it, for tests/e2e (module-scoped fixtures).

Each test module starts its gateway once (module-scoped fixtures) and its scenarios run in
file order against it. A gateway that does not come up fails the module's tests with its log
tail (GatewayError); nothing here ever skips.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.gateway import Gateway, GatewaySpec, start_gateway
from helpers.probedproc import probed
from probed.fakeprovider import FakeProvider, fingerprint

BILLING_402 = json.dumps(
    {"error": {"message": "Insufficient credits", "type": "insufficient_quota", "code": 402}}
)


@dataclass
class Rig:
    """A gateway, the fake provider behind it, and a scratch dir for probed."""

    gw: Gateway
    fake: FakeProvider
    root: Path
    pid: int

    def fail_with_402(self, profile: str) -> None:
        self.fake.respond(
            credential=self.gw.key(profile), kind="paid", status=402, body=BILLING_402
        )

    def recover(self) -> None:
        """The provider is healthy again for every key (rules and recordings dropped)."""
        self.fake.reset()

    def served_by(self, profile: str) -> int:
        """Paid requests the fake received with `profile`'s key."""
        fp = fingerprint(self.gw.key(profile))
        return sum(1 for r in self.fake.requests if r.paid and r.credential_fingerprint == fp)

    def disable_behind_fallback(
        self, profile: str = "fake:a", fallback: str = "spare:a"
    ) -> dict[str, Any]:
        """A 402 on `profile`: the gateway answers from `fallback` and disables `profile` for
        billing. The provider then recovers and the gateway still answers from the fallback (its
        own copy says disabled). Returns `profile`'s entry as the 402 left it."""
        self.fail_with_402(profile)
        res = self.gw.chat()
        assert res.ok and self.served_by(fallback) >= 1, f"the fallback did not answer: {res}"
        entry = self.gw.entry(profile)
        assert entry["disabledReason"] == "billing", entry
        self.recover()
        again = self.gw.chat()
        assert again.ok and self.served_by(profile) == 0 and self.served_by(fallback) >= 1, (
            f"the gateway used the disabled {profile}: {again}"
        )
        return entry

    def probe_recovers(
        self,
        cfg: Path,
        before: dict[str, Any],
        profile: str = "fake:a",
        *,
        absent: Iterable[str] = (),
    ) -> tuple[float, dict[str, Any]]:
        """`probed probe PROFILE --json` recovers it, and the entry is cleared as OpenClaw's
        own success writes it: errorCount 0, lastFailureAt kept, no window, no failureCounts
        (nor any key of `absent`). Returns (the monotonic time of the clear, the entry)."""
        proc = probed(self.gw, cfg, "probe", profile, "--json")
        cleared = time.monotonic()
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert [x["outcome"] for x in json.loads(proc.stdout)["results"]] == ["recovered"]
        entry = self.gw.entry(profile)
        assert entry["errorCount"] == 0 and entry["lastFailureAt"] == before["lastFailureAt"]
        gone = {"disabledUntil", "disabledReason", "failureCounts", *absent}
        assert not gone & set(entry), entry
        return cleared, entry

    def next_request_through(
        self, profile: str = "fake:a", *, cleared: float | None = None, fallback: str = ""
    ) -> None:
        """The gateway's next request goes through `profile` (not `fallback`), and within 20 s
        of the monotonic time `cleared`."""
        probes = self.served_by(profile)
        spare = self.served_by(fallback) if fallback else 0
        res = self.gw.chat()
        assert res.ok, f"the gateway's next request failed: {res}"
        assert self.served_by(profile) == probes + 1, f"{profile} not used again: {res}"
        if fallback:
            assert self.served_by(fallback) == spare, f"{fallback} used again: {res}"
        if cleared is not None:
            assert time.monotonic() - cleared < 20, "too late to mean anything"


def rig(tmp_path_factory: pytest.TempPathFactory, name: str, spec: GatewaySpec) -> Iterator[Rig]:
    """Body of a module-scoped fixture: a fake provider and a gateway in front of it."""
    root = tmp_path_factory.mktemp(name)
    with (
        FakeProvider() as fake,
        start_gateway(root / "gateway", spec, provider_url=fake.base_url) as gw,
    ):
        fake.reset()  # the warm-up request is not part of any scenario
        yield Rig(gw, fake, root, gw.pid)
