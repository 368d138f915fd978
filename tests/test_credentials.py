"""The secret a probe sends, taken from the profile as OpenClaw stores it."""

from __future__ import annotations

import json
from pathlib import Path

from probed.model import Profile
from probed.probes.credentials import (
    CredentialProblem,
    Secret,
    file_secret_providers,
    resolve_secret,
)
from probed.reasons import Reason

NOW = 1_800_000_000_000
KEY = "sk-ant-api03-SECRET-cred-0001"


def _p(raw: dict) -> Profile:
    prof = Profile.from_json("x:default", {"provider": "anthropic", **raw})
    assert prof is not None
    return prof


def test_inline_credentials() -> None:
    s = resolve_secret(_p({"type": "api_key", "key": KEY}), now_ms=NOW)
    assert isinstance(s, Secret) and s.value == KEY and not s.oauth
    assert KEY not in repr(s)
    t = resolve_secret(_p({"type": "token", "token": "sk-ant-oat01-T"}), now_ms=NOW)
    assert isinstance(t, Secret) and t.oauth
    o = resolve_secret(
        _p({"type": "oauth", "access": "acc", "refresh": "r", "expires": NOW + 60_000}), now_ms=NOW
    )
    assert isinstance(o, Secret) and o.value == "acc" and o.oauth
    # a subscription token pasted as an api_key still goes as Bearer
    k = resolve_secret(_p({"type": "api_key", "key": "sk-ant-oat01-X"}), now_ms=NOW)
    assert isinstance(k, Secret) and k.oauth


def test_expired_oauth_is_auth_log_in_again_and_not_probed() -> None:
    p = resolve_secret(_p({"type": "oauth", "access": "acc", "expires": NOW - 1}), now_ms=NOW)
    assert isinstance(p, CredentialProblem) and p.write
    assert p.failure.reason is Reason.AUTH
    assert p.failure.action.startswith("log in again")
    tok = resolve_secret(_p({"type": "token", "token": "t", "expires": NOW}), now_ms=NOW)
    assert isinstance(tok, CredentialProblem) and tok.failure.reason is Reason.AUTH


def test_expired_oauth_with_a_refresh_token_is_reported_not_written() -> None:
    """OpenClaw renews such a token itself on next use: recording an auth window for it would
    shut a working profile out."""
    raw = {"type": "oauth", "access": "acc", "refresh": "r-SECRET", "expires": NOW - 1}
    p = resolve_secret(_p(raw), now_ms=NOW)
    assert isinstance(p, CredentialProblem) and not p.write
    assert p.failure.reason is Reason.AUTH and p.failure.action.startswith("log in again")
    assert "r-SECRET" not in p.failure.message + p.failure.action


def test_missing_credential_is_a_clear_failure() -> None:
    p = resolve_secret(_p({"type": "api_key"}), now_ms=NOW)
    assert isinstance(p, CredentialProblem) and p.write
    assert "x:default" in p.failure.message and "key" in p.failure.message


def test_env_ref() -> None:
    prof = _p(
        {"type": "api_key", "keyRef": {"source": "env", "provider": "default", "id": "MY_KEY"}}
    )
    s = resolve_secret(prof, now_ms=NOW, env={"MY_KEY": KEY})
    assert isinstance(s, Secret) and s.value == KEY
    missing = resolve_secret(prof, now_ms=NOW, env={})
    assert isinstance(missing, CredentialProblem) and not missing.write
    assert missing.failure.reason is Reason.UNKNOWN  # probed's environment, not the credential
    assert "MY_KEY" in missing.failure.message


def test_file_ref_by_path_and_by_json_pointer(tmp_path: Path) -> None:
    f = tmp_path / "key.txt"
    f.write_text(KEY + "\n")
    prof = _p({"type": "token", "tokenRef": {"source": "file", "provider": "x", "id": str(f)}})
    s = resolve_secret(prof, now_ms=NOW)
    assert isinstance(s, Secret) and s.value == KEY
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"providers": {"anthropic": {"apiKey": KEY}}}))
    doc = {"secrets": {"providers": {"filemain": {"source": "file", "path": str(secrets)}}}}
    files = file_secret_providers(doc)
    prof2 = _p(
        {
            "type": "api_key",
            "keyRef": {
                "source": "file",
                "provider": "filemain",
                "id": "/providers/anthropic/apiKey",
            },
        }
    )
    s2 = resolve_secret(prof2, now_ms=NOW, file_providers=files)
    assert isinstance(s2, Secret) and s2.value == KEY
    prof3 = _p(
        {"type": "api_key", "keyRef": {"source": "file", "provider": "filemain", "id": "/nope"}}
    )
    bad = resolve_secret(prof3, now_ms=NOW, file_providers=files)
    assert isinstance(bad, CredentialProblem) and not bad.write
    assert KEY not in bad.failure.message


def test_exec_ref_is_unsupported() -> None:
    prof = _p({"type": "api_key", "keyRef": {"source": "exec", "provider": "vault", "id": "x"}})
    p = resolve_secret(prof, now_ms=NOW)
    assert isinstance(p, CredentialProblem) and not p.write
    assert "not supported" in p.failure.message
