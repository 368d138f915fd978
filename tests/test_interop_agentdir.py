"""Where a configured agent keeps its store: OpenClaw's own resolveAgentDir agrees with probed.

Both releases are asked (2026.9.6 and 2026.5.28), with `~`, absolute, relative, blank and
duplicate `agentDir`s, ids that need normalising, `$OPENCLAW_HOME`, and 9.x's `agents.entries`
form. OpenClaw resolves a relative path against its working directory; the node process runs
from the home directory, which is what probed assumes (a gateway started by its own service).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from helpers.openclaw import json_pkg, run_node, sqlite_pkg

from probed.openclawjson import configured_agent_dirs
from probed.stores.discover import agent_dir

pytestmark = pytest.mark.interop

LISTED = {
    "agents": {
        "list": [
            {"id": "main"},
            {"id": "Work Bot", "agentDir": " ~/bots/work "},
            {"id": "abs", "agentDir": "/srv/oc/abs/"},
            {"id": "rel", "agentDir": "rel/dir"},
            {"id": "blank", "agentDir": "   "},
            {"id": "dup", "agentDir": "/first"},
            {"id": "DUP", "agentDir": "/second"},
        ]
    }
}
ENTRIES = {"agents": {"entries": {"ops": {"agentDir": "~/ops"}, "plain": {}}}}


def _openclaw_says(pkg: str, doc: dict[str, Any], tmp: Path, env: dict[str, str]) -> Any:
    config = tmp / "openclaw.json"
    config.write_text(json.dumps(doc))
    proc = run_node("oc-agentdir.mjs", str(config), pkg=pkg, env=env, cwd=tmp / "home")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


CASES = [
    pytest.param(sqlite_pkg, LISTED, {}, id="9.6-list"),
    pytest.param(sqlite_pkg, ENTRIES, {}, id="9.6-entries"),
    pytest.param(sqlite_pkg, LISTED, {"OPENCLAW_HOME": "~/oc"}, id="9.6-openclaw-home"),
    pytest.param(json_pkg, LISTED, {}, id="5.28-list"),
    pytest.param(json_pkg, LISTED, {"OPENCLAW_HOME": "/srv/och"}, id="5.28-openclaw-home"),
]


@pytest.mark.parametrize(("pkg", "doc", "extra_env"), CASES)
def test_openclaw_and_probed_agree_on_every_agent_dir(
    tmp_path: Path, pkg: Any, doc: dict[str, Any], extra_env: dict[str, str]
) -> None:
    home, state = tmp_path / "home", tmp_path / "state"
    home.mkdir()
    env = {"HOME": str(home), "OPENCLAW_STATE_DIR": str(state), **extra_env}
    if "OPENCLAW_HOME" not in extra_env:
        env["OPENCLAW_HOME"] = ""
    theirs = _openclaw_says(pkg(), doc, tmp_path, env)
    assert len(theirs) >= 2  # it did list the roster
    ours = configured_agent_dirs(doc, {**os.environ, **env})
    for agent_id, where in theirs.items():
        assert str(ours.get(agent_id) or agent_dir(state, agent_id)) == where, agent_id
    assert set(ours) <= set(theirs)
