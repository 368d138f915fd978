"""Anthropic family against a real 127.0.0.1 server: headers, request, success and errors."""

from __future__ import annotations

from helpers.ladderrun import endpoint, ladder

from probed.fakeprovider import FakeProvider
from probed.reasons import Reason

KEY = "sk-ant-api03-SECRET-anth-0001"
OAT = "sk-ant-oat01-SECRET-anth-0002"


def test_api_key_free_then_paid_one_token() -> None:
    with FakeProvider() as fake:
        r = ladder(endpoint("anthropic", fake.base_url), KEY)
        assert r.ok and r.paid and r.model == "claude-haiku-4-5"
        free, paid = fake.requests
    assert free.path == "/v1/models" and free.auth == "x-api-key" and not free.paid
    assert paid.path == "/v1/messages" and paid.auth == "x-api-key" and paid.beta is None
    assert paid.body["max_tokens"] == 1
    assert "tools" not in paid.body and "thinking" not in paid.body
    assert "service_tier" not in paid.body  # only on the direct API (tests/test_request_shapes.py)


def test_subscription_token_goes_as_bearer_as_claude_code() -> None:
    """Not the direct API here, so no betas (as the gateway); the identity is in the body."""
    with FakeProvider() as fake:
        r = ladder(endpoint("anthropic", fake.base_url), OAT, oauth=True, model="claude-x")
        assert r.ok and r.model == "claude-x"
        assert {q.auth for q in fake.requests} == {"bearer"}
        assert {q.beta for q in fake.requests} == {None}
        paid = fake.requests[-1]
    billing, identity = paid.body["system"]
    assert billing["text"].startswith("x-anthropic-billing-header: cc_version=")
    assert identity["text"] == "You are Claude Code, Anthropic's official CLI for Claude."


def test_other_bearer_tokens_keep_the_oauth_beta_flag() -> None:
    with FakeProvider() as fake:
        r = ladder(endpoint("anthropic", fake.base_url), "tok-SECRET-0003", oauth=True, model="m")
        assert r.ok
        assert {q.auth for q in fake.requests} == {"bearer"}
        assert {q.beta for q in fake.requests} == {"oauth-2025-04-20"}
        assert "system" not in fake.requests[-1].body


def test_billing_error_shape_is_classified() -> None:
    with FakeProvider() as fake:
        fake.respond(status=402, kind="paid")
        r = ladder(endpoint("anthropic", fake.base_url), KEY)
    assert not r.ok and r.paid and r.write
    assert r.failure is not None and r.failure.reason is Reason.BILLING
    assert KEY not in r.failure.message


def test_invalid_key_stops_at_the_free_check() -> None:
    with FakeProvider() as fake:
        fake.respond(
            status=401,
            credential=KEY,
            body='{"type":"error","error":{"type":"authentication_error",'
            '"message":"invalid x-api-key"}}',
        )
        r = ladder(endpoint("anthropic", fake.base_url), KEY)
        assert fake.counts().paid == 0
    assert r.failure is not None and r.failure.reason.is_credential_problem and not r.paid


def test_error_in_a_200_body_is_a_failure() -> None:
    with FakeProvider() as fake:
        fake.respond(
            kind="paid",
            body='{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        )
        r = ladder(endpoint("anthropic", fake.base_url), KEY)
    assert not r.ok and r.failure is not None and r.failure.reason is Reason.OVERLOADED
