"""The install steps put `probed` and the units' Documentation= where the units expect them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _unit(name: str, key: str) -> str:
    text = (ROOT / "systemd" / name).read_text(encoding="utf-8")
    match = re.search(rf"^{key}=(\S+)", text, re.M)
    assert match, f"{name} has no {key}="
    return match.group(1)


def test_documentation_points_at_a_file_the_install_steps_install() -> None:
    install = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    for unit in ("probed-user.service", "probed.service"):
        doc = _unit(unit, "Documentation")
        assert doc.startswith("file://"), doc
        path = doc.removeprefix("file://").replace("%h/", "~/")
        assert re.search(rf"install -D -m 0644 docs/install\.md {re.escape(path)}\b", install), (
            unit,
            path,
        )


def test_probed_lands_where_execstart_runs_it() -> None:
    install = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    assert _unit("probed-user.service", "ExecStart") == "%h/.local/bin/probed"
    assert "pipx install openclaw-probed" in install and "~/.local/bin/probed" in install
    assert _unit("probed.service", "ExecStart") == "/usr/local/bin/probed"
    assert "ln -sf /opt/probed/bin/probed /usr/local/bin/probed" in install
    assert "pipx install probed\n" not in install and "pipx install probed " not in install


def test_distribution_name_extras_and_license() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    assert project["name"] == "openclaw-probed"
    assert project["scripts"] == {"probed": "probed.cli:main"}
    assert project["optional-dependencies"]["notify"] == ["apprise>=1.6"]
    assert project["optional-dependencies"]["redis"] == ["redis>=5"]
    assert any(d.startswith("prometheus-client") for d in project["dependencies"])
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").is_file()
    assert meta["build-system"]["requires"] == ["setuptools>=77"]
