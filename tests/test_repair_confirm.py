"""Confirmed repair, I/O side: `probed.reload.after_repair` / `settle`, the repair record and
`probed status`'s gateway fields, against a real HTTP `/readyz` on 127.0.0.1 and real reload
commands (the end-to-end version with a real OpenClaw gateway is tests/e2e/test_gateway_*.py)."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers.ocstate import era_b

from probed import repair
from probed.cli import main
from probed.clock import now_ms
from probed.config import Config, load_config
from probed.confirm import Verdict
from probed.reasons import Reason
from probed.reload import after_repair, next_retry_ms, settle
from probed.repairlog import RepairLog
from probed.stores.discover import open_agent

BILLED = {
    "disabledUntil": 4_000_000_000_000,
    "disabledReason": "billing",
    "errorCount": 1,
    "failureCounts": {"billing": 1},
    "lastFailureAt": 1_800_000_000_000,
}


class Readyz:
    """A stand-in for the gateway's `/readyz` only: up since `started_ms`."""

    def __init__(self, started_ms: int) -> None:
        self.started_ms = started_ms
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                return

            def do_GET(self) -> None:
                body = json.dumps({"ready": True, "uptimeMs": now_ms() - outer.started_ms}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def oc(tmp_path: Path) -> Path:
    state = tmp_path / "oc"
    era_b(state, {"anthropic:a": dict(BILLED)})
    return state


def _point(state: Path, port: int) -> None:
    (state / "openclaw.json").write_text(json.dumps({"gateway": {"port": port}}))


def _config(tmp_path: Path, state: Path, command: list[str]) -> Config:
    cfg = tmp_path / "probed.toml"
    cfg.write_text(
        f'[daemon]\nstate_dir = "{tmp_path / "ps"}"\n[openclaw]\nstate_dir = "{state}"\n'
        f"reload_command = {json.dumps(command)}\n"
    )
    return load_config(cfg)


def _script(tmp_path: Path, *, ok_if: Path | None = None, ran: Path | None = None) -> list[str]:
    """A reload command: exits 0 when `ok_if` exists (or always, without it), records runs."""
    code = "import sys, pathlib\n"
    if ran is not None:
        code += f"open({str(ran)!r}, 'a').write('x')\n"
    if ok_if is not None:
        code += (
            f"if not pathlib.Path({str(ok_if)!r}).exists():\n"
            "    sys.stderr.write('Gateway not reachable\\n'); sys.exit(1)\n"
        )
    return [sys.executable, "-c", code]


@pytest.fixture
def up_before() -> Iterator[Readyz]:
    srv = Readyz(now_ms() - 600_000)
    yield srv
    srv.close()


def _repair(state: Path) -> None:
    assert repair.record_success(open_agent(state, "main"), "anthropic:a", now_ms=now_ms())


def test_reload_ok_means_taken(tmp_path: Path, oc: Path, up_before: Readyz) -> None:
    _point(oc, up_before.port)
    config = _config(tmp_path, oc, _script(tmp_path))
    _repair(oc)
    got = after_repair(config, [(open_agent(oc, "main"), "anthropic:a")])
    rec = got[("main", "anthropic:a")]
    assert rec.verdict is Verdict.TAKEN and rec.attempts == 0 and rec.reload_ok_at_ms
    assert next_retry_ms(config) is None  # nothing left to retry


def test_a_retry_pass_during_the_confirmation_does_not_reload_again(
    tmp_path: Path, oc: Path, up_before: Readyz
) -> None:
    """The daemon's retry loop runs beside a probe's own confirmation: while that reload is
    still running, the new repair is not due for a retry (it was: two reloads per repair)."""
    _point(oc, up_before.port)
    ran, started = tmp_path / "ran", tmp_path / "started"
    slow = [
        sys.executable,
        "-c",
        f"import time; open({str(started)!r}, 'w').close(); time.sleep(1.5); "
        f"open({str(ran)!r}, 'a').write('x')",
    ]
    config = _config(tmp_path, oc, slow)
    _repair(oc)
    got: dict[str, Verdict] = {}

    def confirm() -> None:
        rec = after_repair(config, [(open_agent(oc, "main"), "anthropic:a")])
        got["verdict"] = rec[("main", "anthropic:a")].verdict

    worker = threading.Thread(target=confirm)
    worker.start()
    deadline = time.monotonic() + 10
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # until the reload command runs
    assert settle(config) == {}  # the retry pass: nothing due
    worker.join(timeout=20)
    assert got["verdict"] is Verdict.TAKEN
    assert ran.read_text() == "x"  # one reload for one repair


def test_gateway_down_then_started_is_taken_without_another_reload(
    tmp_path: Path, oc: Path
) -> None:
    port = _free_port()
    _point(oc, port)
    ran = tmp_path / "ran"
    config = _config(tmp_path, oc, _script(tmp_path, ok_if=tmp_path / "never", ran=ran))
    _repair(oc)
    rec = after_repair(config, [(open_agent(oc, "main"), "anthropic:a")])[("main", "anthropic:a")]
    assert rec.verdict is Verdict.NOT_RUNNING and rec.attempts == 1
    assert rec.last_error is not None and "no gateway answers" in rec.last_error
    assert "exited 1: Gateway not reachable" in rec.last_error
    assert rec.next_retry_at_ms is not None and rec.next_retry_at_ms - rec.checked_at_ms == 5000  # type: ignore[operator]
    assert settle(config) == {}  # not due yet: nothing is looked at

    time.sleep(2.5)  # the gateway now starts after the repair (START_SLACK_MS is 2 s)
    srv = Readyz(now_ms())
    try:
        _point(oc, srv.port)
        runs = ran.read_text()
        rec = settle(config, now_ms=rec.next_retry_at_ms)[("main", "anthropic:a")]
        assert rec.verdict is Verdict.TAKEN
        assert ran.read_text() == runs  # a fresh gateway read the store: no reload needed
    finally:
        srv.close()


def test_pending_reload_is_retried_until_it_works(
    tmp_path: Path, oc: Path, up_before: Readyz
) -> None:
    _point(oc, up_before.port)
    flag, ran = tmp_path / "ok", tmp_path / "ran"
    config = _config(tmp_path, oc, _script(tmp_path, ok_if=flag, ran=ran))
    _repair(oc)
    rec = after_repair(config, [(open_agent(oc, "main"), "anthropic:a")])[("main", "anthropic:a")]
    assert rec.verdict is Verdict.PENDING and "Gateway not reachable" in (rec.last_error or "")
    later = rec.next_retry_at_ms
    rec = settle(config, now_ms=later)[("main", "anthropic:a")]
    assert rec.verdict is Verdict.PENDING and rec.attempts == 2
    assert rec.next_retry_at_ms - later == 10_000  # type: ignore[operator]
    flag.touch()
    rec = settle(config, now_ms=rec.next_retry_at_ms)[("main", "anthropic:a")]
    assert rec.verdict is Verdict.TAKEN and rec.attempts == 0 and rec.last_error is None
    assert ran.read_text() == "xxx"  # the first try and two retries


def test_a_newer_failure_overwrites_the_repair(tmp_path: Path, oc: Path) -> None:
    _point(oc, _free_port())
    config = _config(tmp_path, oc, _script(tmp_path, ok_if=tmp_path / "never"))
    _repair(oc)
    rec = after_repair(config, [(open_agent(oc, "main"), "anthropic:a")])[("main", "anthropic:a")]
    assert rec.verdict is Verdict.NOT_RUNNING
    repair.record_failure(
        open_agent(oc, "main"),
        "anthropic:a",
        reason=Reason.BILLING,
        until_ms=now_ms() + 600_000,
        model=None,
        now_ms=now_ms(),
    )
    rec = settle(config, now_ms=rec.next_retry_at_ms)[("main", "anthropic:a")]
    assert rec.verdict is Verdict.OVERWRITTEN and next_retry_ms(config) is None


def test_no_reload_command_records_nothing(tmp_path: Path, oc: Path) -> None:
    config = _config(tmp_path, oc, [])
    _repair(oc)
    assert after_repair(config, [(open_agent(oc, "main"), "anthropic:a")]) == {}
    assert not RepairLog(config.daemon.state_dir).path.exists()


def test_status_shows_the_gateway_verdict(
    tmp_path: Path, oc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _point(oc, _free_port())
    cfg = tmp_path / "probed.toml"
    _config(tmp_path, oc, _script(tmp_path, ok_if=tmp_path / "never"))
    assert main(["clear", "anthropic:a", "-c", str(cfg)]) == 0
    capsys.readouterr()
    assert main(["status", "--json", "-c", str(cfg)]) == 0
    row = json.loads(capsys.readouterr().out)["profiles"][0]
    assert (row["gateway"], row["repair_confirmed"]) == ("not_running", False)
    assert "no gateway answers" in row["gateway_detail"]
    assert main(["status", "-c", str(cfg)]) == 0
    table = capsys.readouterr().out
    assert "1 repair not taken by the gateway yet" in table.splitlines()[0]
    assert table.splitlines()[2].split()[-1] == "GATEWAY" and " down" in table
    assert "gateway has not taken probed's repair yet: no gateway answers" in table

    # status is read-only, but looks again: a gateway that started since has the repair
    time.sleep(2.5)
    srv = Readyz(now_ms())
    try:
        _point(oc, srv.port)
        assert main(["status", "--json", "-c", str(cfg)]) == 0
        row = json.loads(capsys.readouterr().out)["profiles"][0]
        assert (row["gateway"], row["repair_confirmed"], row["gateway_detail"]) == (
            "taken",
            True,
            None,
        )
    finally:
        srv.close()


def test_the_repairs_of_one_batch_are_confirmed_with_one_or_two_reloads(
    tmp_path: Path, up_before: Readyz
) -> None:
    """`probed probe anthropic` repairs eight profiles in one batch: the gateway is reloaded
    for the first repair and once more for all the others, not once per profile (a burst of a
    thousand repairs was a thousand `openclaw secrets reload` runs of seconds each)."""
    import anyio
    from helpers.probestate import billing, write_config, write_store

    from probed.fakeprovider import FakeProvider
    from probed.recover import make_context, probe_target
    from probed.stores.discover import discover

    oc = tmp_path / "oc"
    n = 8
    profiles = {
        f"anthropic:p{i}": {
            "type": "api_key",
            "provider": "anthropic",
            "key": f"sk-ant-api03-BATCH-{i:04d}-aaaaaaaaaaaa",
        }
        for i in range(n)
    }
    write_store(oc, profiles, {pid: billing() for pid in profiles})
    _point(oc, up_before.port)
    ran = tmp_path / "ran"
    slow = [
        sys.executable,
        "-c",
        f"import time; time.sleep(0.3); open({str(ran)!r}, 'a').write('x')",
    ]
    with FakeProvider() as fake:
        path = write_config(tmp_path, oc, providers={"anthropic": {"base_url": fake.base_url}})
        text = path.read_text().replace(
            "reload_command = []", f"reload_command = {json.dumps(slow)}"
        )
        path.write_text(text, encoding="utf-8")
        config = load_config(path)

        async def go() -> list:
            ctx = make_context(config)
            async with ctx.client:
                return await probe_target(ctx, discover(config.openclaw), "anthropic")

        results = anyio.run(go)
    assert len(results) == n and all(r.outcome == "recovered" for r in results)
    assert 1 <= len(ran.read_text()) <= 2
    records = RepairLog(tmp_path / "state").all()
    assert len(records) == n and all(r.verdict is Verdict.TAKEN for r in records)


@pytest.mark.parametrize(
    ("window", "reloads"),
    [
        ({"cooldownUntil": -5_000, "cooldownReason": "rate_limit"}, 0),  # ended by itself
        ({"cooldownUntil": 600_000, "cooldownReason": "rate_limit"}, 1),  # still active
        ({"disabledUntil": -5_000, "disabledReason": "billing"}, 1),  # may have been clamped
    ],
)
def test_a_cooldown_that_ended_by_itself_is_repaired_without_a_reload(
    tmp_path: Path, up_before: Readyz, window: dict[str, object], reloads: int
) -> None:
    """The gateway's copy of a cooldown is never longer than the store's, so once the store's
    has ended the gateway sends the next request through by itself; a reload would only hold
    it (a 9.6 gateway passes no request on while `secrets reload` runs). An active window, or
    a billing window the stale clamp may have shortened on disk only, still gets one."""
    import anyio
    from helpers.probestate import KEY_A, write_config, write_store

    from probed.fakeprovider import FakeProvider
    from probed.recover import make_context, probe_target
    from probed.stores.discover import discover

    oc = tmp_path / "oc"
    t = now_ms()
    usage = {
        **{k: (t + v if isinstance(v, int) else v) for k, v in window.items()},
        "errorCount": 1,
        "lastFailureAt": t - 60_000,
    }
    profile = {"type": "api_key", "provider": "anthropic", "key": KEY_A}
    write_store(oc, {"anthropic:default": profile}, {"anthropic:default": usage})
    _point(oc, up_before.port)
    ran = tmp_path / "ran"
    with FakeProvider() as fake:
        path = write_config(tmp_path, oc, providers={"anthropic": {"base_url": fake.base_url}})
        command = json.dumps(_script(tmp_path, ran=ran))
        text = path.read_text().replace("reload_command = []", f"reload_command = {command}")
        path.write_text(text, encoding="utf-8")
        config = load_config(path)

        async def go() -> list:
            ctx = make_context(config)
            async with ctx.client:
                return await probe_target(ctx, discover(config.openclaw), "anthropic", force=True)

        [result] = anyio.run(go)
    assert result.outcome == "recovered"
    runs = len(ran.read_text()) if ran.exists() else 0
    assert runs == reloads
