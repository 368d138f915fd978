"""Each input form `probed classify` accepts, read by the pure parser; and what it refuses."""

from __future__ import annotations

import json

import pytest

from probed.pasted import ACCEPTED, PasteError, parse_header, parse_pasted

# A Codex 429 as `curl -i` printed it (icebear0828/codex-proxy#65), header lines shortened.
CURL = """HTTP/2 429
date: Fri, 13 Mar 2026 08:09:32 GMT
content-type: application/json
x-codex-primary-used-percent: 100
x-codex-primary-reset-at: 1773860656

{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached"}}
"""

KIMI_BODY = (
    '{"error":{"message":"You\'ve reached your weekly (7-day) usage limit.",'
    '"type":"access_terminated_error"}}'
)


def test_curl_i_output() -> None:
    p = parse_pasted(CURL)
    assert p.form == "curl"
    assert p.status == 429
    assert p.headers["x-codex-primary-reset-at"] == "1773860656"
    assert json.loads(p.body)["error"]["type"] == "usage_limit_reached"


def test_curl_i_skips_interim_and_proxy_blocks() -> None:
    text = (
        "HTTP/1.1 200 Connection established\r\n\r\n"
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 402 Payment Required\r\nContent-Type: application/json\r\n\r\n"
        '{"error":{"message":"Insufficient credits","code":402}}'
    )
    p = parse_pasted(text)
    assert (p.form, p.status) == ("curl", 402)
    assert p.headers == {"Content-Type": "application/json"}
    assert p.body.startswith('{"error"')


def test_curl_i_with_headers_only() -> None:
    p = parse_pasted("HTTP/2 503\nretry-after: 30\n")
    assert (p.status, p.headers, p.body) == (503, {"retry-after": "30"}, "")


def test_status_body_line_as_openclaw_logs_it() -> None:
    p = parse_pasted(f"403 {KIMI_BODY}")
    assert (p.form, p.status, p.body) == ("status-line", 403, KIMI_BODY)


def test_status_body_over_several_lines() -> None:
    p = parse_pasted('429 {\n  "error": {"message": "slow down"}\n}\n')
    assert p.status == 429
    assert json.loads(p.body) == {"error": {"message": "slow down"}}


@pytest.mark.parametrize(
    ("line", "status", "body"),
    [
        # mf-yang/openclaw-cn#451: OpenClaw's embedded-run log line
        (
            "08:42:54 [agent/embedded] embedded run agent end: "
            "runId=81ed95dd-2e49-4a3a-a2b2-22867f355d3f isError=true error=HTTP 500 api_error: "
            "unknown error, 520 (1000) (request_id: 05ef3a8ae33d175675b60dbe8558b61f)",
            500,
            "api_error: unknown error, 520 (1000) (request_id: 05ef3a8ae33d175675b60dbe8558b61f)",
        ),
        # openclaw/openclaw#27127
        (
            "[agent/embedded] embedded run agent end: runId=1308e707-0c7f-41b1-8375-4ab3af0e34de "
            "isError=true error=400 status code (no body)",
            400,
            "",
        ),
        # a client's prefix before the status, as Claude Code prints it
        (
            'API Error: 400 {"type":"error","error":{"type":"invalid_request_error",'
            '"message":"This organization has been disabled."}}',
            400,
            '{"type":"error","error":{"type":"invalid_request_error",'
            '"message":"This organization has been disabled."}}',
        ),
    ],
)
def test_openclaw_log_lines(line: str, status: int, body: str) -> None:
    p = parse_pasted(f"some earlier line\n{line}\n")
    assert (p.status, p.body) == (status, body)


# The fields OpenClaw 9.6 logs with "embedded run agent end" (dist/builtin-openclaw-*.mjs:
# event, tags, runId, isError, error = the friendly text, then buildApiErrorObservationFields:
# rawErrorPreview, rawErrorHash, httpCode, ...); the values are a Kimi answer from
# openclaw/openclaw#142656.
EVENT = {
    "event": "embedded_run_agent_end",
    "tags": ["error_handling", "lifecycle", "agent_end", "assistant_error"],
    "runId": "7cbbb196-a682-4aad-89fb-39ea01e72afb",
    "isError": True,
    "error": "You've reached your usage limit for this period.",
    "failoverReason": "rate_limit",
    "model": "kimi-for-coding",
    "provider": "kimi",
    "rawErrorPreview": f"403 {KIMI_BODY}",
    "rawErrorHash": "sha256:3f1c0d2a9b7e",
    "httpCode": "403",
    "consoleMessage": "embedded run agent end: runId=7cbbb196 isError=true model=kimi-for-coding "
    f"provider=kimi error=You've reached your usage limit. rawError=403 {KIMI_BODY}",
}


def test_openclaw_console_line_with_its_raw_error() -> None:
    p = parse_pasted("12:00:01 [agent/embedded] " + str(EVENT["consoleMessage"]))
    assert (p.status, p.body) == (403, KIMI_BODY)


def test_openclaw_json_log_event() -> None:
    p = parse_pasted(json.dumps(EVENT))
    assert (p.form, p.status, p.body) == ("openclaw-event", 403, KIMI_BODY)


def test_openclaw_json_log_event_nested_and_prefixed() -> None:
    record = {"time": "2026-10-07T12:40:37Z", "level": "warn", "1": EVENT}
    p = parse_pasted("gateway.log: " + json.dumps(record))
    assert (p.status, p.body) == (403, KIMI_BODY)


@pytest.mark.parametrize("keys", [("status", "error"), ("httpCode", "rawError")])
def test_openclaw_event_field_spellings(keys: tuple[str, str]) -> None:
    p = parse_pasted(json.dumps({keys[0]: 429, keys[1]: "HTTP 429: Too Many Requests"}))
    assert (p.status, p.body) == (429, "Too Many Requests")


def test_the_json_envelope_still_works() -> None:
    env = {"status": 429, "headers": {"retry-after": ["5", "6"]}, "body": {"error": "x"}}
    p = parse_pasted(json.dumps(env))
    assert p.form == "envelope"
    assert p.headers == {"retry-after": "5, 6"}
    assert json.loads(p.body) == {"error": "x"}


def test_a_bare_body_with_status_and_headers() -> None:
    headers = [parse_header("Retry-After: 30"), parse_header("x-request-id:abc")]
    p = parse_pasted(KIMI_BODY + "\n", status=403, headers=headers)
    assert p == parse_pasted(KIMI_BODY, status=403, headers=headers)
    assert (p.form, p.status, p.body) == ("bare", 403, KIMI_BODY)
    assert p.headers == {"Retry-After": "30", "x-request-id": "abc"}


def test_header_options_win_over_pasted_headers() -> None:
    p = parse_pasted(CURL, headers=[("x-codex-primary-reset-at", "1773860000")])
    assert p.headers["x-codex-primary-reset-at"] == "1773860000"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        KIMI_BODY,  # a body alone: its status is unknown
        "Invalid API Key",
        "[1, 2]",
        '{"message": "no status here"}',
        "HTTP/1.1 999 Nope\n\n{}",
    ],
)
def test_anything_else_is_refused_with_one_sentence(text: str) -> None:
    with pytest.raises(PasteError) as exc:
        parse_pasted(text, where="standard input")
    msg = str(exc.value)
    assert msg.startswith("standard input: ")
    assert ACCEPTED in msg
    assert "\n" not in msg


@pytest.mark.parametrize("bad", ["no colon", ": empty name", "two words: x"])
def test_bad_header_options(bad: str) -> None:
    with pytest.raises(PasteError, match="--header"):
        parse_header(bad)


def test_bad_status_option() -> None:
    with pytest.raises(PasteError, match="--status 42"):
        parse_pasted("x", status=42)


def test_envelope_field_errors_name_the_field() -> None:
    with pytest.raises(PasteError, match="status must be an integer"):
        parse_pasted('{"status": "429", "body": ""}', where="f.json")
