"""OpenAI-compatible family (OpenAI, OpenRouter, LiteLLM, ...) against a real server."""

from __future__ import annotations

from helpers.ladderrun import endpoint, ladder

from probed.fakeprovider import FakeProvider
from probed.reasons import Reason

KEY = "sk-or-v1-SECRET-oai-0001"


def test_bearer_models_then_one_token_chat() -> None:
    with FakeProvider() as fake:
        r = ladder(endpoint("openai", fake.base_url + "/v1"), KEY)
        assert r.ok and r.paid
        free, paid = fake.requests
    assert free.path == "/v1/models" and free.auth == "bearer"
    assert paid.path == "/v1/chat/completions" and paid.body["max_completion_tokens"] == 1
    assert "max_tokens" not in paid.body
    assert paid.body["model"] == "gpt-4.1-nano" and "tools" not in paid.body


def test_openrouter_200_with_an_error_body_is_a_failure() -> None:
    body = '{"error":{"code":402,"message":"Insufficient credits. Add more using openrouter.ai"}}'
    with FakeProvider() as fake:
        fake.respond(kind="paid", body=body)
        r = ladder(endpoint("openrouter", fake.base_url + "/api/v1"), KEY)
        paths = [q.path for q in fake.requests]
    assert paths == ["/api/v1/key", "/api/v1/credits", "/api/v1/chat/completions"]
    assert not r.ok and r.write and r.failure is not None
    assert r.failure.reason is Reason.BILLING


def test_openrouter_empty_balance_is_found_without_paying() -> None:
    with FakeProvider() as fake:
        fake.respond(path="/credits", body='{"data":{"total_credits":5,"total_usage":5}}')
        r = ladder(endpoint("openrouter", fake.base_url + "/api/v1"), KEY)
        assert fake.counts().paid == 0
    assert r.failure is not None and r.failure.reason is Reason.BILLING and r.write


def test_status_error_shape_is_classified() -> None:
    body = (
        '{"error":{"message":"You exceeded your current quota","type":"insufficient_quota",'
        '"param":null,"code":"insufficient_quota"}}'
    )
    with FakeProvider() as fake:
        fake.respond(kind="paid", status=429, body=body)
        r = ladder(endpoint("openai", fake.base_url + "/v1"), KEY)
    assert r.failure is not None and r.failure.reason is Reason.BILLING


def test_litellm_key_info_and_model_choice() -> None:
    with FakeProvider() as fake:
        r = ladder(endpoint("litellm", fake.base_url, models=["a", "b"]), KEY, model="b")
        assert [q.path for q in fake.requests] == ["/key/info", "/chat/completions"]
        assert fake.requests[1].model == "b"
    assert r.ok and r.model == "b"
