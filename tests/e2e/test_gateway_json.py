"""OpenClaw 2026.5.28, the JSON-file era (`auth-profiles.json` + `auth-state.json`), with and
without a fallback model.

5.28 disables a profile for 5 hours on a 402. Without a fallback, probed's probe clears it (as
5.28's own success writes the files: lastUsed, lastGood, no lastProbeAt) and the next request
goes through it. With a fallback, the gateway answers from the fallback until probed clears and
reloads, and an external clear is never lost to the gateway's next write.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.gateway import RELEASE_5_28, GatewaySpec, ProviderSpec
from helpers.gatewayrig import Rig, rig
from helpers.probedproc import probed, status_rows, write_config

from probed.stores.base import Era
from probed.stores.discover import open_agent

pytestmark = [pytest.mark.gateway, pytest.mark.slow]

FIVE_HOURS_MS = 5 * 3600 * 1000


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    yield from rig(tmp_path_factory, "gw528", GatewaySpec(release=RELEASE_5_28))


@pytest.fixture(scope="module")
def fallback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    spec = GatewaySpec(
        release=RELEASE_5_28, providers=(ProviderSpec("fake"),), fallback=ProviderSpec("spare")
    )
    yield from rig(tmp_path_factory, "gw528fb", spec)


def _probe_and_check(r: Rig, before: dict[str, object], name: str) -> float:
    cfg = write_config(r.gw, r.root / name)
    # 5.28's own success in the JSON files: lastUsed, lastGood, errorCount 0, no lastProbeAt
    cleared, entry = r.probe_recovers(cfg, before, absent=["lastProbeAt"])
    assert entry["lastUsed"] >= before["lastFailureAt"]  # type: ignore[operator]
    store = open_agent(r.gw.state_dir, "main")
    assert store.era is Era.JSON_SPLIT and store.read().state["lastGood"]["fake"] == "fake:a"
    assert (r.gw.store_path.stat().st_mode & 0o777) == 0o600
    row = status_rows(r.gw, cfg)["fake:a"]
    assert row["gateway"] == "taken" and row["repair_confirmed"] is True, row
    return cleared


def test_without_fallback_probe_clears_and_the_next_request_succeeds(plain: Rig) -> None:
    r = plain
    r.fail_with_402("fake:a")
    res = r.gw.chat()
    assert res.status == 402, str(res)
    before = r.gw.entry("fake:a")
    assert before["disabledReason"] == "billing"
    assert before["disabledUntil"] - before["lastFailureAt"] == FIVE_HOURS_MS
    r.recover()  # no user traffic now: 5.28 would probe the profile itself on the next request

    cleared = _probe_and_check(r, before, "probe")
    r.next_request_through("fake:a", cleared=cleared)
    r.gw.assert_untouched(r.pid)


def test_with_fallback_probe_brings_the_primary_back(fallback: Rig) -> None:
    r = fallback
    before = r.disable_behind_fallback("fake:a", "spare:a")
    cleared = _probe_and_check(r, before, "probe")
    r.next_request_through("fake:a", cleared=cleared, fallback="spare:a")
    r.gw.assert_untouched(r.pid)


def test_with_fallback_an_external_clear_survives_the_gateways_next_write(fallback: Rig) -> None:
    r = fallback
    r.disable_behind_fallback("fake:a", "spare:a")
    cfg = write_config(r.gw, r.root / "clear", reload_command=[])  # the gateway is not told
    proc = probed(r.gw, cfg, "clear", "fake:a")
    assert proc.returncode == 0, proc.stderr[-2000:]
    r.fail_with_402("spare:a")  # the gateway's next write: the fallback's own failure
    r.gw.chat()
    assert r.gw.entry("spare:a").get("disabledReason") == "billing"
    entry = r.gw.entry("fake:a")
    assert not {"disabledUntil", "disabledReason"} & set(entry), f"the clear was lost: {entry}"
    r.next_request_through("fake:a")
    r.gw.assert_untouched(r.pid)
