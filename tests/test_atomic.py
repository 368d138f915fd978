"""The atomic replace: OpenClaw's format, mode 0600, no temp left behind, symlinks followed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from probed.stores import atomic


def test_pretty_json_like_openclaw(tmp_path: Path) -> None:
    target = tmp_path / "auth-state.json"
    target.write_text("old")
    target.chmod(0o644)
    atomic.write_json_atomic(target, {"version": 1, "order": {}, "usageStats": {"é": [1]}})
    assert target.read_text(encoding="utf-8") == (
        '{\n  "version": 1,\n  "order": {},\n  "usageStats": {\n'
        '    "é": [\n      1\n    ]\n  }\n}\n'
    )
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["auth-state.json"]


def test_compact_like_json_stringify() -> None:
    assert atomic.dumps_compact({"a": [1, {"b": "ü"}]}) == '{"a":[1,{"b":"ü"}]}'


def test_symlink_target_is_replaced_not_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic.write_json_atomic(link, {"x": 1})
    assert link.is_symlink() and json.loads(real.read_text()) == {"x": 1}


def test_failed_write_leaves_target_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    target.write_text('{"keep": true}\n')
    with pytest.raises(TypeError):
        atomic.write_json_atomic(target, {"bad": object()})
    assert target.read_text() == '{"keep": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
