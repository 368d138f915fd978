"""`[notify]` with the real daemon: Apprise's json:// and ntfy:// URLs pointed at a recording
HTTP server on 127.0.0.1, a real fake provider, real signals and a real restart."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.daemonproc import DaemonProc
from helpers.daemonproc import write_config as daemon_config
from helpers.notifyserver import Recorder
from helpers.openclawstate import AgentStore, api_key, billing_disabled, cooldown, now_ms

from probed.fakeprovider import FakeProvider

pytestmark = pytest.mark.slow

KEY_BILL = "sk-ant-api03-SECRET-1601-aaaaaaaaaaaaaaaa"
KEY_RATE = "sk-proj-SECRET-1602-bbbbbbbbbbbbbbbb"
URL_PASSWORD = "n0tify-Passw0rd-1603"
SECRETS = (KEY_BILL, KEY_RATE, URL_PASSWORD)
BILLING_BODY = (
    '{"type":"error","error":{"type":"invalid_request_error","message":'
    '"Your credit balance is too low to access the Anthropic API."}}'
)


def write_config(path: Path, tmp: Path, base_url: str, urls: list[str], extra: str = "") -> None:
    quoted = ", ".join(f'"{u}"' for u in urls)
    daemon_config(
        path,
        tmp,
        base_url,
        log_format="journal",
        backoff={"billing": ("2s", "3s"), "rate_limit": ("1s", "2s")},
        extra=f"""
[providers.openai]
api = "openai"
base_url = "{base_url}/v1"
model = "gpt-5-mini"

[notify]
urls = [{quoted}]
{extra}
""",
    )


def seed(tmp: Path, fake: FakeProvider | None = None) -> AgentStore:
    """`main` with an anthropic profile disabled for billing and an openai one in a cooldown;
    with `fake`, it answers billing to the one and 429 to the other."""
    if fake is not None:
        fake.respond(credential=KEY_BILL, status=400, body=BILLING_BODY)
        fake.respond(credential=KEY_RATE, status=429, headers={"retry-after": "1"})
    store = AgentStore(tmp / "openclaw", "main", "B")
    t0 = now_ms()
    store.write(
        {
            "anthropic:default": api_key("anthropic", KEY_BILL),
            "openai:default": api_key("openai", KEY_RATE),
        },
        {"anthropic:default": billing_disabled(t0), "openai:default": cooldown(t0 + 1500)},
    )
    return store


def messages(rec: Recorder) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(json:// documents, ntfy documents) received so far."""
    as_json = [r.json() for r in rec.on("/hook")]
    ntfy = [r.json() for r in rec.requests if r.path == "/"]
    return as_json, ntfy


def test_one_message_per_episode_across_probes_reload_and_restart(tmp_path: Path) -> None:
    with Recorder() as rec, FakeProvider() as fake:
        seed(tmp_path, fake)
        urls = [
            f"json://127.0.0.1:{rec.port}/hook",
            f"ntfy://127.0.0.1:{rec.port}/probed-alerts",
        ]
        config = tmp_path / "probed.toml"
        write_config(config, tmp_path, fake.base_url, urls)
        home = tmp_path / "home"
        outputs: list[str] = []

        d = DaemonProc(config, home=home)
        try:
            d.wait_for(lambda: len(rec.requests) >= 2, "the first notification on both URLs")
            as_json, ntfy = messages(rec)
            assert len(as_json) == 1 and len(ntfy) == 1
            doc = as_json[0]
            text = f"{doc['title']}\n{doc['message']}"
            for needed in ("main", "anthropic:default", "provider anthropic", "billing"):
                assert needed in text, (needed, text)
            assert "What to do: top up the account's credit" in doc["message"]
            assert "probed looks again at 20" in doc["message"]  # an ISO time, in n minutes
            assert ntfy[0]["topic"] == "probed-alerts"
            assert ntfy[0]["message"] == doc["message"] and ntfy[0]["title"] == doc["title"]

            # more failed probes of the same episode: nothing more
            d.wait_for(
                lambda: len(d.events("probe_failed", profile="anthropic:default")) >= 3,
                "three failed probes",
            )
            # SIGHUP: the configuration is reloaded, and nothing is sent again
            d.proc.send_signal(signal.SIGHUP)
            d.wait_for(lambda: d.events("config_reloaded"), "config_reloaded")
            failed = len(d.events("probe_failed", profile="anthropic:default"))
            d.wait_for(
                lambda: len(d.events("probe_failed", profile="anthropic:default")) > failed,
                "a probe after the reload",
            )
            assert len(rec.requests) == 2, [r.text() for r in rec.requests]
        finally:
            assert d.stop() == 0
            outputs.append(d.output())

        # a restart remembers what was said (notifications.json in the state dir)
        assert (tmp_path / "state" / "notifications.json").exists()
        d = DaemonProc(config, home=home)
        try:
            d.wait_for(
                lambda: len(d.events("probe_failed", profile="anthropic:default")) >= 2,
                "failed probes after the restart",
            )
            time.sleep(1.5)  # the sender gathers for a second before sending
            assert len(rec.requests) == 2, [r.text() for r in rec.requests]

            # the account is topped up: the next probe recovers it, one message per URL
            fake.respond(credential=KEY_BILL, status=200)
            d.wait_for(lambda: len(rec.requests) >= 4, "the recovery notification")
            as_json, ntfy = messages(rec)
            assert len(as_json) == 2 and len(ntfy) == 2
            assert "anthropic:default is usable again" in as_json[1]["title"]
            assert "was unusable (billing)" in as_json[1]["message"]
            time.sleep(1.5)
            assert len(rec.requests) == 4
        finally:
            assert d.stop() == 0
            outputs.append(d.output())

        everything = "\n".join([*outputs, *(r.text() for r in rec.requests)])
        # the rate limit passes by itself: `unavailable` is off by default, so no word of it
        assert "openai:default" not in "\n".join(r.text() for r in rec.requests)
        assert "openai:default" in outputs[0]  # (it was there, and probed)
        for secret in SECRETS:
            assert secret not in everything
        assert len([line for line in outputs[0].splitlines() if "event=notify_sent" in line]) == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_notification_that_cannot_be_sent_is_logged_and_delays_nothing(tmp_path: Path) -> None:
    with Recorder() as slow, FakeProvider() as fake:
        slow.status, slow.delay = 500, 6.0  # answers an error, and only after 6 s
        seed(tmp_path, fake)
        urls = [
            f"json://probed:{URL_PASSWORD}@127.0.0.1:{_closed_port()}/down",
            f"json://127.0.0.1:{slow.port}/hook",
        ]
        config = tmp_path / "probed.toml"
        write_config(config, tmp_path, fake.base_url, urls, 'events = ["action_needed"]')
        with DaemonProc(config, home=tmp_path / "home") as d:
            d.wait_for(lambda: slow.requests, "the slow server to be reached")
            reached = time.monotonic()
            # while the send hangs, probes go on at their pace (every ~3 s)
            failed = len(d.events("probe_failed", profile="anthropic:default"))
            d.wait_for(
                lambda: len(d.events("probe_failed", profile="anthropic:default")) >= failed + 1,
                "a probe while a notification hangs",
                timeout=5.5,
            )
            assert time.monotonic() - reached < 6.0
            down = d.wait_for(lambda: d.events("notify_failed", service="json#1"), "json#1")
            bad = d.wait_for(lambda: d.events("notify_failed", service="json#2"), "json#2")
            assert down[0].startswith("<4>") and "profile=anthropic:default" in down[0]
            assert "notify_event=action_needed" in bad[0]
            assert d.proc.poll() is None
            output = d.output()
        assert URL_PASSWORD not in output and "127.0.0.1:" + str(slow.port) not in output
        for secret in SECRETS:
            assert secret not in output


def test_notify_urls_without_apprise_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "probed.toml"
    write_config(config, tmp_path, "http://127.0.0.1:9", [f"ntfy://u:{URL_PASSWORD}@127.0.0.1/t"])
    blocked = (
        "import sys; sys.modules['apprise'] = None\n"  # as if the [notify] extra were missing
        "from probed.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    for argv in (["config", "check"], ["run"]):
        proc = subprocess.run(
            [sys.executable, "-c", blocked, *argv, "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 78, proc.stderr
        assert "notify.urls" in proc.stderr and "openclaw-probed[notify]" in proc.stderr
        assert proc.stderr.count("\n") == 1 and URL_PASSWORD not in proc.stderr


def test_a_flapping_profile_is_no_burst(tmp_path: Path) -> None:
    """OpenClaw disables the profile again and again, each time probed's probe recovers it:
    two episodes are announced (and their recoveries), then the budget holds the rest back."""
    with Recorder() as rec, FakeProvider() as fake:
        store = seed(tmp_path)
        config = tmp_path / "probed.toml"
        write_config(config, tmp_path, fake.base_url, [f"json://127.0.0.1:{rec.port}/hook"])
        config.write_text(config.read_text().replace('base = "2s"', 'base = "1s"', 1))
        profiles = {"anthropic:default": api_key("anthropic", KEY_BILL)}
        with DaemonProc(config, home=tmp_path / "home") as d:
            for cycle in range(1, 6):
                d.wait_for(
                    lambda c=cycle: (
                        len(d.events("state_cleared", profile="anthropic:default")) >= c
                    ),
                    f"recovery {cycle}",
                )
                if cycle < 5:
                    store.write(profiles, {"anthropic:default": billing_disabled(now_ms())})
            time.sleep(1.5)  # the sender gathers for a second
            text = "\n".join(r.json()["message"] for r in rec.on("/hook"))
            assert text.count("Action needed: agent main, profile anthropic:default") == 2, text
            assert text.count("Recovered: agent main, profile anthropic:default") == 2, text
            assert len(rec.requests) <= 4  # (several at once go out as one digest)
            assert len(d.events("state_cleared", profile="anthropic:default")) >= 5
