"""The ladder: free first, paid only for money, budget before paying, faults classified."""

from __future__ import annotations

import socket
import time

import pytest
from helpers.ladderrun import endpoint, ladder

from probed.fakeprovider import TEN_MB, FakeProvider
from probed.probes.ladder import forget_secret

KEY = "sk-proj-SECRET-ladder-0001"


def test_free_success_is_enough_when_money_is_not_in_question() -> None:
    with FakeProvider() as fake:
        r = ladder(endpoint("openai", fake.base_url + "/v1"), KEY, need_paid=False)
        assert fake.counts().paid == 0 and fake.counts().free == 1
    assert r.ok and not r.paid


def test_free_success_never_clears_money_by_itself() -> None:
    with FakeProvider() as fake:
        fake.respond(kind="paid", status=402)
        r = ladder(endpoint("openai", fake.base_url + "/v1"), KEY, need_paid=True)
        assert fake.counts().free == 1 and fake.counts().paid == 1
    assert not r.ok and r.paid


def test_budget_refusal_sends_no_paid_request() -> None:
    with FakeProvider() as fake:
        r = ladder(endpoint("openai", fake.base_url + "/v1"), KEY, budget=[False])
        assert fake.counts().paid == 0
    assert not r.ok and r.budget_refused and r.failure is None and not r.write


def test_past_the_budget_a_limit_that_passes_by_itself_takes_the_free_answer() -> None:
    """The daily budget is spent: only free probes run. A rate limit (or an overload) is then
    taken as over once the key is accepted, as 0.1 did; money is held until the budget resets."""
    from probed.reasons import Reason

    with FakeProvider() as fake:
        ep = endpoint("openai", fake.base_url + "/v1")
        limit = ladder(ep, KEY, budget=[False], recovering=Reason.RATE_LIMIT)
        money = ladder(ep, KEY, budget=[False], recovering=Reason.BILLING)
        assert fake.counts().paid == 0 and fake.counts().free == 2
    assert limit.ok and not limit.paid
    assert not money.ok and money.budget_refused


def test_no_model_known_is_reported_not_written() -> None:
    with FakeProvider() as fake:
        r = ladder(endpoint("my-proxy", fake.base_url + "/v1"), KEY)
        assert fake.counts().paid == 0
    assert r.failure is not None and "my-proxy" in r.failure.message and not r.write


def _fault(ep_url: str, *, timeout: float = 3.0):
    r = ladder(endpoint("openai", ep_url), KEY, timeout=timeout)
    assert not r.ok and r.failure is not None
    assert KEY not in r.failure.message and KEY not in r.failure.action
    return r


def test_unreachable_host() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = _fault(f"http://127.0.0.1:{port}/v1")
    assert not r.write and r.failure.message


def test_tls_failure() -> None:
    with FakeProvider() as fake:
        r = _fault(fake.base_url.replace("http://", "https://") + "/v1")
    assert not r.write


def test_a_provider_that_never_answers() -> None:
    with FakeProvider() as fake:
        fake.hang(kind="paid")
        start = time.monotonic()
        r = _fault(fake.base_url + "/v1", timeout=0.5)
        assert time.monotonic() - start < 5
    assert r.paid and not r.write
    assert str(r.failure.reason) == "timeout"


def test_a_ten_megabyte_body() -> None:
    with FakeProvider() as fake:
        fake.respond(kind="paid", size=TEN_MB)
        r = _fault(fake.base_url + "/v1")
    assert not r.write and "larger" in r.failure.message


def test_a_redirect_to_another_host() -> None:
    with FakeProvider() as fake:
        fake.respond(redirect="http://elsewhere.invalid/v1/models")
        r = _fault(fake.base_url + "/v1")
        assert fake.counts().total == 1
    assert "elsewhere.invalid" in r.failure.message


def test_a_non_json_body() -> None:
    with FakeProvider() as fake:
        fake.respond(kind="paid", body="<html>oops</html>")
        r = _fault(fake.base_url + "/v1")
    assert "not JSON" in r.failure.message and not r.write


def test_a_server_without_a_model_list_is_probed_with_one_token() -> None:
    """A 404 on the free model list says nothing about the credential: it must neither fail the
    profile nor clear it; the one-token generation decides."""
    with FakeProvider() as fake:
        fake.respond(kind="free", status=404, body='{"detail":"Not Found"}')
        r = ladder(endpoint("openai", fake.base_url + "/v1", model="m"), KEY, need_paid=False)
        assert fake.counts().free == 1 and fake.counts().paid == 1
    assert r.ok and r.paid


def test_a_server_without_a_model_list_still_reports_the_real_failure() -> None:
    with FakeProvider() as fake:
        fake.respond(kind="free", status=405, body="")
        fake.respond(kind="paid", status=429, headers={"retry-after": "30"})
        r = ladder(endpoint("openai", fake.base_url + "/v1", model="m"), KEY, need_paid=False)
    assert not r.ok and r.write and r.failure is not None
    assert str(r.failure.reason) == "rate_limit" and r.failure.retry_at is not None


def test_a_200_that_is_not_the_api_proves_nothing() -> None:
    """A captive portal or a wrong base_url answering 200 with HTML must not clear anything:
    the free check is silent, the generation meets the same portal and fails, nothing is
    written."""
    with FakeProvider() as fake:
        fake.respond(
            status=200,
            body="<html><title>Welcome to the hotel wifi</title></html>",
            headers={"content-type": "text/html"},
        )
        r = ladder(endpoint("openai", fake.base_url + "/v1"), KEY, need_paid=False)
        assert fake.counts().free == 1 and fake.counts().paid == 1
    assert not r.ok and not r.write and r.failure is not None
    assert "not JSON" in r.failure.message and "text/html" in r.failure.message


def test_a_portal_on_the_model_list_alone_leaves_the_verdict_to_the_generation() -> None:
    with FakeProvider() as fake:
        fake.respond(
            kind="free",
            status=200,
            body="<html><title>Welcome</title></html>",
            headers={"content-type": "text/html"},
        )
        r = ladder(endpoint("openai", fake.base_url + "/v1"), KEY, need_paid=False)
        assert fake.counts().paid == 1
    assert r.ok and r.paid


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("Forbidden for key ending ...Qz9x (sk-ant-api0)", "Forbidden for key ending ...*** (***)"),
        ("key 4f2b7c9e1aQz9x is disabled", "key *** is disabled"),
        ("rate limited on 4f2b7c9e", "rate limited on ***"),
        ("nothing of it here, 12 tokens", "nothing of it here, 12 tokens"),
        ("the model Qz9xl is fine", "the model Qz9xl is fine"),  # not a word of its own
    ],
)
def test_a_provider_echoing_part_of_the_key_in_its_own_words_is_masked(
    said: str, shown: str
) -> None:
    assert forget_secret(said, "sk-ant-api03-4f2b7c9e1aQz9x") == shown


def test_a_provider_echoing_the_key_tail_never_carries_it_into_the_failure() -> None:
    with FakeProvider() as fake:
        fake.respond(
            status=403,
            body='{"error":{"message":"Forbidden for key ending ...0001 (first: ladder-0001)",'
            '"type":"invalid_request_error"}}',
        )
        r = ladder(endpoint("openai", fake.base_url + "/v1"), KEY, need_paid=False)
    assert r.failure is not None and r.failure.status == 403
    assert "0001" not in r.failure.message and "ladder" not in r.failure.message
