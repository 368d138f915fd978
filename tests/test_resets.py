"""Reset-signal parsing: the SDKs' retry-after table (without caps) and every other format."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probed import resets
from probed.resets import Signal

# The SDK tests patch time.time to 1696004797 (2023-09-29 16:26:37 UTC).
SDK_NOW = datetime.fromtimestamp(1696004797, tz=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20", 20),
        ("0", None),
        ("-10", None),
        ("60", 60),
        ("61", 61),  # the anthropic SDK's 60 s cap does not apply here
        ("120", 120),
        ("121", 121),  # nor openai's 120 s cap
        ("1.5", 1.5),
        ("Fri, 29 Sep 2023 16:26:57 GMT", 20),
        ("Fri, 29 Sep 2023 16:26:37 GMT", None),  # equal to now
        ("Fri, 29 Sep 2023 16:26:27 GMT", None),  # past
        ("Fri, 29 Sep 2023 16:27:37 GMT", 60),
        ("Fri, 29 Sep 2023 16:27:38 GMT", 61),
        ("Fri, 29 Sep 2023 16:28:37 GMT", 120),
        ("Fri, 29 Sep 2023 16:28:38 GMT", 121),
        ("99999999999999999999999999999999999", None),
        ("inf", None),
        ("nan", None),
        ("1e400", None),
        ("Zun, 29 Sep 2023 16:26:27 GMT", None),  # bogus day name parses; the date is past
        ("Zun, 29 Sep 2023 16:26:57 GMT", 20),  # ... and a future one is honoured
        ("Fri, 29 Sep 100000 16:26:57 GMT", None),  # year out of range: no signal, no exception
        ("", None),
        ("soon", None),
    ],
)
def test_retry_after_table_like_the_sdks_without_caps(value: str, expected: float | None) -> None:
    sig = resets.parse_retry_after({"retry-after": value}, SDK_NOW)
    if expected is None:
        assert sig is None
    else:
        assert sig == Signal(SDK_NOW + timedelta(seconds=expected), "header:retry-after")


@pytest.mark.parametrize(("ms", "expected"), [("1500", 1.5), ("120000", 120), ("120001", 120.001)])
def test_retry_after_ms_is_read_first(ms: str, expected: float) -> None:
    sig = resets.parse_retry_after({"Retry-After-Ms": ms, "Retry-After": "30"}, SDK_NOW)
    assert sig == Signal(SDK_NOW + timedelta(seconds=expected), "header:retry-after-ms")


def test_junk_retry_after_ms_falls_through_to_retry_after() -> None:
    sig = resets.parse_retry_after({"retry-after-ms": "nan", "retry-after": "30"}, SDK_NOW)
    assert sig == Signal(SDK_NOW + timedelta(seconds=30), "header:retry-after")


def test_no_header_no_signal() -> None:
    assert resets.parse_retry_after({}, SDK_NOW) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1),
        ("6m0s", 360),
        ("12ms", 0.012),
        ("2m59.56s", 179.56),
        ("7.66s", 7.66),
        ("1h2m3.5s", 3723.5),
        ("59s", 59),
        ("1.203608125s", 1.203608125),
        ("", None),
        ("6m0", None),
        ("abc", None),
        ("-5s", None),
    ],
)
def test_go_durations(text: str, seconds: float | None) -> None:
    got = resets.parse_go_duration(text)
    if seconds is None:
        assert got is None
    else:
        assert got == pytest.approx(seconds)


NOW = datetime(2026, 10, 7, 12, 40, 37, tzinfo=UTC)


def test_x_ratelimit_reset_applies_only_to_exhausted_windows() -> None:
    headers = {
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    sigs = resets.header_signals(headers, NOW)
    assert sigs == [Signal(NOW + timedelta(seconds=360), "header:x-ratelimit-reset-tokens")]


def test_anthropic_rfc3339_resets_latest_exhausted_wins() -> None:
    headers = {
        "anthropic-ratelimit-input-tokens-remaining": "0",
        "anthropic-ratelimit-input-tokens-reset": "2026-10-07T12:41:00Z",
        "anthropic-ratelimit-output-tokens-remaining": "0",
        "anthropic-ratelimit-output-tokens-reset": "2026-10-07T12:42:00Z",
        "anthropic-ratelimit-requests-remaining": "10",
        "anthropic-ratelimit-requests-reset": "2026-10-07T13:00:00Z",
    }
    best = resets.choose(resets.header_signals(headers, NOW))
    assert best == Signal(
        datetime(2026, 10, 7, 12, 42, tzinfo=UTC), "header:anthropic-ratelimit-output-tokens-reset"
    )


def test_unified_epoch_seconds_and_rejected_windows() -> None:
    reset = int((NOW + timedelta(hours=2)).timestamp())
    week = int((NOW + timedelta(days=3)).timestamp())
    headers = {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": str(reset),
        "anthropic-ratelimit-unified-7d-status": "rejected",
        "anthropic-ratelimit-unified-7d-reset": str(week),
        "anthropic-ratelimit-unified-5h-status": "allowed",
        "anthropic-ratelimit-unified-5h-reset": str(reset + 100),
        "anthropic-ratelimit-unified-overage-reset": str(week + 1000),
    }
    sigs = resets.header_signals(headers, NOW)
    assert {s.source for s in sigs} == {
        "header:anthropic-ratelimit-unified-reset",
        "header:anthropic-ratelimit-unified-7d-reset",
    }
    best = resets.choose(sigs)
    assert best is not None and best.at == datetime.fromtimestamp(week, UTC)


def test_unified_reset_does_not_give_way_to_retry_after() -> None:
    reset = int((NOW + timedelta(hours=30)).timestamp())
    headers = {"retry-after": "60", "anthropic-ratelimit-unified-reset": str(reset)}
    best = resets.choose(resets.header_signals(headers, NOW))
    assert best == Signal(
        datetime.fromtimestamp(reset, UTC), "header:anthropic-ratelimit-unified-reset"
    )


def test_retry_after_supersedes_bucket_refills() -> None:
    headers = {
        "retry-after": "23",
        "anthropic-ratelimit-input-tokens-remaining": "0",
        "anthropic-ratelimit-input-tokens-reset": "2026-10-07T12:50:00Z",
    }
    best = resets.choose(resets.header_signals(headers, NOW))
    assert best == Signal(NOW + timedelta(seconds=23), "header:retry-after")


def test_without_retry_after_several_signals_take_the_latest() -> None:
    sigs = [
        Signal(NOW + timedelta(seconds=5), "header:x-ratelimit-reset-tokens"),
        Signal(NOW + timedelta(seconds=50), "header:x-ratelimit-reset-requests"),
        Signal(NOW + timedelta(seconds=20), "message:try-again-in"),
    ]
    assert resets.choose(sigs) == sigs[1]
    assert resets.choose([]) is None


def test_litellm_reset_at_header() -> None:
    sigs = resets.header_signals({"reset_at": "2026-10-07 12:41:00 UTC"}, NOW)
    assert sigs == [Signal(datetime(2026, 10, 7, 12, 41, tzinfo=UTC), "header:reset_at")]


def test_gemini_retry_info_string_and_struct() -> None:
    for delay, secs in (
        ("59s", 59.0),
        ("1.203608125s", 1.203608125),
        ({"seconds": "30", "nanos": 500000000}, 30.5),
    ):
        doc = {
            "error": {
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
                ]
            }
        }
        (sig,) = resets.body_signals(doc, NOW)
        assert sig.source == "body:error.details.RetryInfo.retryDelay"
        assert (sig.at - NOW).total_seconds() == pytest.approx(secs, abs=1e-6)


def test_openrouter_epoch_ms_seconds_and_retry_after_seconds() -> None:
    ms = {
        "error": {
            "metadata": {
                "headers": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1791331200000"}
            }
        }
    }
    secs = {"error": {"metadata": {"headers": {"X-RateLimit-Reset": 1791331200}}}}
    now = datetime(2026, 10, 6, 20, tzinfo=UTC)
    want = datetime(2026, 10, 7, tzinfo=UTC)
    assert [s.at for s in resets.body_signals(ms, now)] == [want]
    assert [s.at for s in resets.body_signals(secs, now)] == [want]
    ra = {"error": {"metadata": {"retry_after_seconds": 29}}}
    assert resets.body_signals(ra, now) == [
        Signal(now + timedelta(seconds=29), "body:error.metadata.retry_after_seconds")
    ]


def test_epoch_reset_already_past_gives_nothing() -> None:
    doc = {"error": {"metadata": {"headers": {"X-RateLimit-Reset": "1777420800000"}}}}
    assert resets.body_signals(doc, NOW) == []


@pytest.mark.parametrize(
    ("message", "seconds", "source"),
    [
        (
            "No deployments available for selected model, Try again in 60 seconds.",
            60,
            "message:try-again-in",
        ),
        ("Please try again in 6m0s. Visit ...", 360, "message:try-again-in"),
        ("Please retry in 38.86s.", 38.86, "message:try-again-in"),
        ("Please try again in 2 minutes", 120, "message:try-again-in"),
        ("Please try again in 450ms.", 0.45, "message:try-again-in"),
    ],
)
def test_delays_in_messages(message: str, seconds: float, source: str) -> None:
    (sig,) = resets.message_signals(message, NOW)
    assert sig.source == source
    assert (sig.at - NOW).total_seconds() == pytest.approx(seconds, abs=1e-3)


def test_dates_in_messages() -> None:
    (sig,) = resets.message_signals("You will regain access on 2026-11-01 at 00:00 UTC.", NOW)
    assert sig == Signal(datetime(2026, 11, 1, tzinfo=UTC), "message:regain-access-date")
    (sig,) = resets.message_signals("Limit resets at: 2026-10-07 12:41:00 UTC", NOW)
    assert sig == Signal(datetime(2026, 10, 7, 12, 41, tzinfo=UTC), "message:limit-resets-at")
    assert resets.message_signals("regain access on 2026-13-45 at 99:99 UTC", NOW) == []
    assert resets.message_signals("regain access on 2020-01-01 at 00:00 UTC", NOW) == []


@pytest.mark.parametrize(
    "value",
    [
        "inf",
        "nan",
        "-1",
        "0",
        "1e400",
        "99999999999999999999",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "garbage",
        "2026-02-30T00:00:00Z",
    ],
)
def test_garbage_instants_give_no_signal(value: str) -> None:
    assert resets.parse_instant(value, NOW, "x") is None


def test_epoch_seconds_and_milliseconds_are_told_apart() -> None:
    when = NOW + timedelta(hours=1)
    s = resets.parse_instant(str(int(when.timestamp())), NOW, "x")
    ms = resets.parse_instant(str(int(when.timestamp() * 1000)), NOW, "x")
    assert s is not None and ms is not None
    assert s.at == ms.at == when


# ---------------------------------------------------------------------------------------------
# Calendar rules


@pytest.mark.parametrize(
    ("now", "midnight"),
    [
        # 05:40 PDT -> next 00:00 PDT is 07:00 UTC
        (datetime(2026, 10, 7, 12, 40, 37, tzinfo=UTC), datetime(2026, 10, 8, 7, tzinfo=UTC)),
        # 02:00 PST in January -> 08:00 UTC
        (datetime(2026, 1, 15, 10, tzinfo=UTC), datetime(2026, 1, 16, 8, tzinfo=UTC)),
        # 23:59 PDT June 30 -> a minute later
        (datetime(2026, 7, 1, 6, 59, tzinfo=UTC), datetime(2026, 7, 1, 7, tzinfo=UTC)),
        # exactly local midnight -> the next one
        (datetime(2026, 7, 1, 7, 0, tzinfo=UTC), datetime(2026, 7, 2, 7, tzinfo=UTC)),
        # the day DST ends (Nov 1 2026): midnight after it is PST
        (datetime(2026, 11, 1, 12, tzinfo=UTC), datetime(2026, 11, 2, 8, tzinfo=UTC)),
        # the day DST starts (Mar 8 2026): midnight after it is PDT
        (datetime(2026, 3, 8, 12, tzinfo=UTC), datetime(2026, 3, 9, 7, tzinfo=UTC)),
    ],
)
def test_gemini_daily_reset_is_next_pacific_midnight(now: datetime, midnight: datetime) -> None:
    assert resets.next_pacific_midnight(now) == midnight
    assert resets.next_pacific_midnight(now, use_tzdata=False) == midnight


def test_pacific_fallback_matches_tzdata_across_years() -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    while t < datetime(2029, 1, 1, tzinfo=UTC):
        assert resets.next_pacific_midnight(t, use_tzdata=False) == resets.next_pacific_midnight(
            t
        ), t
        t += timedelta(hours=7, minutes=13)


def test_first_of_month_and_utc_midnight() -> None:
    assert resets.first_of_next_month(NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    assert resets.first_of_next_month(datetime(2026, 12, 31, 23, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    assert resets.next_utc_midnight(NOW) == datetime(2026, 10, 8, tzinfo=UTC)
    assert resets.rule_signal("rule:first-of-month", NOW).source == "rule:first-of-month"
    with pytest.raises(ValueError, match="unknown reset rule"):
        resets.rule_signal("rule:never", NOW)


# ---------------------------------------------------------------------------------------------
# Properties

_values = st.one_of(
    st.text(max_size=40),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "retry-after",
                "retry-after-ms",
                "x-ratelimit-reset-tokens",
                "x-ratelimit-reset",
                "anthropic-ratelimit-tokens-reset",
                "anthropic-ratelimit-unified-reset",
                "reset_at",
            ]
        ),
        _values,
        max_size=5,
    ),
    message=st.text(max_size=80),
    meta=_values,
)
def test_no_signal_is_ever_past_nan_or_an_exception(
    headers: dict[str, str], message: str, meta: str
) -> None:
    doc = json.loads(
        json.dumps(
            {
                "error": {
                    "metadata": {
                        "retry_after_seconds": meta,
                        "headers": {"X-RateLimit-Reset": meta},
                    },
                    "details": [{"@type": "RetryInfo", "retryDelay": meta}],
                }
            }
        )
    )
    sigs = [
        *resets.header_signals(headers, NOW),
        *resets.body_signals(doc, NOW),
        *resets.message_signals(message + " try again in " + meta + " seconds", NOW),
    ]
    for s in sigs:
        assert s.at > NOW
        assert math.isfinite(s.at.timestamp())
        assert s.at - NOW <= resets.MAX_AHEAD
