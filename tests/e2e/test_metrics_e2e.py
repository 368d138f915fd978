"""`[metrics]` with the real daemon: scrape its /metrics on 127.0.0.1, read its textfile, and
the textfile each command rewrites."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from helpers.daemonproc import DaemonProc, daemon_env, wait_for
from helpers.daemonproc import write_config as daemon_config
from helpers.openclawstate import AgentStore, api_key, billing_disabled, cooldown, now_ms
from prometheus_client.parser import text_string_to_metric_families

from probed import __version__
from probed.fakeprovider import FakeProvider

pytestmark = pytest.mark.slow

KEY_BILL = "sk-ant-api03-SECRET-1611-aaaaaaaaaaaaaaaa"
KEY_OK = "sk-ant-api03-SECRET-1612-bbbbbbbbbbbbbbbb"
BILLING_BODY = (
    '{"type":"error","error":{"type":"invalid_request_error","message":'
    '"Your credit balance is too low to access the Anthropic API."}}'
)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


def write_config(path: Path, tmp: Path, base_url: str) -> None:
    daemon_config(
        path,
        tmp,
        base_url,
        log_format="journal",
        backoff={"billing": ("2s", "3s")},
        extra=f"""
[metrics]
listen = "127.0.0.1:0"
textfile = "{tmp / "textfile" / "probed.prom"}"
""",
    )


def test_daemon_serves_metrics_and_keeps_the_textfile(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    t0 = now_ms()
    store.write(
        {
            "anthropic:bill": api_key("anthropic", KEY_BILL),
            "anthropic:ok": api_key("anthropic", KEY_OK),
        },
        {
            "anthropic:bill": billing_disabled(t0),
            "anthropic:ok": cooldown(t0 + 1000),
        },
    )
    (tmp_path / "textfile").mkdir()
    textfile = tmp_path / "textfile" / "probed.prom"
    config = tmp_path / "probed.toml"
    with FakeProvider() as fake:
        # the free model list answers; the paid 1-token generation says billing
        fake.respond(credential=KEY_BILL, kind="paid", status=400, body=BILLING_BODY)
        write_config(config, tmp_path, fake.base_url)
        with DaemonProc(config, home=tmp_path / "home") as d:
            line = d.wait_for(lambda: d.events("metrics_listening"), "metrics_listening")[0]
            address = re.search(r"address=(127\.0\.0\.1:\d+)", line)
            assert address, line
            url = f"http://{address.group(1)}/metrics"
            d.wait_for(
                lambda: (
                    d.events("probe_failed", profile="anthropic:bill")
                    and d.events("state_cleared", profile="anthropic:ok")
                ),
                "one failed and one recovered probe",
            )

            def scraped() -> str:
                return httpx.get(url, timeout=5).text

            text = d.wait_for(
                lambda: (
                    (t := scraped())
                    and value(t, "probed_probes_total", provider="anthropic", outcome="recovered")
                    and t
                ),
                "the counters on /metrics",
            )
            who = {"agent": "main", "profile": "anthropic:bill", "provider": "anthropic"}
            assert value(text, "probed_profile_unusable", **who, reason="billing") == 1
            ok = {"agent": "main", "profile": "anthropic:ok", "provider": "anthropic"}
            assert value(text, "probed_profile_unusable", **ok, reason="") == 0
            until = value(text, "probed_profile_until_timestamp_seconds", **who)
            assert until is not None and until > t0 / 1000  # (clamped to backoff.billing.cap)
            assert value(text, "probed_profile_until_timestamp_seconds", **ok) == 0
            failed = value(text, "probed_probes_total", provider="anthropic", outcome="failed")
            assert failed is not None and failed >= 1
            paid = value(text, "probed_paid_requests_total", provider="anthropic")
            assert paid is not None and paid >= 1  # billing is only disproved by a paid probe
            assert paid <= fake.counts().paid
            last = value(text, "probed_last_probe_timestamp_seconds", **who)
            assert last is not None and last >= t0 / 1000
            assert value(text, "probed_build_info", version=__version__) == 1
            assert "# TYPE probed_probes_total counter" in text

            # the textfile says the same, and is kept current
            def in_textfile() -> str | None:
                if not textfile.exists():
                    return None
                body = textfile.read_text(encoding="utf-8")
                got = value(body, "probed_probes_total", provider="anthropic", outcome="failed")
                return body if got and got >= failed else None

            body = d.wait_for(in_textfile, "the textfile")
            assert value(body, "probed_profile_unusable", **who, reason="billing") == 1
            assert oct(textfile.stat().st_mode & 0o777) == "0o644"  # node_exporter reads it
            assert not [p for p in textfile.parent.iterdir() if p != textfile]  # no tmp left
            before = failed
            d.wait_for(
                lambda: (
                    (v := value(scraped(), "probed_probes_total", **_failed)) is not None
                    and v > before
                ),
                "the failed counter to go up",
            )
            scrape = scraped()
        output = d.output()
    for secret in (KEY_BILL, KEY_OK):
        assert secret not in scrape and secret not in body and secret not in output
        assert secret[-12:] not in scrape


_failed = {"provider": "anthropic", "outcome": "failed"}


def test_each_command_rewrites_the_textfile_and_counts_its_probes(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    store.write({"anthropic:ok": api_key("anthropic", KEY_OK)}, {"anthropic:ok": cooldown(1)})
    textfile = tmp_path / "probed.prom"
    config = tmp_path / "probed.toml"
    env = daemon_env(tmp_path / "home")
    with FakeProvider() as fake:
        write_config(config, tmp_path, fake.base_url)
        text = config.read_text().replace(str(tmp_path / "textfile" / "probed.prom"), str(textfile))
        config.write_text(text.replace('listen = "127.0.0.1:0"', 'listen = ""'))

        def run(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "probed", *argv, "-c", str(config)],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )

        for argv, code in ((["status"], 0), (["gate", "anthropic"], 0)):
            textfile.unlink(missing_ok=True)
            assert run(*argv).returncode == code
            wait_for(textfile.exists, f"the textfile after probed {argv[0]}", 5)
            assert value(textfile.read_text(), "probed_build_info", version=__version__) == 1
        proc = run("probe", "anthropic:ok", "--force")
        assert proc.returncode == 0, proc.stderr
        body = textfile.read_text()
        assert value(body, "probed_probes_total", provider="anthropic", outcome="recovered") == 1
        assert value(body, "probed_last_probe_timestamp_seconds", agent="main",
                     profile="anthropic:ok", provider="anthropic")  # fmt: skip
        proc = run("probe", "anthropic:ok")  # usable: nothing sent, counted as `usable`
        body = textfile.read_text()
        assert value(body, "probed_probes_total", provider="anthropic", outcome="usable") == 1
        assert value(body, "probed_probes_total", provider="anthropic", outcome="recovered") == 1

        # a textfile that cannot be written is a warning, never a failed command
        config.write_text(
            config.read_text().replace(str(textfile), str(tmp_path / "nowhere" / "p.prom"))
        )
        proc = run("status")
        assert proc.returncode == 0, proc.stderr
        assert "metrics_textfile_failed" in proc.stderr
