"""Log forms, the journald priority prefix, and redaction of every record (stdlib ones too)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from probed.logs import configure, get_logger, resolve_format, scrub, scrub_text

SECRETS = [
    "sk-ant-api03-SECRET-0001-aaaaaaaaaaaaaaaa",
    "sk-or-v1-SECRET0002bbbbbbbbbb",
    "sk-proj-SECRET-0003-cccccccc",
    "xai-SECRET0004dddddddddd",
    "AIzaSECRET0005eeeeeeeeeeeeeeeeeeeeee",
    "0123456789abcdef0123456789abcdef01234567",
    "eyJhbGciOiJIUzI1NiJ9Secret0006QmFzZTY0VG9rZW4",
]


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    yield stream
    configure("info", "console", stream=io.StringIO())  # leave no handler on our stream


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_journal_form_has_priority_prefix_and_no_timestamp(out: io.StringIO) -> None:
    configure("debug", "journal", stream=out)
    log = get_logger()
    log.debug("d_event", agent="main")
    log.info(
        "probe_started", agent="main", profile="anthropic:default", until="2026-10-07T12:00:00Z"
    )
    log.warning("w_event")
    log.error("e_event", reason="billing")
    got = lines(out)
    assert [line[:3] for line in got] == ["<7>", "<6>", "<4>", "<3>"]
    assert got[1].startswith("<6>event=probe_started ")
    assert "profile=anthropic:default" in got[1]
    assert "until=2026-10-07T12:00:00Z" in got[1]
    assert all("timestamp" not in line for line in got)


def test_exceptions_stay_on_one_line_and_are_scrubbed(out: io.StringIO) -> None:
    configure("info", "journal", stream=out)
    try:
        raise RuntimeError(f"401 for {SECRETS[0]}")
    except RuntimeError:
        get_logger().exception("probe_error", profile="anthropic:default")
    got = lines(out)
    assert len(got) == 1 and got[0].startswith("<3>event=probe_error")
    assert "RuntimeError" in got[0] and SECRETS[0] not in got[0]


def test_level_change_takes_effect_on_existing_loggers(out: io.StringIO) -> None:
    log = get_logger(agent="main")  # made before configure, as module-level loggers are
    configure("warning", "journal", stream=out)
    log.info("hidden")
    configure("debug", "journal", stream=out)
    log.debug("shown")
    assert [line.split()[0] for line in lines(out)] == ["<7>event=shown"]


def test_json_and_console_forms(out: io.StringIO) -> None:
    configure("info", "json", stream=out)
    get_logger().info("probe_succeeded", agent="main", paid=True)
    record = json.loads(lines(out)[-1])
    assert record["event"] == "probe_succeeded" and record["level"] == "info"
    assert record["paid"] is True and "timestamp" in record
    configure("info", "console", stream=out)
    get_logger().info("state_cleared", profile="openai:default")
    last = lines(out)[-1]
    assert "info" in last and "state_cleared" in last and "profile=openai:default" in last
    assert last[:4].isdigit()  # starts with a timestamp


def test_auto_format_follows_journal_stream() -> None:
    assert resolve_format("auto", {"JOURNAL_STREAM": "8:12345"}) == "journal"
    assert resolve_format("auto", {}) == "console"
    assert resolve_format("json", {"JOURNAL_STREAM": "8:1"}) == "json"


@pytest.mark.parametrize("fmt", ["journal", "json", "console"])
def test_no_credential_in_any_form(out: io.StringIO, fmt: str) -> None:
    configure("debug", fmt, stream=out)
    log = get_logger()
    for secret in SECRETS:
        log.info("leak_attempt", message=f"got {secret} back", nested={"a": [secret]})
    log.info("named", api_key="plain", token="plain2", authorization="x", password="y")
    log.info("header", headers={"Authorization": "Bearer abc.def-ghi", "x-api-key": "k1"})
    log.info("url", url="https://generativelanguage.googleapis.com/v1beta/models?key=zzzz123")
    logging.getLogger("apscheduler.executors").warning("job failed: %s", SECRETS[2])
    logging.getLogger("somelib").error("boom %s", SECRETS[3])
    text = out.getvalue()
    for secret in [*SECRETS, "plain", "plain2", "abc.def-ghi", "k1", "zzzz123"]:
        assert secret not in text, secret
    assert "***" in text
    assert "apscheduler.executors" in text  # the stdlib record did come through, scrubbed


def test_httpx_request_logging_is_silenced(out: io.StringIO) -> None:
    configure("debug", "journal", stream=out)
    logging.getLogger("httpx").info('HTTP Request: GET https://x/v1/models "HTTP/1.1 200 OK"')
    logging.getLogger("httpcore.http11").debug("send_request_headers.started")
    logging.getLogger("apscheduler.scheduler").info("Added job")
    assert out.getvalue() == ""
    logging.getLogger("httpx").warning("something real")
    assert "something real" in out.getvalue()


def test_scrub_keeps_ordinary_values() -> None:
    plain = {
        "profile": "anthropic:default",
        "path": "/tmp/pytest-of-root/test_a_cooldown_expiring_a_second_later0/x",
        "until": "2026-10-07T12:00:00Z",
        "count": 3,
        "sk": "sketch",
    }
    assert scrub(plain) == plain
    assert scrub_text("Bearer sk-ant-xyz12345") == "***"


_DEFERRED = """
import sys
from probed.logs import configure, get_logger
configure("info", "json", stream=sys.stdout)
log = get_logger(agent="main")
assert "structlog" not in sys.modules, "structlog imported before any record"
import logging
logging.getLogger("foreign").warning("foreign %s", sys.argv[1])
log.info("probe_started", detail=sys.argv[1])
"""


def test_structlog_is_configured_at_the_first_record_not_at_import() -> None:
    """A command that logs nothing never imports structlog; the first record, ours or a
    foreign one, is still formatted as configured and redacted."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _DEFERRED, f"key {SECRETS[0]}"],
        capture_output=True,
        text=True,
        check=True,
    )
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(g["event"], g["level"]) for g in got] == [
        ("foreign key ***", "warning"),
        ("probe_started", "info"),
    ]
    assert got[0]["logger"] == "foreign"
    assert got[1]["agent"] == "main" and got[1]["detail"] == "key ***"
    assert SECRETS[0] not in proc.stdout
