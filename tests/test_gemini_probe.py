"""Gemini family against a real server: key header, thinking off, error shapes."""

from __future__ import annotations

from helpers.ladderrun import endpoint, ladder

from probed.fakeprovider import FakeProvider
from probed.probes.gemini import thinking_budget
from probed.reasons import Reason

KEY = "AIzaSECRETgemini0001xxxxxxxxxxxxxxxx"


def test_key_header_and_one_token_with_thinking_off() -> None:
    with FakeProvider() as fake:
        r = ladder(endpoint("google", fake.base_url), KEY)
        assert r.ok and r.paid
        free, paid = fake.requests
    assert free.path == "/v1beta/models" and free.auth == "x-goog-api-key"
    assert paid.path == "/v1beta/models/gemini-2.5-flash-lite:generateContent"
    cfg = paid.body["generationConfig"]
    assert cfg == {"maxOutputTokens": 1, "thinkingConfig": {"thinkingBudget": 0}}
    assert "key=" not in paid.path


def test_thinking_budget_per_model() -> None:
    assert thinking_budget("gemini-2.5-flash") == 0
    assert thinking_budget("gemini-2.5-pro") == 128
    assert thinking_budget("gemini-3-pro-preview") is None


def test_invalid_key_shape() -> None:
    body = (
        '{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.",'
        '"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/'
        'google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}'
    )
    with FakeProvider() as fake:
        fake.respond(status=400, body=body)
        r = ladder(endpoint("google", fake.base_url), KEY)
    assert r.failure is not None and r.failure.reason is Reason.AUTH_PERMANENT


def test_daily_quota_shape() -> None:
    body = (
        '{"error":{"code":429,"message":"You exceeded your current quota.",'
        '"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/'
        'google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.'
        'googleapis.com/generate_content_free_tier_requests","quotaId":'
        '"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}'
    )
    with FakeProvider() as fake:
        fake.respond(status=429, kind="paid", body=body)
        r = ladder(endpoint("google", fake.base_url), KEY)
    assert r.failure is not None and r.failure.reason is Reason.QUOTA
    assert r.failure.retry_at is not None
