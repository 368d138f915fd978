"""Redis URLs as they may be shown: never with their password."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit


def describe(url: str) -> str:
    """The URL without its user and password: safe for logs and messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "redis (unparsable URL)"
    path = parts.path if parts.path not in ("", "/") else ""
    return f"{parts.scheme}://{host}{port}{path}"


def redact(url: str) -> str:
    """The URL with its password replaced (for `probed config check`): in the user part, and
    in a `?password=` query parameter, which redis-py also reads."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if password:
        user = parts.username or ""
        netloc = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{user}:***@{netloc}")
    if parts.query:
        query = [
            (k, "***" if k.lower() == "password" else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="*"))
    return parts.geturl()
