"""Redis URLs as they may be shown: never with their password."""

from __future__ import annotations

from urllib.parse import urlsplit


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
    """The URL with its password replaced (for `probed config check`)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if not password:
        return url
    user = parts.username or ""
    netloc = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()
