"""A fake provider and a real gateway in front of it, for tests/e2e (module-scoped fixtures).

Each test module starts its gateway once (module-scoped fixtures) and its scenarios run in
file order against it. A gateway that does not come up fails the module's tests with its log
tail (GatewayError); nothing here ever skips.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.gateway import Gateway, GatewaySpec, start_gateway
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


def rig(tmp_path_factory: pytest.TempPathFactory, name: str, spec: GatewaySpec) -> Iterator[Rig]:
    """Body of a module-scoped fixture: a fake provider and a gateway in front of it."""
    root = tmp_path_factory.mktemp(name)
    with (
        FakeProvider() as fake,
        start_gateway(root / "gateway", spec, provider_url=fake.base_url) as gw,
    ):
        fake.reset()  # the warm-up request is not part of any scenario
        yield Rig(gw, fake, root, gw.pid)
