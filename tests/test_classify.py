"""The classifier against real provider responses, documented cases, and arbitrary input."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from helpers.provider_fixtures import provider_errors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probed.classify import classify, classify_transport, redact, short_message
from probed.clock import parse_iso
from probed.reasons import Reason

NOW = datetime(2026, 10, 7, 12, 40, 37, tzinfo=UTC)
FIXTURES = provider_errors()


def _after(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def _fixture_now(fx: dict[str, Any]) -> datetime:
    """Absolute resets in a fixture are only "ahead" from the time it was captured."""
    return parse_iso(fx["now"]) if fx.get("now") else NOW


def test_fixture_file_is_complete() -> None:
    assert len(FIXTURES) >= 80
    assert len({f["id"] for f in FIXTURES}) == len(FIXTURES)
    assert {f["expected_class"] for f in FIXTURES} <= {r.value for r in Reason}
    assert {f["expected_scope"] for f in FIXTURES} <= {"model", "profile", "account"}
    for f in FIXTURES:
        assert f["source"].strip(), f["id"]
        assert isinstance(f["verbatim"], bool), f["id"]


@pytest.mark.parametrize("fx", FIXTURES, ids=[f["id"] for f in FIXTURES])
def test_every_fixture_classifies_to_its_expected_class_scope_and_reset(fx: dict[str, Any]) -> None:
    f = classify(fx["provider"], fx["status"], fx["headers"], fx["body"], now=_fixture_now(fx))
    out = f.to_json()
    assert (out["reason"], out["scope"]) == (fx["expected_class"], fx["expected_scope"])
    assert out["retry_at"] == fx["expected_retry_at"]
    assert (f.retry_source is None) == (fx["expected_retry_at"] is None)
    assert f.status == fx["status"]
    assert f.message and len(f.message) <= 200
    assert f.action


def test_fixture_json_has_the_contract_key_order() -> None:
    fx = next(f for f in FIXTURES if f["id"] == "groq-429-tpm")
    out = classify(fx["provider"], fx["status"], fx["headers"], fx["body"], now=NOW).to_json()
    assert list(out) == [
        "reason",
        "retry_at",
        "retry_source",
        "scope",
        "status",
        "message",
        "action",
    ]
    assert out["retry_at"] == "2026-10-07T12:40:43Z"


# ---------------------------------------------------------------------------------------------
# Cases of our own, from providers.md (provider docs, SDK tests, public issues)


def _anthropic(etype: str, message: str, **extra: Any) -> str:
    err: dict[str, Any] = {"type": etype, "message": message, **extra}
    return json.dumps({"type": "error", "error": err, "request_id": "req_1"})


def _openai(message: str, etype: str | None, code: str | None) -> str:
    return json.dumps({"error": {"message": message, "type": etype, "param": None, "code": code}})


def _gemini(code: int, status: str, message: str, details: list[Any]) -> str:
    return json.dumps(
        {"error": {"code": code, "message": message, "status": status, "details": details}}
    )


UNIFIED_RESET = NOW + timedelta(hours=3, minutes=20)
NEXT_MONTH = datetime(2026, 11, 1, tzinfo=UTC)
PACIFIC_MIDNIGHT = datetime(2026, 10, 8, 7, tzinfo=UTC)  # 00:00 PDT on Oct 8

# (case id, provider, status, headers, body, reason, scope, retry_at, retry_source)
CASES: list[
    tuple[str, str, int | None, dict[str, str], str, str, str, datetime | None, str | None]
] = [
    (
        "anthropic-400-spend-limit-regain-date",
        "anthropic",
        400,
        {},
        _anthropic(
            "invalid_request_error",
            "You have reached your specified workspace API usage limits. You will regain access "
            "on 2026-10-20 at 00:00 UTC.",
        ),
        "quota",
        "account",
        datetime(2026, 10, 20, tzinfo=UTC),
        "message:regain-access-date",
    ),
    (
        "anthropic-429-enforced-spend-limit-no-retry-after",
        "anthropic",
        429,
        {},
        _anthropic(
            "rate_limit_error",
            "You have reached your monthly spend limit.",
            details={"error_code": "enforced_spend_limit_reached"},
        ),
        "quota",
        "account",
        NEXT_MONTH,
        "rule:first-of-month",
    ),
    (
        "anthropic-oauth-429-unified-five-hour-window",
        "anthropic-oauth",
        429,
        {
            "anthropic-ratelimit-unified-status": "rejected",
            "anthropic-ratelimit-unified-reset": str(int(UNIFIED_RESET.timestamp())),
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
            "anthropic-ratelimit-unified-7d-status": "allowed",
            "anthropic-ratelimit-unified-7d-reset": str(int((NOW + timedelta(days=4)).timestamp())),
        },
        _anthropic(
            "rate_limit_error",
            "This request would exceed your account's rate limit. Please try again later.",
        ),
        "quota",
        "profile",
        UNIFIED_RESET,
        "header:anthropic-ratelimit-unified-reset",
    ),
    (
        "anthropic-429-token-bucket-reset-without-retry-after",
        "anthropic",
        429,
        {
            "anthropic-ratelimit-output-tokens-remaining": "0",
            "anthropic-ratelimit-output-tokens-reset": "2026-10-07T12:41:30Z",
            "anthropic-ratelimit-requests-remaining": "3",
            "anthropic-ratelimit-requests-reset": "2026-10-07T12:45:00Z",
        },
        _anthropic("rate_limit_error", "Output tokens per minute exceeded."),
        "rate_limit",
        "profile",
        datetime(2026, 10, 7, 12, 41, 30, tzinfo=UTC),
        "header:anthropic-ratelimit-output-tokens-reset",
    ),
    (
        "anthropic-402-billing-error",
        "anthropic",
        402,
        {},
        _anthropic("billing_error", "Payment failed."),
        "billing",
        "account",
        None,
        None,
    ),
    (
        "openai-429-credit-balance-exhausted",
        "openai",
        429,
        {},
        _openai("You have run out of credits.", "insufficient_quota", "credit_balance_exhausted"),
        "billing",
        "account",
        None,
        None,
    ),
    (
        "openai-429-organization-spend-limit",
        "openai",
        429,
        {},
        _openai(
            "You have reached your organization spend limit.",
            "insufficient_quota",
            "organization_spend_limit_exceeded",
        ),
        "quota",
        "account",
        NEXT_MONTH,
        "rule:first-of-month",
    ),
    (
        "openai-429-project-spend-limit",
        "openai",
        429,
        {},
        _openai(
            "Project spend limit reached.", "insufficient_quota", "project_spend_limit_exceeded"
        ),
        "quota",
        "account",
        NEXT_MONTH,
        "rule:first-of-month",
    ),
    (
        "openai-429-slow-down-with-retry-after-ms",
        "openai",
        429,
        {"retry-after-ms": "1500"},
        _openai("Please reduce your rate of requests.", "rate_limit_error", "slow_down"),
        "rate_limit",
        "profile",
        NOW + timedelta(seconds=1.5),
        "header:retry-after-ms",
    ),
    (
        "openai-403-unsupported-region",
        "openai",
        403,
        {},
        _openai(
            "Country, region, or territory not supported",
            "request_forbidden",
            "unsupported_country_region_territory",
        ),
        "permission",
        "account",
        None,
        None,
    ),
    (
        "gemini-429-per-day-pacific-midnight",
        "google",
        429,
        {},
        _gemini(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota. Please retry in 38.86s.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"},
            ],
        ),
        "quota",
        "account",
        PACIFIC_MIDNIGHT,
        "rule:gemini-daily-pacific-midnight",
    ),
    (
        "gemini-429-prepayment-credits-depleted",
        "gemini",
        429,
        {},
        _gemini(429, "RESOURCE_EXHAUSTED", "Your prepayment credits are depleted.", []),
        "billing",
        "account",
        None,
        None,
    ),
    (
        "gemini-429-limit-zero-model-has-no-free-tier",
        "google",
        429,
        {},
        _gemini(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for metric: generate_content_free_tier_requests, limit: 0, "
            "model: gemini-2.5-pro",
            [],
        ),
        "billing",
        "model",
        None,
        None,
    ),
    (
        "gemini-403-leaked-key",
        "google",
        403,
        {},
        _gemini(
            403,
            "PERMISSION_DENIED",
            "Your API key was reported as leaked. Please use another API key.",
            [],
        ),
        "auth_permanent",
        "profile",
        None,
        None,
    ),
    (
        "moonshot-429-exceeded-current-quota-is-billing",
        "moonshot",
        429,
        {},
        json.dumps(
            {
                "error": {
                    "type": "exceeded_current_quota_error",
                    "message": "Your account is suspended, please check your plan",
                }
            }
        ),
        "billing",
        "account",
        None,
        None,
    ),
    (
        "kimi-403-billing-cycle-openai-shape-is-quota-not-auth",
        "kimi",
        403,
        {},
        json.dumps(
            {
                "error": {
                    "type": "access_terminated_error",
                    "message": "You've reached your usage limit for this billing cycle. "
                    "Your quota will be refreshed in the next cycle.",
                }
            }
        ),
        "quota",
        "profile",
        None,
        None,
    ),
    (
        "kimi-429-five-hour-window",
        "kimi-coding",
        429,
        {},
        json.dumps(
            {
                "error": {
                    "type": "rate_limit_error",
                    "message": "You've reached your 5-hour usage limit. Your quota will reset "
                    "when the current 5-hour window ends.",
                }
            }
        ),
        "quota",
        "profile",
        None,
        None,
    ),
    (
        "kimi-429-weekly-window",
        "kimi",
        429,
        {},
        json.dumps(
            {
                "error": {
                    "type": "rate_limit_error",
                    "message": "You've reached your weekly (7-day) usage limit.",
                }
            }
        ),
        "quota",
        "profile",
        None,
        None,
    ),
    (
        "kimi-403-no-access-to-model-is-permission",
        "kimi",
        403,
        {},
        json.dumps(
            {
                "error": {
                    "type": "permission_error",
                    "message": "You do not have access to model kimi-k9",
                }
            }
        ),
        "permission",
        "profile",
        None,
        None,
    ),
    (
        "xai-429-at-capacity-is-overloaded",
        "xai",
        429,
        {},
        json.dumps(
            {
                "code": "Some resource has been exhausted",
                "error": "The service is temporarily at capacity. Please retry later.",
            }
        ),
        "overloaded",
        "model",
        None,
        None,
    ),
    (
        "xai-429-rate-limit",
        "xai",
        429,
        {"retry-after": "12"},
        json.dumps({"code": "Some resource has been exhausted", "error": "Rate limit exceeded"}),
        "rate_limit",
        "profile",
        _after(12),
        "header:retry-after",
    ),
    (
        "groq-498-capacity-exceeded",
        "groq",
        498,
        {},
        _openai(
            "Flex tier capacity exceeded. Please try again later.",
            "capacity_exceeded",
            "capacity_exceeded",
        ),
        "overloaded",
        "model",
        None,
        None,
    ),
    (
        "mistral-402-payment-required",
        "mistral",
        402,
        {},
        json.dumps(
            {"object": "error", "message": "Payment required", "type": "invalid_request_error"}
        ),
        "billing",
        "account",
        None,
        None,
    ),
    (
        "mistral-429-service-tier-capacity-is-overloaded",
        "mistral",
        429,
        {"retry-after": "10"},
        json.dumps(
            {
                "object": "error",
                "message": "Service tier capacity exceeded for this model.",
                "type": "invalid_request_error",
                "code": "3505",
            }
        ),
        "overloaded",
        "model",
        _after(10),
        "header:retry-after",
    ),
    (
        "mistral-429-rate-limited",
        "mistral",
        429,
        {},
        json.dumps(
            {
                "object": "error",
                "message": "Rate limit exceeded",
                "type": "rate_limited",
                "code": "1300",
            }
        ),
        "rate_limit",
        "profile",
        None,
        None,
    ),
    (
        "deepseek-503-server-overloaded",
        "deepseek",
        503,
        {},
        _openai("Server Overloaded", "unknown_error", "invalid_request_error"),
        "overloaded",
        "model",
        None,
        None,
    ),
    (
        "deepseek-401-authentication-fails",
        "deepseek",
        401,
        {},
        _openai(
            "Authentication Fails, Your api key: ****abcd is invalid",
            "authentication_error",
            "invalid_request_error",
        ),
        "auth_permanent",
        "profile",
        None,
        None,
    ),
    (
        "litellm-429-no-deployments-try-again",
        "litellm",
        429,
        {},
        _openai(
            "No deployments available for selected model, Try again in 60 seconds. Passed "
            "model=claude-haiku. pre-call-checks=False, cooldown_list=[('abc', {})]",
            "None",
            "429",
        ),
        "rate_limit",
        "model",
        _after(60),
        "message:try-again-in",
    ),
    (
        "litellm-429-reset-at-header-only",
        "litellm-proxy",
        429,
        {"reset_at": "2026-10-07 12:41:00 UTC"},
        _openai("Rate limit exceeded for user: u1. Limit type: requests.", "None", "429"),
        "rate_limit",
        "profile",
        datetime(2026, 10, 7, 12, 41, tzinfo=UTC),
        "header:reset_at",
    ),
    (
        "litellm-402-upstream-for-one-model",
        "litellm",
        402,
        {},
        _openai(
            'litellm.BadRequestError: OpenrouterException - {"error":{"message":'
            '"Insufficient credits. Purchase more at https://openrouter.ai","code":402}}',
            None,
            "402",
        ),
        "billing",
        "model",
        None,
        None,
    ),
    (
        "litellm-401-invalid-virtual-key",
        "litellm",
        401,
        {},
        _openai("Authentication Error, Invalid proxy server token passed.", "auth_error", "401"),
        "auth_permanent",
        "profile",
        None,
        None,
    ),
    (
        "openrouter-402-requires-more-credits",
        "openrouter",
        402,
        {},
        json.dumps(
            {
                "error": {
                    "code": 402,
                    "message": "This request requires more credits, or "
                    "fewer max_tokens. You requested up to 4096 tokens, but can only "
                    "afford 120.",
                }
            }
        ),
        "billing",
        "account",
        None,
        None,
    ),
    (
        "openrouter-429-upstream-with-retry-after-seconds",
        "openrouter",
        429,
        {},
        json.dumps(
            {
                "error": {
                    "code": 429,
                    "message": "Provider returned error",
                    "metadata": {
                        "limit_source": "upstream_provider_shared_pool",
                        "retry_after_seconds": 29,
                        "raw": "temporarily rate-limited upstream",
                    },
                }
            }
        ),
        "rate_limit",
        "model",
        _after(29),
        "body:error.metadata.retry_after_seconds",
    ),
    (
        "unknown-provider-openai-compatible-invalid-key",
        "my-vllm",
        401,
        {},
        _openai(
            "Incorrect API key provided: sk-proj-abcd1234",
            "invalid_request_error",
            "invalid_api_key",
        ),
        "auth_permanent",
        "profile",
        None,
        None,
    ),
    (
        "nginx-502-html",
        "openai",
        502,
        {},
        "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        "timeout",
        "model",
        None,
        None,
    ),
    (
        "openai-400-organization-not-verified",
        "openai",
        400,
        {},
        _openai(
            "Your organization must be verified to use the model `o3`. Please go to: "
            "https://platform.openai.com/settings/organization/general and click on Verify "
            "Organization.",
            "invalid_request_error",
            "unsupported_value",
        ),
        "permission",
        "model",
        None,
        None,
    ),
    (
        "openclaw-skip-billing-issue",
        "openai",
        None,
        {},
        "Provider openai has billing issue (skipping all models)",
        "billing",
        "account",
        None,
        None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_documented_cases(case: tuple[Any, ...]) -> None:
    _id, provider, status, headers, body, reason, scope, retry_at, source = case
    f = classify(provider, status, headers, body, now=NOW)
    assert (f.reason, f.scope) == (reason, scope)
    assert f.retry_at == retry_at
    assert f.retry_source == source
    assert f.message
    assert len(f.message) <= 200


def test_at_least_twenty_own_cases() -> None:
    assert len(CASES) >= 20


def test_enforced_spend_limit_never_gets_a_short_backoff() -> None:
    from probed import policy
    from probed.config import DEFAULT_BACKOFF

    body = _anthropic(
        "rate_limit_error", "spend limit", details={"error_code": "enforced_spend_limit_reached"}
    )
    f = classify("anthropic", 429, {}, body, now=NOW)
    deadline = policy.next_deadline(f, 1, DEFAULT_BACKOFF[f.reason], now=NOW)
    assert deadline == NEXT_MONTH


def test_openclaw_cooldown_skip_message_gets_a_class_and_an_action() -> None:
    line = "[model-fallback] Provider anthropic is in cooldown (all profiles unavailable)"
    f = classify("anthropic", None, {}, line, now=NOW)
    assert f.reason is Reason.RATE_LIMIT
    assert f.scope == "account"
    assert "probed status --provider anthropic" in f.action
    assert "cooldown" in f.message


def test_openclaw_suspended_lanes_with_billing_suffix() -> None:
    f = classify(
        "anthropic",
        None,
        {},
        "Provider anthropic is in cooldown (suspending lanes) (billing)",
        now=NOW,
    )
    assert f.reason is Reason.BILLING


def test_anthropic_429_without_any_signal_and_spend_wording_is_monthly_quota() -> None:
    body = _anthropic("rate_limit_error", "You have exceeded your monthly spend limit.")
    f = classify("anthropic", 429, {}, body, now=NOW)
    assert (f.reason, f.retry_at) == (Reason.QUOTA, NEXT_MONTH)


def test_gemini_per_day_ignores_the_short_retry_delay() -> None:
    case = next(c for c in CASES if c[0] == "gemini-429-per-day-pacific-midnight")
    f = classify("google", 429, {}, case[4], now=NOW)
    assert f.retry_at == PACIFIC_MIDNIGHT


def test_status_only_fallbacks() -> None:
    expect = {
        400: "format",
        401: "auth",
        402: "billing",
        403: "permission",
        404: "model_not_found",
        408: "timeout",
        429: "rate_limit",
        500: "timeout",
        503: "timeout",
        529: "overloaded",
        200: "unknown",
    }
    for status, reason in expect.items():
        assert classify("someproxy", status, {}, "", now=NOW).reason == reason, status
    assert classify("someproxy", None, {}, "", now=NOW).reason is Reason.UNKNOWN


def test_bytes_bodies_and_mixed_case_headers() -> None:
    fx = next(f for f in FIXTURES if f["id"] == "groq-429-tpm")
    headers = {k.upper(): v for k, v in fx["headers"].items()}
    f = classify("groq", 429, headers, fx["body"].encode(), now=NOW)
    assert f.retry_at == _after(6)


# ---------------------------------------------------------------------------------------------
# Transport failures


@pytest.mark.parametrize("kind", ["connect", "tls", "timeout", "protocol", "redirect", "too_large"])
def test_transport_failures_are_timeouts_with_a_clear_message(kind: str) -> None:
    f = classify_transport(
        kind,
        "detail for https://api.example/?key=AIzaSyTESTKEY0123456789",  # type: ignore[arg-type]
        now=NOW,
    )
    assert f.reason is Reason.TIMEOUT
    assert f.status is None and f.retry_at is None
    assert "detail for" in f.message
    assert "AIzaSyTESTKEY0123456789" not in f.message
    assert f.action


def test_tls_failure_has_certificate_advice() -> None:
    f = classify_transport("tls", "CERTIFICATE_VERIFY_FAILED", now=NOW)
    assert "certificate" in f.action.lower()
    assert "TLS" in f.message


# ---------------------------------------------------------------------------------------------
# Credentials never reach the message


@pytest.mark.parametrize(
    ("provider", "status", "body", "secret"),
    [
        (
            "openai",
            401,
            _openai(
                "Incorrect API key provided: sk-abc***xyz. You can find it.",
                "invalid_request_error",
                "invalid_api_key",
            ),
            "sk-abc***xyz",
        ),
        (
            "deepseek",
            401,
            _openai("Authentication Fails, Your api key: ****abcd is invalid", None, None),
            "abcd",
        ),
        (
            "xai",
            400,
            json.dumps(
                {
                    "code": "Client specified an invalid argument",
                    "error": "Incorrect API key provided: xa***YA. Get one.",
                }
            ),
            "xa***YA",
        ),
        (
            "anthropic",
            401,
            _anthropic("authentication_error", "invalid x-api-key sk-ant-SECRET-0001"),
            "SECRET-0001",
        ),
        (
            "litellm",
            400,
            _openai(
                "Budget has been exceeded! Key=sk-...abcd Current cost: 1", "budget_exceeded", "400"
            ),
            "abcd",
        ),
        ("openai", 401, "Bearer sk-ant-oat01-SECRET-0002 rejected", "SECRET-0002"),
        ("google", 400, "key=AIzaSyA-SECRET-0003-abcdefgh invalid", "SECRET-0003"),
    ],
)
def test_messages_never_carry_a_credential(
    provider: str, status: int, body: str, secret: str
) -> None:
    f = classify(provider, status, {}, body, now=NOW)
    assert secret not in f.message
    assert secret not in json.dumps(f.to_json())
    assert "[redacted]" in f.message


def test_redact_keeps_ordinary_words_and_uuids() -> None:
    text = "Your team 16f2151a-40f4-4a80-8ad0-cae00c27e8dd has used all available credits."
    assert redact(text) == text
    assert redact("tokens per min (TPM): Limit 150000") == "tokens per min (TPM): Limit 150000"


def test_short_message_is_bounded() -> None:
    assert len(short_message("word " * 200)) <= 200
    assert short_message("a\n  b") == "a b"


# ---------------------------------------------------------------------------------------------
# Properties


_header_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "-10",
            "0",
            "1e400",
            "99999999999999999999999999",
            "1777420800000",
            "1791331200",
            "Fri, 29 Sep 100000 16:26:57 GMT",
            "Zun, 29 Sep 2023 16:26:27 GMT",
            "6m0s",
            "2m59.56s",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "1e-9",
            ".5",
            "-0",
        ]
    ),
)
_header_names = st.sampled_from(
    [
        "retry-after",
        "retry-after-ms",
        "x-ratelimit-reset-tokens",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset",
        "anthropic-ratelimit-tokens-reset",
        "anthropic-ratelimit-unified-reset",
        "anthropic-ratelimit-unified-status",
        "anthropic-ratelimit-unified-5h-reset",
        "anthropic-ratelimit-unified-5h-status",
        "reset_at",
        "content-type",
    ]
) | st.text(max_size=20)
_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30))
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "message",
                    "type",
                    "code",
                    "details",
                    "metadata",
                    "headers",
                    "retryDelay",
                    "@type",
                    "X-RateLimit-Reset",
                    "retry_after_seconds",
                    "status",
                    "reason",
                    "violations",
                    "quotaId",
                    "raw",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
_bodies = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=200),
    _json.map(lambda v: json.dumps(v, allow_nan=True)),
    st.sampled_from(
        [
            "Please try again in 1e400 seconds",
            "regain access on 9999-99-99 at 99:99 UTC",
            "regain access on 2000-01-01 at 00:00 UTC",
            "Limit resets at: 0001-01-01 00:00:00 UTC",
            '{"error":{"details":[{"@type":"x.RetryInfo","retryDelay":{"seconds":"1e999"}}]}}',
            '{"error":{"metadata":{"retry_after_seconds":NaN}}}',
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    provider=st.sampled_from(
        [
            "anthropic",
            "anthropic-oauth",
            "openai",
            "google",
            "gemini",
            "openrouter",
            "deepseek",
            "moonshot",
            "kimi",
            "kimi-coding",
            "groq",
            "mistral",
            "xai",
            "litellm",
            "litellm-proxy",
            "other",
        ]
    ),
    status=st.one_of(st.none(), st.integers(100, 599)),
    headers=st.dictionaries(_header_names, _header_values, max_size=6),
    body=_bodies,
)
def test_arbitrary_input_never_raises_and_never_yields_a_past_or_nan_time(
    provider: str, status: int | None, headers: dict[str, str], body: str | bytes
) -> None:
    f = classify(provider, status, headers, body, now=NOW)
    assert f.reason in Reason
    assert f.scope in ("model", "profile", "account")
    if f.retry_at is not None:
        assert f.retry_at > NOW
        assert math.isfinite(f.retry_at.timestamp())
        assert f.retry_source
    assert len(f.message) <= 200
    json.dumps(f.to_json())
