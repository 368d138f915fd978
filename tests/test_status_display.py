"""`probed status` reads stores for display only: no credential is parsed, so a profile whose
secret fields would break a parser is still listed, and what is listed is exactly what a full
read parses. `render_json` is `json.dumps(indent=2)` byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from helpers.ocstate import PROFILES, SECRETS, agent_dir, era_a, era_b, era_c_agent, write_json
from hypothesis import given, settings
from hypothesis import strategies as st

from probed import model, status
from probed.cli import main
from probed.config import OpenClawConfig
from probed.confirm import Verdict
from probed.model import Listed, Profile
from probed.status import OK_ACTION, Report, Row, Unreadable, render_json, render_table
from probed.stores.base import listed_profiles, listing_of, read_listing
from probed.stores.discover import discover
from probed.stores.inherit import InheritingStore
from probed.stores.jsonstore import JsonStore
from probed.stores.sqlitestore import SqliteStore

NOW = 1_800_000_000_000
H = 3_600_000


def _config(tmp_path: Path, state: Path) -> Path:
    cfg = tmp_path / "probed.toml"
    cfg.write_text(
        f'[daemon]\nstate_dir = "{tmp_path / "probed-state"}"\n'
        f'[openclaw]\nstate_dir = "{state}"\nreload_command = []\n'
    )
    return cfg


def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every credential parse fail loudly: a display read must never get there."""

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a credential was parsed for display")

    monkeypatch.setattr(model.Profile, "from_json", classmethod(boom))
    monkeypatch.setattr(model, "_secret_ref", boom)


@pytest.mark.parametrize("era", ["A", "B", "C"])
def test_status_lists_profiles_without_parsing_a_credential(
    era: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    usage = {"anthropic:a": {"cooldownUntil": NOW + H, "cooldownReason": "rate_limit"}}
    {"A": era_a, "B": era_b, "C": era_c_agent}[era](state, usage, agent="main")
    _no_credentials(monkeypatch)
    assert main(["status", "-c", str(_config(tmp_path, state)), "--json"]) == 0
    out = capsys.readouterr().out
    rows = {r["profile"]: r for r in json.loads(out)["profiles"]}
    assert set(rows) == set(PROFILES)
    assert rows["anthropic:a"]["type"] == "api_key"
    assert rows["openrouter:x"]["provider"] == "openrouter"
    assert not any(s in out for s in SECRETS)


def test_secret_fields_that_break_a_parser_still_list_the_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    d = agent_dir(state, "main")
    hostile = {
        "type": "oauth",
        "provider": " Anthropic ",
        "access": {"not": "a string"},
        "refresh": ["x"],
        "expires": "1e400",
        "keyRef": {"source": "vault", "id": 7},
        "tokenRef": "env:NOPE",
    }
    write_json(d / "auth-profiles.json", {"version": 1, "profiles": {"anthropic:odd": hostile}})
    assert main(["status", "-c", str(_config(tmp_path, state)), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["profiles"]
    assert (row["profile"], row["provider"], row["type"]) == ("anthropic:odd", "anthropic", "oauth")


ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["api_key", "token", "oauth", "password", None, 3]),
        "mode": st.sampled_from(["api_key", "oauth", "x"]),
        "provider": st.sampled_from(["anthropic", " OpenAI ", "", "  ", None, 5]),
        "key": st.sampled_from(["sk-x", "", None]),
    },
)


@settings(max_examples=300, deadline=None)
@given(ENTRY)
def test_a_listing_keeps_exactly_the_entries_a_full_read_keeps(raw: dict[str, Any]) -> None:
    listed = Listed.from_json(raw)
    profile = Profile.from_json("p", raw)
    assert (listed is None) == (profile is None)
    if listed is not None and profile is not None:
        assert (listed.provider, listed.type) == (profile.provider, profile.type)


HOSTILE_ENTRY = (
    ENTRY
    | st.fixed_dictionaries(
        {"type": st.sampled_from([["api_key"], {"a": 1}, 1.0, True, float("nan")])},
        optional={"provider": st.sampled_from(["anthropic", ["x"], {"y": 2}])},
    )
    | st.sampled_from(["api_key", 7, None, ["type", "provider"], []])
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=4), HOSTILE_ENTRY, max_size=8))
def test_a_whole_profiles_object_is_listed_as_its_entries_are_one_by_one(
    raw: dict[str, Any],
) -> None:
    """`listed_profiles` judges each (type, provider) pair once, reading them in bulk; what it
    keeps, in what order, is what `Listed.from_json` keeps of each entry, whatever they hold."""
    expected = {}
    for pid, entry in raw.items():
        listed = Listed.from_json(entry) if isinstance(entry, dict) else None
        if listed is not None:
            expected[pid] = listed
    got = listed_profiles(raw)
    assert list(got.items()) == list(expected.items())


def test_each_store_lists_what_its_full_read_holds(tmp_path: Path) -> None:
    state = tmp_path / "oc"
    usage = {"anthropic:a": {"cooldownUntil": NOW + H, "cooldownReason": "rate_limit"}}
    era_b(state, usage, agent="main")
    era_c_agent(state, {**usage, "anthropic:gone": {"errorCount": 1}}, agent="worker")
    stores = discover_all(state)
    assert stores, "no stores found"
    for store in stores:
        assert read_listing(store) == listing_of(store.read())
    main_store = JsonStore("main", agent_dir(state, "main"))
    worker = SqliteStore(
        "worker", agent_dir(state, "worker"), agent_dir(state, "worker") / "openclaw-agent.sqlite"
    )
    inheriting = InheritingStore(worker, main_store)
    assert inheriting.read_for_display() == listing_of(inheriting.read())


def discover_all(state: Path) -> list[Any]:
    return list(discover(OpenClawConfig(state_dir=state)))


TEXT = st.text(max_size=8) | st.sampled_from(['"', "\\", "\n", "},\n      {", "é", "\u2028"])
OPT = st.none() | TEXT


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(TEXT, TEXT, OPT, st.none() | st.integers(-5, 10**12), TEXT, st.booleans()),
        max_size=6,
    ),
    st.integers(1, 4),
)
def test_render_json_is_json_dumps_indent_2(
    cells: list[tuple[str, str, Any, Any, str, bool]], rows_per_piece: int
) -> None:
    """Plain rows (laid out from a constant text) and the others (encoded together), mixed,
    and cut into pieces of any number of rows."""
    at = datetime(2027, 1, 15, 9, 30, 15, 250_000, tzinfo=UTC)
    rows = tuple(
        Row(a, p, v, "api_key", "ok", None, None, None, None, None, None, None, OK_ACTION)
        if plain
        else Row(a, p, v, "api_key", "ok", r, None, n, None, None, None, None, p)
        for a, p, r, n, v, plain in cells
    )
    report = Report(at, rows, (Unreadable("x", "/f", "bad"),))
    with mock.patch.object(status, "JSON_PIECE_ROWS", rows_per_piece):
        assert render_json(report) == json.dumps(report.to_json(), indent=2)


NAME = st.text(max_size=12) | st.sampled_from(["", " ", "a ", "é", "x" * 30, "\t"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(NAME, NAME, NAME), max_size=6), st.booleans())
def test_plain_rows_print_and_encode_as_every_other_row(
    names: list[tuple[str, str, str]], repaired: bool
) -> None:
    """A plain row (usable, nothing on record) takes shortcuts in `render_table` and `to_json`;
    the same row made non-plain by a field neither output shows for a usable row (its action)
    takes the general path, and both must come out the same, byte for byte."""
    at = datetime(2027, 1, 15, 9, 30, 15, tzinfo=UTC)
    plain = [
        Row(a, p, v, "api_key", "ok", None, None, None, None, None, None, None, OK_ACTION)
        for a, p, v in names
    ]
    assert all(r.plain for r in plain)
    other = [r._replace(action="shown only for unusable rows") for r in plain]
    assert not any(r.plain for r in other)
    extra = []
    if repaired:  # a row with a repair on record adds the GATEWAY column to every line
        extra = [plain[0]._replace(agent="zz", gateway=Verdict.TAKEN)] if plain else []
    mine = Report(at, tuple(plain + extra), ())
    theirs = Report(at, tuple(other + extra), ())
    assert render_table(mine) == render_table(theirs)
    assert [r.to_json() for r in plain] == [r.full_json() for r in plain]
    assert [r.to_json() for r in plain] == [{**r.full_json(), "action": OK_ACTION} for r in other]
