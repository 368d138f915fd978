"""probed.redact: the one owner of redaction and terminal safety, and every output through it."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

from helpers.probestate import KEY_A, billing, write_config, write_store

from probed.cli import main
from probed.fakeprovider import FakeProvider
from probed.logs import configure, get_logger
from probed.redact import MASK, SafeStream, printable, register_url, safe_url, scrub_text

PASSWORD = "Pa55w0rd-SECRET-in-url"
PATH_TOKEN = "pathTok3nSECRET0123456789"
QUERY_TOKEN = "qTok3nSECRET98765"
ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b1m\u202egnp.exe"


def test_userinfo_of_any_url_is_masked() -> None:
    text = "cannot reach https://bob:hunter2xyz@example.com/v1 or redis://:r3dispass@h:6379/0"
    out = scrub_text(text)
    assert "hunter2xyz" not in out and "r3dispass" not in out and "bob" not in out
    assert f"https://{MASK}@example.com/v1" in out and f"redis://{MASK}@h:6379/0" in out


def test_registered_url_parts_are_masked_anywhere() -> None:
    url = f"https://u:{PASSWORD}@proxy.example/key/{PATH_TOKEN}/v1?api-version=1&sig={QUERY_TOKEN}"
    register_url(url)
    text = f"saw {PATH_TOKEN} and {QUERY_TOKEN} and {PASSWORD} in a message"
    out = scrub_text(text)
    assert PATH_TOKEN not in out and QUERY_TOKEN not in out and PASSWORD not in out
    shown = safe_url(url)
    assert shown == f"https://proxy.example/key/{MASK}/v1?{MASK}"


def test_printable_shows_control_characters_instead_of_acting_on_them() -> None:
    out = printable("a" + ESC + "\nb")
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert "\\u001b]0;pwned" in out and "\n" in out
    assert "\n" not in printable("a\nb", one_line=True)


def test_neutralised_json_output_stays_json() -> None:
    inner = io.StringIO()
    doc = {"message": ESC}
    SafeStream(inner).write(json.dumps(doc, ensure_ascii=False) + "\n")  # type: ignore[arg-type]
    assert json.loads(inner.getvalue())["message"] == ESC  # escaped, not broken
    assert "\x1b" not in inner.getvalue() and "\u202e" not in inner.getvalue()


def test_safe_stream_scrubs_and_neutralises_each_write() -> None:
    inner = io.StringIO()
    SafeStream(inner).write(f"key {KEY_A} says {ESC}\n")  # type: ignore[arg-type]
    assert KEY_A not in inner.getvalue() and "\x1b" not in inner.getvalue()


def test_log_lines_carry_no_escape_sequences() -> None:
    for fmt in ("console", "journal", "json"):
        stream = io.StringIO()
        configure("info", fmt, stream=stream)
        get_logger().info("probe_failed", message=ESC, nested={"m": [ESC]})
        text = stream.getvalue()
        assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text, fmt
        assert len(text.strip().splitlines()) == 1
    configure("info", "console", stream=io.StringIO())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _everything(tmp_path: Path, out: str, err: str) -> str:
    files = [p.read_text(errors="replace") for p in (tmp_path / "lock").glob("*") if p.is_file()]
    return "\n".join([out, err, *files])


def test_secret_in_base_url_never_reaches_output_logs_or_results(tmp_path, capsys) -> None:
    with FakeProvider() as fake:
        host = fake.base_url.split("://", 1)[1]
        # userinfo and a token in the path; the free check answers HTML, so the URL is quoted
        base = f"http://probe:{PASSWORD}@{host}/key/{PATH_TOKEN}"
        fake.respond(kind="free", status=200, body="<html>captive portal</html>")
        write_store(
            tmp_path / "oc",
            {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
            {"anthropic:default": billing()},
        )
        cfg = write_config(tmp_path, tmp_path / "oc", providers={"anthropic": {"base_url": base}})
        codes = [main(["-c", str(cfg), "probe", "anthropic:default", "--force"])]
        codes.append(main(["-c", str(cfg), "probe", "anthropic:default", "--json", "--force"]))
        codes.append(main(["-c", str(cfg), "status"]))
        codes.append(main(["-c", str(cfg), "config", "check"]))
    # and a host that refuses: the connect error names the host, never the user-info
    cfg2 = write_config(
        tmp_path,
        tmp_path / "oc",
        providers={
            "anthropic": {"base_url": f"http://probe:{PASSWORD}@127.0.0.1:{_closed_port()}"}
        },
    )
    codes.append(main(["-c", str(cfg2), "probe", "anthropic:default", "--force"]))
    out, err = capsys.readouterr()
    seen = _everything(tmp_path, out, err)
    assert codes[3] == 0 and "probe:" not in seen
    assert "127.0.0.1" in seen  # the messages still say where
    for secret in (PASSWORD, PATH_TOKEN, KEY_A):
        assert secret not in seen, secret


def test_provider_message_with_escapes_is_neutralised_in_probe_output(tmp_path, capsys) -> None:
    body = json.dumps({"type": "error", "error": {"type": "x", "message": "bad " + ESC}})
    with FakeProvider() as fake:
        fake.respond(status=400, body=body)
        write_store(
            tmp_path / "oc",
            {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
            {"anthropic:default": billing()},
        )
        cfg = write_config(
            tmp_path, tmp_path / "oc", providers={"anthropic": {"base_url": fake.base_url}}
        )
        main(["-c", str(cfg), "probe", "anthropic:default"])
        main(["-c", str(cfg), "status"])
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x9b" not in out + err and "\u202e" not in out + err


def test_registration_never_masks_ordinary_words() -> None:
    register_url("https://probe:s3cretPassw0rd@proxy.example/v1?api-version=2024-06-01")
    text = "probed probe anthropic: api-version=2024-06-01 at proxy.example"
    assert scrub_text(text) == text
    assert "s3cretPassw0rd" not in scrub_text("echo s3cretPassw0rd")
