"""The summary of several attempts comes from their reasons, never from their messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from probed.failure import Failure
from probed.reasons import Reason
from probed.summary import MIXED, summarize

NOW = datetime(2026, 10, 7, 12, 0, tzinfo=UTC)


def _f(reason: Reason, message: str = "", retry_at: datetime | None = None) -> Failure:
    return Failure(reason, retry_at, None, "profile", 400, message, "a")


def test_all_billing_is_billing_even_when_messages_say_rate_limit() -> None:
    s = summarize(
        [
            _f(Reason.BILLING, "429 rate limit: credit balance is too low"),
            _f(Reason.BILLING, "too many requests"),
        ]
    )
    assert s.reason is Reason.BILLING
    assert s.reasons == ((Reason.BILLING, 2),)
    assert s.text == "billing (2 profiles)"
    assert s.exit_code == 75


def test_mixed_reasons_are_listed_each_with_its_count() -> None:
    s = summarize(
        [
            _f(Reason.RATE_LIMIT),
            _f(Reason.BILLING, "billing billing billing"),
            _f(Reason.BILLING),
        ]
    )
    assert s.reason == MIXED
    assert s.reasons == ((Reason.BILLING, 2), (Reason.RATE_LIMIT, 1))
    assert s.text == "mixed: billing (2), rate_limit (1)"


def test_a_credential_problem_makes_the_exit_code_77() -> None:
    s = summarize([_f(Reason.RATE_LIMIT), _f(Reason.AUTH_PERMANENT)])
    assert s.reason == MIXED
    assert s.exit_code == 77


def test_retry_at_is_the_earliest_only_when_every_attempt_names_one() -> None:
    a, b = NOW + timedelta(minutes=5), NOW + timedelta(hours=1)
    assert summarize([_f(Reason.QUOTA, retry_at=a), _f(Reason.QUOTA, retry_at=b)]).retry_at == a
    assert summarize([_f(Reason.QUOTA, retry_at=a), _f(Reason.QUOTA)]).retry_at is None


def test_single_and_empty() -> None:
    one = summarize([_f(Reason.TIMEOUT)])
    assert (one.reason, one.text) == (Reason.TIMEOUT, "timeout (1 profile)")
    none = summarize([])
    assert (none.reason, none.attempts, none.exit_code) == (None, 0, 0)
