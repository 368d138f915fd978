"""A free check decides a probe only when it answers about the credential (probes/freecheck.py).

The bodies are what real servers send: the LiteLLM ones were captured from litellm[proxy]
1.106.12 with a master key and no database (the e2e tests in tests/e2e/test_litellm_proxy.py
run the real proxy too).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from helpers.ladderrun import endpoint, ladder

from probed.fakeprovider import FakeProvider
from probed.probes.endpoints import FreeCheck
from probed.probes.freecheck import judge

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
MODELS = FreeCheck("models", "models")
KEY_INFO = FreeCheck("litellm_key_info", "/key/info")
KEY = "sk-litellm-SECRET-free-0001"
JSON = {"content-type": "application/json"}


def _judge(check: FreeCheck, status: int, body: str, headers: dict[str, str] | None = None):
    return judge(
        "litellm" if check is KEY_INFO else "openai",
        check,
        status,
        headers if headers is not None else JSON,
        body.encode(),
        truncated=False,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("check", "status", "body", "headers"),
    [
        # LiteLLM with a master key and no database, as pip installs it (no prisma):
        (KEY_INFO, 500, "Internal Server Error", {"content-type": "text/plain; charset=utf-8"}),
        # ... and with prisma installed (the Docker image): the HTTPException's own detail
        (
            KEY_INFO,
            500,
            '{"error":{"message":"{\'error\': \'Database not connected\'}",'
            '"type":"internal_server_error","param":"None","code":"500"}}',
            JSON,
        ),
        # any key but the master key, no database: LiteLLM cannot tell whether it is valid
        (
            KEY_INFO,
            400,
            '{"error":{"message":"No connected db.","type":"no_db_connection",'
            '"param":null,"code":"400"}}',
            JSON,
        ),
        (MODELS, 404, '{"detail":"Not Found"}', JSON),
        (MODELS, 405, "", {}),
        (MODELS, 501, "not implemented", {"content-type": "text/plain"}),
        (MODELS, 502, "<html>Bad Gateway</html>", {"content-type": "text/html"}),
        (MODELS, 503, '{"error":{"message":"upstream unavailable"}}', JSON),
        (MODELS, 529, '{"type":"error","error":{"type":"overloaded_error"}}', JSON),
        (MODELS, 403, "<html><h1>403 Forbidden</h1>nginx</html>", {"content-type": "text/html"}),
        (MODELS, 401, "Unauthorized", {"content-type": "text/plain"}),
        (MODELS, 408, '{"error":{"message":"request timeout"}}', JSON),
        (MODELS, 400, '{"error":{"message":"Unrecognized request argument: limit"}}', JSON),
        (MODELS, 200, "<html><title>hotel wifi</title></html>", {"content-type": "text/html"}),
        (MODELS, 200, '{"error":{"message":"upstream said no","code":502}}', JSON),
        (KEY_INFO, 200, '{"key":"sk-...0001"}', JSON),  # no "info": not the documented shape
        (KEY_INFO, 200, "[]", JSON),
        (KEY_INFO, 200, "ok", {"content-type": "text/plain"}),
    ],
    ids=[
        "litellm-500-plain-text",
        "litellm-500-database-not-connected",
        "litellm-400-no-connected-db",
        "404",
        "405-empty",
        "501",
        "502-html",
        "503-json",
        "529-overloaded",
        "403-html-from-a-proxy",
        "401-plain-text",
        "408",
        "400-json-about-the-request",
        "200-captive-portal",
        "200-embedded-error",
        "key-info-without-info",
        "key-info-a-list",
        "key-info-not-json",
    ],
)
def test_answers_of_the_endpoint_itself_are_silent(
    check: FreeCheck, status: int, body: str, headers: dict[str, str]
) -> None:
    answer = _judge(check, status, body, headers)
    assert answer.kind == "silent" and answer.failure is None
    assert answer.why  # logged as free_check_silent, so an operator sees why it was skipped


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (
            401,
            '{"error":{"message":"Incorrect API key provided: sk-...0001",'
            '"type":"invalid_request_error","code":"invalid_api_key"}}',
            "auth_permanent",
        ),
        (
            402,
            '{"error":{"message":"Insufficient credits. Add more using '
            'https://openrouter.ai/settings/credits","code":402}}',
            "billing",
        ),
        (
            429,
            '{"error":{"message":"Rate limit reached for requests","type":"requests",'
            '"code":"rate_limit_exceeded"}}',
            "rate_limit",
        ),
        (
            403,
            '{"error":{"message":"Project does not have access to this endpoint",'
            '"type":"invalid_request_error","code":"permission_denied"}}',
            "permission",
        ),
    ],
)
def test_a_json_verdict_on_the_credential_decides(status: int, body: str, reason: str) -> None:
    answer = _judge(MODELS, status, body)
    assert answer.kind == "failed" and answer.failure is not None
    assert str(answer.failure.reason) == reason and answer.failure.status == status


def test_a_model_list_passes() -> None:
    answer = _judge(MODELS, 200, json.dumps({"data": [{"id": "m"}], "object": "list"}))
    assert answer.kind == "passed" and answer.failure is None


def test_a_truncated_model_list_still_passes_by_its_start() -> None:
    body = b'{"data":[' + b'{"id":"m"},' * 10_000
    answer = judge("openai", MODELS, 200, JSON, body, truncated=True, now=NOW)
    assert answer.kind == "passed"


def test_litellm_key_info_reads_spend_against_max_budget() -> None:
    ok = _judge(KEY_INFO, 200, '{"key":"x","info":{"spend":1.5,"max_budget":10}}')
    spent = _judge(KEY_INFO, 200, '{"key":"x","info":{"spend":10.0,"max_budget":10}}')
    unlimited = _judge(KEY_INFO, 200, '{"key":"x","info":{"spend":99,"max_budget":null}}')
    assert ok.kind == "passed" and unlimited.kind == "passed"
    assert spent.kind == "failed" and spent.failure is not None
    assert str(spent.failure.reason) == "quota"


@pytest.mark.parametrize(
    ("check", "body", "kind"),
    [
        (FreeCheck("openrouter_credits", "credits"), '{"data":{"total_credits":5}}', "passed"),
        (
            FreeCheck("openrouter_credits", "credits"),
            '{"data":{"total_credits":5,"total_usage":5}}',
            "failed",
        ),
        (FreeCheck("openrouter_credits", "credits"), '{"credits":5}', "silent"),
        (FreeCheck("openrouter_key", "key"), '{"data":{"limit":null}}', "passed"),
        (FreeCheck("openrouter_key", "key"), '{"data":{"limit":5,"limit_remaining":0}}', "failed"),
        (FreeCheck("openrouter_key", "key"), '{"label":"x"}', "silent"),
        (FreeCheck("deepseek_balance", "/user/balance"), '{"is_available":true}', "passed"),
        (FreeCheck("deepseek_balance", "/user/balance"), '{"is_available":false}', "failed"),
        (FreeCheck("deepseek_balance", "/user/balance"), '{"balance_infos":[]}', "silent"),
        (
            FreeCheck("moonshot_balance", "users/me/balance"),
            '{"data":{"available_balance":0}}',
            "failed",
        ),
        (FreeCheck("moonshot_balance", "users/me/balance"), '{"code":0}', "silent"),
        (FreeCheck("xai_api_key", "api-key"), '{"api_key_blocked":false}', "passed"),
        (FreeCheck("xai_api_key", "api-key"), '{"api_key_disabled":true}', "failed"),
        (FreeCheck("xai_api_key", "api-key"), '{"name":"k"}', "silent"),
    ],
)
def test_account_endpoints_answer_only_in_their_documented_shape(
    check: FreeCheck, body: str, kind: str
) -> None:
    answer = judge(check.kind, check, 200, JSON, body.encode(), truncated=False, now=NOW)
    assert answer.kind == kind


def test_a_truncated_account_body_is_silent() -> None:
    check = FreeCheck("deepseek_balance", "/user/balance")
    answer = judge("deepseek", check, 200, JSON, b'{"is_available":false', truncated=True, now=NOW)
    assert answer.kind == "silent"


# --- the rule inside the ladder, against a real HTTP server -----------------------------------


def _litellm_without_db(fake: FakeProvider) -> None:
    fake.respond(
        path="/key/info",
        status=500,
        body="Internal Server Error",
        headers={"content-type": "text/plain; charset=utf-8"},
    )


def test_litellm_without_a_database_is_decided_by_the_generation() -> None:
    """The seed incident: /key/info answers 500; the one-token generation decides (here: it
    works, so a billing window can be cleared)."""
    with FakeProvider() as fake:
        _litellm_without_db(fake)
        r = ladder(endpoint("litellm", fake.base_url + "/v1", model="m"), KEY, need_paid=True)
        assert fake.counts().free == 1 and fake.counts().paid == 1
    assert r.ok and r.paid and r.failure is None


def test_litellm_without_a_database_still_reports_the_generations_verdict() -> None:
    with FakeProvider() as fake:
        _litellm_without_db(fake)
        fake.respond(kind="paid", status=402, body='{"error":{"message":"Insufficient credits"}}')
        r = ladder(endpoint("litellm", fake.base_url + "/v1", model="m"), KEY, need_paid=True)
    assert not r.ok and r.write and r.failure is not None
    assert str(r.failure.reason) == "billing" and r.failure.status == 402


def test_a_silent_free_check_sends_the_generation_even_when_money_is_not_in_question() -> None:
    """An auth or rate-limit window is normally cleared by a free check; when the free check
    said nothing, only the generation can clear it (never the silence)."""
    with FakeProvider() as fake:
        _litellm_without_db(fake)
        fake.respond(kind="paid", status=401, body='{"error":{"message":"Invalid API key"}}')
        r = ladder(endpoint("litellm", fake.base_url + "/v1", model="m"), KEY, need_paid=False)
        assert fake.counts().paid == 1
    assert not r.ok and r.failure is not None and r.failure.status == 401


def test_a_free_verdict_on_the_key_ends_the_ladder_before_paying() -> None:
    with FakeProvider() as fake:
        fake.respond(
            path="/key/info",
            status=401,
            body='{"error":{"message":"Authentication Error, Invalid proxy server token passed.",'
            '"type":"auth_error","param":"None","code":"401"}}',
        )
        r = ladder(endpoint("litellm", fake.base_url + "/v1", model="m"), KEY, need_paid=True)
        assert fake.counts().paid == 0
    assert not r.ok and r.write and r.failure is not None and r.failure.status == 401


def test_a_silent_check_moves_on_to_the_next_free_check() -> None:
    """OpenRouter: /key fails by itself (503), /credits answers: no paid request is needed to
    see the credits are gone."""
    with FakeProvider() as fake:
        fake.respond(path="/key", status=503, body='{"error":{"message":"try later"}}')
        fake.respond(
            path="/credits", status=200, body='{"data":{"total_credits":1,"total_usage":1}}'
        )
        r = ladder(endpoint("openrouter", fake.base_url + "/api/v1"), KEY, need_paid=True)
        assert fake.counts().free == 2 and fake.counts().paid == 0
    assert not r.ok and r.failure is not None and str(r.failure.reason) == "billing"
