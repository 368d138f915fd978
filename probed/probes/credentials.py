"""The secret a probe sends, taken from the profile exactly as OpenClaw stores it.

`api_key` -> `key` (or `keyRef`), `token` -> `token` (or `tokenRef`), `oauth` -> `access`.
SecretRefs: `env` reads the named environment variable of *this* process; `file` reads a file:
the id is either a path to a file holding just the secret, or (OpenClaw's file provider) a JSON
pointer into the file that `openclaw.json` `secrets.providers.<ref.provider>.path` names. `exec`
refs are not run (probed will not execute a command to get a secret) and are reported.

Problems come back as a `CredentialProblem`: `write` tells whether OpenClaw would hit the same
wall (an expired or absent credential: worth recording in its state) or only probed does (a
reference probed cannot resolve here: leave OpenClaw's state alone).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probed import safejson
from probed.failure import Failure
from probed.files import read_regular
from probed.model import Profile, SecretRef
from probed.reasons import Reason


@dataclass(frozen=True, slots=True)
class Secret:
    value: str = field(repr=False)
    oauth: bool  # sent as a subscription/OAuth bearer token rather than an API key

    def __repr__(self) -> str:
        return f"Secret(oauth={self.oauth}, value=<redacted>)"


@dataclass(frozen=True, slots=True)
class CredentialProblem:
    failure: Failure
    write: bool  # record it in OpenClaw's state (True) or only report it (False)


def file_secret_providers(openclaw_doc: Mapping[str, Any]) -> dict[str, tuple[Path, str]]:
    """`secrets.providers.<name>` of source "file": name -> (path, mode)."""
    secrets = openclaw_doc.get("secrets")
    table = secrets.get("providers") if isinstance(secrets, Mapping) else None
    out: dict[str, tuple[Path, str]] = {}
    if isinstance(table, Mapping):
        for name, raw in table.items():
            if isinstance(raw, Mapping) and raw.get("source") == "file":
                path = raw.get("path")
                if isinstance(path, str) and path:
                    mode = raw.get("mode") if isinstance(raw.get("mode"), str) else "json"
                    out[str(name)] = (Path(path).expanduser(), str(mode))
    return out


def resolve_secret(
    profile: Profile,
    *,
    now_ms: int,
    env: Mapping[str, str] | None = None,
    file_providers: Mapping[str, tuple[Path, str]] | None = None,
) -> Secret | CredentialProblem:
    cred = profile.credential
    environ = os.environ if env is None else env
    where = f"profile {profile.id}"
    if cred.expires_ms is not None and cred.expires_ms <= now_ms and profile.type != "api_key":
        if profile.type == "oauth" and cred.refreshable:
            # OpenClaw renews it with the refresh token on next use; probed never touches
            # secrets, so it cannot test the profile, and must not shut OpenClaw out of it.
            return CredentialProblem(
                _failure(
                    Reason.AUTH,
                    f"{where}: the OAuth access token has expired; OpenClaw renews it with the "
                    "stored refresh token when the profile is next used",
                    "log in again only if OpenClaw cannot renew it: openclaw models auth login "
                    f"--provider {profile.provider}",
                ),
                write=False,
            )
        what = "OAuth access token" if profile.type == "oauth" else "token"
        return CredentialProblem(
            _failure(
                Reason.AUTH,
                f"{where}: the {what} has expired",
                f"log in again: openclaw models auth login --provider {profile.provider}",
            ),
            write=True,
        )
    if profile.type == "oauth":
        if cred.access:
            return Secret(cred.access, oauth=True)
        return CredentialProblem(
            _failure(
                Reason.AUTH,
                f"{where}: no OAuth access token is stored",
                f"log in again: openclaw models auth login --provider {profile.provider}",
            ),
            write=True,
        )
    inline = cred.key if profile.type == "api_key" else cred.token
    ref = cred.key_ref if profile.type == "api_key" else cred.token_ref
    if inline:
        return Secret(inline, oauth=_looks_oauth(profile, inline))
    if ref is None:
        field_name = "key" if profile.type == "api_key" else "token"
        return CredentialProblem(
            _failure(
                Reason.AUTH,
                f"{where}: no {field_name} and no {field_name}Ref is stored",
                f"add the credential again: openclaw models auth login --provider "
                f"{profile.provider}",
            ),
            write=True,
        )
    value = _from_ref(ref, environ, file_providers or {}, where)
    if isinstance(value, CredentialProblem):
        return value
    return Secret(value, oauth=_looks_oauth(profile, value))


def _looks_oauth(profile: Profile, value: str) -> bool:
    """Claude subscription tokens (setup-token, `sk-ant-oat…`) go as Bearer, never x-api-key."""
    return profile.type == "token" or value.startswith("sk-ant-oat")


def _from_ref(
    ref: SecretRef,
    env: Mapping[str, str],
    file_providers: Mapping[str, tuple[Path, str]],
    where: str,
) -> str | CredentialProblem:
    if ref.source == "env":
        value = env.get(ref.id, "").strip()
        if value:
            return value
        return _unresolvable(
            f"{where}: environment variable {ref.id} named by its SecretRef is not set for probed",
            f"set {ref.id} in probed's environment (systemd: EnvironmentFile=)",
        )
    if ref.source == "file":
        return _from_file(ref, file_providers, where)
    return _unresolvable(
        f"{where}: exec SecretRefs are not supported by probed",
        "store the credential as an env or file SecretRef, or probe it through OpenClaw",
    )


def _from_file(
    ref: SecretRef, file_providers: Mapping[str, tuple[Path, str]], where: str
) -> str | CredentialProblem:
    configured = file_providers.get(ref.provider)
    if configured is not None:
        path, mode = configured
        text = _read(path)
        if text is None:
            return _unresolvable(
                f"{where}: secret file {path} cannot be read", f"make {path} readable by probed"
            )
        if mode == "singleValue":
            return text.strip() or _unresolvable(f"{where}: {path} is empty", f"fill {path}")
        try:
            value: Any = safejson.loads(text)
            parts = [p for p in ref.id.split("/") if p] if ref.id.startswith("/") else [ref.id]
            for raw in parts:
                part = raw.replace("~1", "/").replace("~0", "~")
                value = value[int(part)] if isinstance(value, list) else value[part]
        except (ValueError, KeyError, IndexError, TypeError):
            return _unresolvable(
                f"{where}: {path} holds nothing at {ref.id}", f"check the SecretRef id {ref.id}"
            )
        if isinstance(value, str) and value.strip():
            return value.strip()
        return _unresolvable(
            f"{where}: {path} at {ref.id} is not a string", f"check the SecretRef id {ref.id}"
        )
    path = Path(ref.id).expanduser()
    text = _read(path)
    if text is None or not text.strip():
        return _unresolvable(
            f"{where}: secret file {path} named by its SecretRef cannot be read or is empty",
            f"make {path} readable by probed",
        )
    return text.strip()


def _read(path: Path) -> str | None:
    try:
        return read_regular(path, limit=1 << 20).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _unresolvable(message: str, action: str) -> CredentialProblem:
    """probed cannot read a credential OpenClaw may read fine: nothing is known about the
    credential itself (`unknown`, exit 75), and nothing is written."""
    return CredentialProblem(_failure(Reason.UNKNOWN, message, action), write=False)


def _failure(reason: Reason, message: str, action: str) -> Failure:
    return Failure(
        reason=reason,
        retry_at=None,
        retry_source=None,
        scope="profile",
        status=None,
        message=message,
        action=action,
    )
