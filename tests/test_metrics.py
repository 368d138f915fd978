"""probed.metrics: the counters' file, what a probe result counts, the /metrics server."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from probed.config import parse_config
from probed.metrics import (
    Counters,
    MetricsServer,
    Probed,
    ProbedCollector,
    from_results,
    registry_for,
    render,
    write_textfile,
)
from probed.recover import ProbeResult


def result(outcome: str, *, paid: bool = False, reused: bool = False, **kw: object) -> ProbeResult:
    base = ProbeResult("main", "anthropic:a", "anthropic", None, "usable", None, reused, paid,
                       None, None)  # fmt: skip
    return replace(base, outcome=outcome, **kw)  # type: ignore[arg-type]


def test_what_a_result_counts() -> None:
    per = (result("recovered", paid=True), result("failed", paid=True))
    counted = from_results(
        [
            result("skipped"),
            result("usable"),
            result("recovered", reused=True),
            result("recovered", per_model=per),
        ]
    )
    assert counted == [
        Probed("anthropic", "error", 0),
        Probed("anthropic", "usable", 0),
        Probed("anthropic", "recovered", 1),
        Probed("anthropic", "failed", 1),
    ]


def test_counters_only_go_up_across_processes(tmp_path: Path) -> None:
    Counters(tmp_path).add([Probed("anthropic", "failed", 1)])
    Counters(tmp_path).add([Probed("anthropic", "failed", 1), Probed("openai", "usable", 0)])
    rows = set(Counters(tmp_path).all())
    assert ("probes", "anthropic", "failed", 2) in rows
    assert ("paid_requests", "anthropic", "", 2) in rows
    assert ("probes", "openai", "usable", 1) in rows
    assert Counters(tmp_path / "none").all() == []


def test_server_serves_and_a_busy_port_is_an_oserror(tmp_path: Path) -> None:
    config = parse_config(
        {"daemon": {"state_dir": str(tmp_path / "s")}, "openclaw": {"state_dir": str(tmp_path)}},
        None,
        {},
    )
    registry = registry_for(ProbedCollector(lambda: config, list))
    server = MetricsServer("127.0.0.1:0", registry)
    try:
        body = httpx.get(f"http://{server.address}/metrics", timeout=5).text
        assert "probed_build_info{" in body and "probed_probes_total" in body
        with pytest.raises(OSError):
            MetricsServer(f"127.0.0.1:{server.port}", registry)
    finally:
        server.close()
    assert b"probed_build_info" in render(registry)
    assert write_textfile(tmp_path / "t.prom", registry)
    assert not write_textfile(tmp_path / "missing" / "t.prom", registry)
