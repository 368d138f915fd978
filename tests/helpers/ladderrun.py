"""Run one probe ladder against a real fake provider (for the family and ladder tests)."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio

from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint, resolve
from probed.probes.http import make_http_client
from probed.probes.ladder import LadderResult, run_ladder
from probed.reasons import Reason


def endpoint(provider: str, base_url: str, **over: object) -> Endpoint:
    from probed.config import parse_config

    cfg = parse_config(
        {"providers": {provider: {"base_url": base_url, **over}}}, None, {"HOME": "/nonexistent"}
    )
    return resolve(provider, cfg, {})


def ladder(
    ep: Endpoint,
    secret: str,
    *,
    oauth: bool = False,
    need_paid: bool = True,
    model: str | None = None,
    budget: list[bool] | None = None,
    timeout: float = 3.0,
    recovering: Reason | None = None,
) -> LadderResult:
    allowed = list(budget) if budget is not None else []

    def spend() -> bool:
        return allowed.pop(0) if allowed else budget is None

    async def go() -> LadderResult:
        async with make_http_client(timeout) as client:
            return await run_ladder(
                client,
                ep,
                Secret(secret, oauth=oauth),
                need_paid=need_paid,
                model=model,
                timeout=timeout,
                now=lambda: datetime.now(UTC),
                spend=spend,
                recovering=recovering,
            )

    return anyio.run(go)
