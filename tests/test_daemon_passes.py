"""The per-profile checks of a daemon pass, made cheap for 100,000 profiles, decide as before."""

from __future__ import annotations

from types import MappingProxyType

from probed import policy
from probed.config import Config
from probed.daemon import Daemon, _may_have_window, _window
from probed.model import Usage
from probed.reasons import Reason, _read_word, from_openclaw
from probed.scheduler import Key

T = 1_800_000_000_000


def test_may_have_window_reads_dicts_and_other_mappings_alike() -> None:
    for raw in (
        {"cooldownUntil": T},
        {"disabledUntil": None},
        {"blockedUntil": 0, "lastUsed": T},
    ):
        assert _may_have_window(raw) and _may_have_window(MappingProxyType(raw))
    for other in ({}, {"lastUsed": T, "errorCount": 2}, None, [], "cooldownUntil"):
        assert not _may_have_window(other)
        if isinstance(other, dict):
            assert not _may_have_window(MappingProxyType(other))


def test_cached_reason_words_read_as_the_enum_does() -> None:
    words = [r.value for r in Reason] + ["session_expired", "server_error", "zzz", ""]
    for word in words * 2:  # the second time from the cache
        assert from_openclaw(word) is _read_word(word)
    assert from_openclaw(None) is None


def test_a_signature_given_the_window_is_the_one_it_would_compute() -> None:
    daemon = Daemon(Config())
    usage = Usage.from_json(
        {"cooldownUntil": T + 60_000, "cooldownReason": "rate_limit", "lastFailureAt": T}
    )
    recorded = usage.recorded()
    assert recorded is not None
    key = Key("main", "anthropic:a")
    window, history = _window(recorded, usage, None)
    assert history == policy.History()
    assert daemon._signature(key, recorded, usage, history, window) == daemon._signature(
        key, recorded, usage, history
    )
