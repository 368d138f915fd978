"""Property tests over every parser of outside input (hypothesis; part of CI, kept fast).

Each parser is one entry of `PARSERS`: a name, a strategy for hostile input, and a call that
must either return or raise one of the errors the parser documents (a sentence for a person),
never anything else (RecursionError, OverflowError, OSError: Value too large, KeyError...).
Adding a parser is one line: `probed classify` input forms, for instance, are listed in
`CLASSIFY_INPUTS`, and a new form's parser goes there.

The longer coverage-guided run of the same targets is `tests/fuzz/atheris_harness.py` (see
docs/security.md).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import math
import os
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DataObject

from probed import redact, resets, safejson
from probed.classify import classify
from probed.clock import from_ms, iso_ms, valid_ms
from probed.commands import classify as classify_cmd
from probed.config import parse_config
from probed.coordination.local import load_results
from probed.durations import format_duration, parse_duration
from probed.errors import ConfigError, ProbedError, UsageError
from probed.failure import Failure
from probed.model import USAGE_FIELDS, Profile, Usage
from probed.probes import anthropic, gemini, openai
from probed.probes.http import Response, TransportError
from probed.reasons import Reason
from probed.stores.jsonstore import JsonStore
from probed.stores.sqlitestore import SqliteStore

NOW = datetime(2026, 10, 7, 12, 0, tzinfo=UTC)
# CI runs 100 examples per parser (about 25 s in all); PROBED_FUZZ_EXAMPLES=20000 for a long run
FUZZ = settings(
    max_examples=int(os.environ.get("PROBED_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

# ---- strategies: the shapes hostile input takes ------------------------------------------

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e20, 1e308, 2**63, 10**30, 253402300800000, 1.5]),
)
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "1e20", "NaN", "\x1b[2J", "\u202e", "billing", "rate_limit", "sk-x"]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
usage_entries = st.dictionaries(st.sampled_from(USAGE_FIELDS), json_values, max_size=8)
profile_entries = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from(["api_key", "token", "oauth"]), json_values),
        "provider": st.one_of(st.sampled_from(["anthropic", "openai", " X "]), json_values),
        "key": texts,
        "token": texts,
        "expires": json_values,
        "keyRef": json_values,
    },
)
store_docs = st.fixed_dictionaries(
    {},
    optional={
        "version": st.one_of(st.just(1), json_values),
        "profiles": st.one_of(
            st.dictionaries(st.text(max_size=10), st.one_of(profile_entries, json_values)),
            json_values,
        ),
        "usageStats": st.one_of(
            st.dictionaries(st.text(max_size=10), st.one_of(usage_entries, json_values)),
            json_values,
        ),
        "order": json_values,
        "lastGood": json_values,
    },
)
deep = st.integers(min_value=60, max_value=3000).map(lambda n: "[" * n + "]" * n)
documents = st.one_of(
    store_docs.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=60),
    deep,
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
)
header_names = st.sampled_from(
    [
        "retry-after",
        "retry-after-ms",
        "x-ratelimit-reset",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-unified-reset",
        "x-ratelimit-remaining-requests",
        "content-type",
    ]
)
header_values = st.one_of(
    texts,
    numbers.map(str),
    st.sampled_from(
        ["Wed, 21 Oct 2015 07:28:00 GMT", "2026-10-07T12:45:00Z", "1h2m3s", "-5", "inf"]
    ),
)
headers = st.dictionaries(st.one_of(header_names, st.text(max_size=10)), header_values, max_size=4)
bodies = st.one_of(documents, json_values.map(lambda v: json.dumps({"error": v})))


def _failure_ok(f: Failure) -> None:
    assert isinstance(f, Failure) and f.reason in set(Reason)
    assert f.retry_at is None or (f.retry_at.tzinfo is not None and f.retry_at >= NOW)
    assert isinstance(f.message, str) and isinstance(f.action, str)


# ---- the parsers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Parser:
    name: str
    run: Callable[[DataObject], None]  # draws its input, calls the parser, checks the result


def _json_store(data: DataObject) -> None:
    profiles_text = data.draw(documents, label="auth-profiles.json")
    state_text = data.draw(st.one_of(st.none(), documents), label="auth-state.json")
    with tempfile.TemporaryDirectory() as tmp:
        agent = Path(tmp)
        (agent / "auth-profiles.json").write_text(profiles_text, encoding="utf-8")
        if state_text is not None:
            (agent / "auth-state.json").write_text(state_text, encoding="utf-8")
        try:
            snap = JsonStore("main", agent, lock_timeout=0.1).read()
        except ProbedError:
            return
        for pid, profile in snap.profiles.items():
            usage = snap.usage(pid)
            usage.view(profile.provider, 1_700_000_000_000)
            usage.recorded()
            usage.invalid_note(pid)


_AGENT_SCHEMA = """
CREATE TABLE auth_profile_store (store_key TEXT PRIMARY KEY, store_json TEXT, updated_at INTEGER);
CREATE TABLE auth_profile_state (state_key TEXT PRIMARY KEY, state_json TEXT, updated_at INTEGER);
"""


def _sqlite_cells(data: DataObject) -> None:
    cell = st.one_of(documents, json_values, st.binary(max_size=20))
    store_cell, state_cell = data.draw(cell, label="store"), data.draw(cell, label="state")
    stamp = data.draw(st.one_of(st.none(), numbers, texts), label="updated_at")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "openclaw-agent.sqlite"
        with sqlite3.connect(db) as conn:
            conn.executescript(_AGENT_SCHEMA)
            for table, key, value in (
                ("auth_profile_store", "store", store_cell),
                ("auth_profile_state", "state", state_cell),
            ):
                try:
                    conn.execute(
                        f"INSERT INTO {table} VALUES ('primary', ?, ?)",  # noqa: S608
                        (value, stamp if not isinstance(stamp, float) else None),
                    )
                except (sqlite3.Error, OverflowError):
                    sql = f"INSERT INTO {table} VALUES ('primary', ?, 0)"  # noqa: S608
                    conn.execute(sql, (str(value),))
                del key
        conn.close()
        try:
            snap = SqliteStore("main", Path(tmp), db).read()
        except ProbedError:
            return
        for pid, profile in snap.profiles.items():
            snap.usage(pid).view(profile.provider, 1_700_000_000_000)


def _usage_and_profile(data: DataObject) -> None:
    raw = data.draw(st.one_of(usage_entries, json_values))
    usage = Usage.from_json(raw)
    for t in (usage.cooldown_until, usage.disabled_until, usage.blocked_until):
        assert t is None or valid_ms(t)
    usage.view("anthropic", data.draw(st.integers(0, 2**45)), for_model=data.draw(texts))
    entry = data.draw(st.one_of(profile_entries, json_values))
    if isinstance(entry, Mapping):
        Profile.from_json("p", entry)


def _timestamps(data: DataObject) -> None:
    value = data.draw(numbers)
    iso_ms(value)
    if valid_ms(value):
        assert from_ms(value).year <= 9999
        return
    with contextlib.suppress(ValueError):  # the one documented refusal (never OSError)
        from_ms(value)


def _provider_response(data: DataObject) -> None:
    provider = data.draw(st.sampled_from(["anthropic", "openai", "google", "openrouter", "zzz"]))
    status = data.draw(st.one_of(st.none(), st.integers(100, 599), st.integers(-5, 10**6)))
    failure = classify(provider, status, data.draw(headers), data.draw(bodies), now=NOW)
    _failure_ok(failure)


def _generation_bodies(data: DataObject) -> None:
    body = data.draw(bodies).encode("utf-8", "surrogatepass")
    resp = Response(200, data.draw(headers), body, truncated=data.draw(st.booleans()))
    for family in (anthropic, openai, gemini):
        with contextlib.suppress(TransportError):
            family.read_generation(resp)


def _reset_signals(data: DataObject) -> None:
    h = data.draw(headers)
    found = [*resets.header_signals(h, NOW), resets.parse_retry_after(h, NOW)]
    found += resets.body_signals(data.draw(json_values), NOW)
    found += resets.message_signals(data.draw(st.text(max_size=80)), NOW)
    for sig in found:
        if sig is not None:
            assert NOW <= sig.at <= NOW + resets.MAX_AHEAD + timedelta(days=1)
    resets.choose(s for s in found if s is not None)


durations = st.one_of(
    st.text(alphabet="0123456789.dhms ", max_size=14),
    st.from_regex(r"\A([0-9]{1,12}(\.[0-9]{1,4})?(d|h|m|s|ms)){1,3}\Z"),
    st.sampled_from(["100000000d", "1" + "0" * 400 + "s", "1e400s", "365d", "0s", "30d"]),
)
config_values = st.one_of(scalars, durations, st.lists(texts, max_size=3))
config_tables = st.fixed_dictionaries(
    {},
    optional={
        "daemon": st.dictionaries(
            st.sampled_from(["log_level", "log_format", "lock_dir", "state_dir", "bogus"]),
            st.one_of(config_values, st.text(max_size=300)),
        ),
        "openclaw": st.dictionaries(
            st.sampled_from(["state_dir", "agents", "reload_command"]), config_values
        ),
        "probe": st.dictionaries(
            st.sampled_from(["timeout", "concurrency", "jitter", "jitter_max", "daily_budget"]),
            config_values,
        ),
        "backoff": st.dictionaries(
            st.sampled_from(["billing", "quota", "nonsense"]),
            st.one_of(st.dictionaries(st.sampled_from(["base", "cap"]), config_values), scalars),
        ),
        "providers": st.dictionaries(
            st.sampled_from(["anthropic", "x"]),
            st.one_of(
                st.dictionaries(
                    st.sampled_from(["api", "base_url", "model", "models"]), config_values
                ),
                scalars,
            ),
        ),
        "repair": st.dictionaries(st.just("clamp_stale"), config_values),
    },
)


def _configuration(data: DataObject) -> None:
    raw = data.draw(config_tables)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"HOME": tmp}
        try:
            cfg = parse_config(raw, Path(tmp) / "probed.toml", env)
        except ConfigError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 2000
            return
    for b in cfg.backoff.values():
        assert 0 < b.base <= b.cap <= 30 * 86400
    NOW + timedelta(seconds=max(b.cap for b in cfg.backoff.values()) + cfg.probe.jitter_max)


def _durations(data: DataObject) -> None:
    text = data.draw(durations)
    try:
        seconds = parse_duration(text)
    except ValueError:
        return
    assert math.isfinite(seconds) and 0 <= seconds <= 365 * 86400
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


# `probed classify` input forms: one reader per form, each (where, text) -> (status, headers,
# body), raising UsageError (or the reader's own ValueError subclass) for input that is not its
# form. A new form is one line here. 0.1's JSON envelope reader is `commands.classify._parse`;
# 0.2's `probed.pasted.parse_pasted` (every pasted form) joins the list when it is there.
ClassifyInput = Callable[[str, str], tuple[int | None, Mapping[str, str], str]]


def _pasted(where: str, text: str) -> tuple[int | None, Mapping[str, str], str]:
    found = importlib.import_module("probed.pasted").parse_pasted(text, where=where)
    return found.status, found.headers, found.body


CLASSIFY_INPUTS: list[ClassifyInput] = [
    *([classify_cmd._parse] if hasattr(classify_cmd, "_parse") else []),
    *([_pasted] if importlib.util.find_spec("probed.pasted") else []),
]


def _classify_inputs(data: DataObject) -> None:
    assert CLASSIFY_INPUTS, "no classify input reader found: list it in CLASSIFY_INPUTS"
    envelope = st.fixed_dictionaries(
        {},
        optional={"status": json_values, "headers": json_values, "body": json_values},
    ).map(json.dumps)
    text = data.draw(st.one_of(envelope, documents))
    for parse in CLASSIFY_INPUTS:
        try:
            status, h, body = parse("standard input", text)
        except (UsageError, ValueError):  # ValueError: probed.pasted.PasteError
            continue
        _failure_ok(classify("anthropic", status, h, body, now=NOW))


def _safejson(data: DataObject) -> None:
    text = data.draw(documents)
    try:
        doc = safejson.loads(text)
    except ValueError:
        return
    json.dumps(doc)  # what comes back is shallow enough for every later walk


def _shared_results(data: DataObject) -> None:
    """The single-flight results file: whatever it holds, reading it gives a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "anthropic.results.json"
        path.write_text(data.draw(documents), encoding="utf-8")
        assert isinstance(load_results(path), dict)


def _redaction(data: DataObject) -> None:
    secret = data.draw(st.from_regex(r"\A[A-Za-z0-9]{12,30}\Z"))
    redact.register_url(f"https://user:{secret}@h.example/key/{secret}/v1")
    text = data.draw(st.text(max_size=60))
    out = redact.safe(text[:30] + secret + text[30:])
    assert secret not in out
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in out)
    assert redact.scrub_text(out) == out or redact.MASK in out


PARSERS = [
    Parser("store JSON (eras A and B)", _json_store),
    Parser("SQLite cells (era C)", _sqlite_cells),
    Parser("usage entries and profiles", _usage_and_profile),
    Parser("timestamps", _timestamps),
    Parser("provider error bodies and headers", _provider_response),
    Parser("provider 200 bodies", _generation_bodies),
    Parser("reset signals", _reset_signals),
    Parser("configuration", _configuration),
    Parser("durations", _durations),
    Parser("classify input forms", _classify_inputs),
    Parser("depth-limited JSON", _safejson),
    Parser("shared results file", _shared_results),
    Parser("redaction and terminal safety", _redaction),
]


@pytest.mark.parametrize("parser", PARSERS, ids=[p.name for p in PARSERS])
@FUZZ
@given(data=st.data())
def test_parser_survives_hostile_input(parser: Parser, data: DataObject) -> None:
    parser.run(data)
