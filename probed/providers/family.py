"""The API families a provider can speak, behind one Protocol.

A family knows how to authenticate a request, how to ask for one output token, and how to read
a 200 that may still carry an error. The three implementations are the modules in
`probed/probes/` (anthropic, openai, gemini); mypy checks each module against `Family`, so a
fourth family is one more module with these three functions and one more line in `families()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from probed.config import Api

if TYPE_CHECKING:
    from probed.probes.credentials import Secret
    from probed.probes.endpoints import Endpoint
    from probed.probes.http import EmbeddedError, Request, Response


class Family(Protocol):
    """Request building and reading for one API family."""

    def headers(self, secret: Secret, endpoint: Endpoint | None = None) -> dict[str, str]:
        """Authentication and content headers for every request of this family; the endpoint
        decides what only the provider's own host gets (Anthropic's betas)."""
        ...

    def generation(self, endpoint: Endpoint, model: str, secret: Secret | None = None) -> Request:
        """The cheapest paid request, in the gateway's own shape for this credential kind: one
        output token, no tools, no streaming."""
        ...

    def read_generation(self, resp: Response) -> EmbeddedError | None:
        """An error carried inside a 2xx answer, or None when the generation succeeded."""
        ...


def families() -> Mapping[Api, Family]:
    """The family modules, imported on first use (they import the endpoint table themselves)."""
    from probed.probes import anthropic, gemini, openai  # noqa: PLC0415

    table: dict[Api, Family] = {"anthropic": anthropic, "openai": openai, "gemini": gemini}
    return table


def family(api: Api) -> Family:
    return families()[api]
