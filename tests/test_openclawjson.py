"""Reading OpenClaw's own configuration: where each configured agent keeps its store."""

from __future__ import annotations

from pathlib import Path

import pytest

from probed.openclawjson import configured_agent_dirs, normalize_agent_id

HOME = {"HOME": "/home/ada"}


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("work", "work"),
        ("  Work ", "work"),
        ("Work Bot", "work-bot"),
        ("--ops!!", "ops"),
        ("a.b", "a-b"),
        ("???", "main"),  # nothing representable: OpenClaw falls back to the default agent
        ("x" * 70, "x" * 64),
    ],
)
def test_agent_ids_are_normalized_as_openclaw_does(raw: str, normalized: str) -> None:
    assert normalize_agent_id(raw) == normalized


def test_list_entries_with_an_agent_dir() -> None:
    doc = {
        "agents": {
            "list": [
                {"id": "main"},
                {"id": "Work Bot", "agentDir": " ~/bots/work "},
                {"id": "abs", "agentDir": "/srv/oc/abs/"},
                {"id": "blank", "agentDir": "  "},
                {"id": "rel", "agentDir": "rel/dir"},
                {"agentDir": "/no/id"},
                "junk",
            ]
        }
    }
    assert configured_agent_dirs(doc, HOME) == {
        "work-bot": Path("/home/ada/bots/work"),
        "abs": Path("/srv/oc/abs"),
        "rel": Path("/home/ada/rel/dir"),  # relative: taken from the home directory
    }


def test_entries_are_the_roster_when_present() -> None:
    """9.x keys agents by id under `agents.entries`; when that key exists `list` is not read."""
    doc = {
        "agents": {
            "entries": {"ops": {"agentDir": "~/ops"}, "bad": "not an entry"},
            "list": [{"id": "old", "agentDir": "/old"}],
        }
    }
    assert configured_agent_dirs(doc, HOME) == {"ops": Path("/home/ada/ops")}


def test_openclaw_home_replaces_the_home_directory() -> None:
    doc = {"agents": {"list": [{"id": "w", "agentDir": "~/w"}]}}
    assert configured_agent_dirs(doc, {**HOME, "OPENCLAW_HOME": "~/oc"}) == {
        "w": Path("/home/ada/oc/w")
    }
    assert configured_agent_dirs(doc, {**HOME, "OPENCLAW_HOME": "/srv/oc"}) == {
        "w": Path("/srv/oc/w")
    }


def test_the_first_entry_of_an_id_wins() -> None:
    doc = {"agents": {"list": [{"id": "w", "agentDir": "/a"}, {"id": "W", "agentDir": "/b"}]}}
    assert configured_agent_dirs(doc, HOME) == {"w": Path("/a")}


@pytest.mark.parametrize("doc", [{}, {"agents": []}, {"agents": {"list": {}}}, {"agents": None}])
def test_no_roster_means_no_configured_dirs(doc: dict[str, object]) -> None:
    assert configured_agent_dirs(doc, HOME) == {}
