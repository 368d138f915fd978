"""JSON nested 100,000 deep, wherever probed reads JSON from outside: no RecursionError, one
clear note, and a paid probe whose 200 body is hostile still counts (billed, result kept)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers.openclawstate import AgentStore, api_key, cooldown, now_ms
from helpers.probestate import KEY_A, billing, read_usage, write_config, write_store
from hypothesis import given, settings
from hypothesis import strategies as st

from probed import safejson
from probed.cli import main
from probed.fakeprovider import FakeProvider
from probed.ledger import Ledger

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJ = '{"a":' * 50_000 + "1" + "}" * 50_000
BODY_DEEP = "[" * 30_000 + "]" * 30_000  # under the 64 KiB body cap: parsed, not cut


@pytest.mark.parametrize("text", [DEEP, DEEP_OBJ, "[" * 65 + "]" * 65, "[" * 100_000])
def test_too_deep_is_a_decode_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(safejson.TooDeep, match="nested more than 64 levels deep"):
        safejson.loads(text)
    with pytest.raises(ValueError, match="nested"):  # what existing handlers catch
        safejson.loads(text.encode())


def test_depth_inside_strings_does_not_count_and_64_levels_parse() -> None:
    assert safejson.loads(json.dumps({"a": "[" * 1000, "b": '\\"[[[[' * 50})) is not None
    assert safejson.loads("[" * 64 + "]" * 64) is not None
    assert not safejson.too_deep('["\\"' + "]" * 100 + '"]')


def test_each_pass_peels_one_level_whichever_brackets_alternate() -> None:
    """`[{` alternating 33 times is 66 levels: peeling `{}` and then `[]` in the same pass
    would count them as 33."""
    assert safejson.too_deep('{"a":' + "[{" * 33 + "}]" * 33 + "}")
    assert not safejson.too_deep("[{" * 32 + "}]" * 32)
    assert safejson.too_deep("{[" * 32 + "{}" + "]}" * 32)


def _envelope(tmp_path: Path) -> Path:
    write_store(
        tmp_path / "oc",
        {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
        {"anthropic:default": billing()},
    )
    return tmp_path / "oc" / "agents" / "main" / "agent"


@pytest.mark.parametrize("name", ["auth-profiles.json", "auth-state.json"])
def test_a_deep_store_file_is_named_and_other_agents_go_on(tmp_path, capsys, name: str) -> None:
    agent = _envelope(tmp_path)
    write_store(
        tmp_path / "oc",
        {"anthropic:ok": {"type": "api_key", "provider": "anthropic", "key": KEY_A}},
        {},
        agent="other",
    )
    (agent / name).write_text(DEEP)
    cfg = write_config(tmp_path, tmp_path / "oc")
    assert main(["-c", str(cfg), "status", "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert [p["profile"] for p in doc["profiles"]] == ["anthropic:ok"]
    assert f"{agent / name}: is nested more than 64 levels deep" in doc["errors"][0]["error"]
    assert "RecursionError" not in err and "internal error" not in err


def test_a_deep_sqlite_cell_is_named(tmp_path, capsys) -> None:
    store = AgentStore(tmp_path / "oc", "main", "C")
    store.write({"anthropic:a": api_key("anthropic", KEY_A)}, {"anthropic:a": cooldown(now_ms())})
    db = store.agent_dir / "openclaw-agent.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE auth_profile_state SET state_json=?", (DEEP_OBJ,))
    cfg = write_config(tmp_path, tmp_path / "oc")
    assert main(["-c", str(cfg), "status", "--json"]) == 0
    out, err = capsys.readouterr()
    [e] = json.loads(out)["errors"]
    assert "auth profile state cell is nested more than 64 levels deep" in e["error"]
    assert "RecursionError" not in err


@pytest.mark.parametrize("body", [BODY_DEEP, "[" * 100_000 + "]" * 100_000], ids=["30k", "100k"])
def test_a_hostile_200_to_a_paid_probe_counts_and_is_kept(tmp_path, capsys, body: str) -> None:
    _envelope(tmp_path)
    with FakeProvider() as fake:
        fake.respond(
            kind="paid", status=200, body=body, headers={"content-type": "application/json"}
        )
        cfg = write_config(
            tmp_path, tmp_path / "oc", providers={"anthropic": {"base_url": fake.base_url}}
        )
        code = main(["-c", str(cfg), "probe", "anthropic:default", "--json"])
        paid = fake.counts().paid
    out, err = capsys.readouterr()
    [r] = json.loads(out)["results"]
    assert code == 0 and paid == 1 and r["paid"] is True and r["outcome"] == "recovered"
    assert read_usage(tmp_path / "oc", "anthropic:default").get("disabledUntil") is None
    from datetime import UTC, datetime

    ledger = Ledger(tmp_path / "state")
    rec = ledger.get("main", "anthropic:default")
    assert rec is not None and rec.last_result == "ok"  # the result is kept
    assert ledger.paid_today("anthropic", datetime.now(UTC)) == 1  # and the request counted
    assert "probe_body_unreadable" in err and "RecursionError" not in err


def test_a_deep_error_body_is_classified_not_crashed(tmp_path, capsys) -> None:
    _envelope(tmp_path)
    with FakeProvider() as fake:
        fake.respond(kind="paid", status=402, body=BODY_DEEP)
        cfg = write_config(
            tmp_path, tmp_path / "oc", providers={"anthropic": {"base_url": fake.base_url}}
        )
        code = main(["-c", str(cfg), "probe", "anthropic:default"])
    assert code == 75 and "failed (billing" in capsys.readouterr().out


def test_classify_and_openclaw_json_and_results_file(tmp_path, capsys) -> None:
    env = tmp_path / "resp.json"
    env.write_text(DEEP)
    cfg = write_config(tmp_path, tmp_path / "oc")
    _envelope(tmp_path)
    assert main(["-c", str(cfg), "classify", "--provider", "anthropic", str(env)]) == 2
    assert "nested more than 64 levels deep" in capsys.readouterr().err
    body = json.dumps({"status": 400, "headers": {}, "body": BODY_DEEP})
    env.write_text(body)
    assert main(["-c", str(cfg), "classify", "--provider", "anthropic", str(env)]) == 0
    capsys.readouterr()
    (tmp_path / "oc" / "openclaw.json").write_text(DEEP_OBJ)
    (tmp_path / "lock").mkdir(mode=0o700)
    (tmp_path / "lock" / "anthropic.results.json").write_text(DEEP_OBJ)
    with FakeProvider() as fake:
        cfg = write_config(
            tmp_path, tmp_path / "oc", providers={"anthropic": {"base_url": fake.base_url}}
        )
        assert main(["-c", str(cfg), "probe", "anthropic:default"]) == 0
    err = capsys.readouterr().err
    assert "openclaw_config_unreadable" in err and "RecursionError" not in err


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_TEXT = st.text(alphabet='[]{}"\\ax:,é', max_size=6)
_JSON = st.recursive(
    st.none() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(_JSON, st.integers(0, 8), st.booleans())
def test_too_deep_counts_the_nesting_json_has(value: object, limit: int, ascii_only: bool) -> None:
    """Brackets and quotes (escaped or not) inside strings never count; both ways of cutting
    the strings out (with and without an escaped quote in the text) agree with the document."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert safejson.too_deep(text, limit) == (_depth(value) > limit)


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=30,
)


def _containers(value: object) -> list[object]:
    if isinstance(value, dict):
        return [value, *(c for v in value.values() for c in _containers(v))]
    if isinstance(value, list):
        return [value, *(c for v in value for c in _containers(v))]
    return []


@given(_ANY_JSON)
@settings(max_examples=200)
def test_copied_is_the_same_json_sharing_no_container(value: object) -> None:
    copy = safejson.copied(value)
    assert json.dumps(copy) == json.dumps(value)  # types too: 1, 1.0 and true stay apart
    theirs = {id(c) for c in _containers(value)}
    assert not any(id(c) in theirs for c in _containers(copy))


def test_copied_keeps_a_subclass_of_dict() -> None:
    from collections import OrderedDict

    doc = {"a": OrderedDict(b=[1, 2])}
    copy = safejson.copied(doc)
    assert type(copy["a"]) is OrderedDict and copy == doc and copy["a"] is not doc["a"]
