"""The probe ladder for one profile: free checks first, then (only when money is in question) one
paid generation of a single output token.

A free check proves the key, and some (balances, key limits) can prove an account is still out of
money, at no cost. Nothing free proves an account has money again, so a billing or quota failure
is only ever cleared by a paid generation that succeeded. Paid probes are charged to the daily
budget before they are sent; when it is spent the ladder stops and says so.

A free check decides the probe only when its answer is about this credential (see
probes/freecheck.py): a 5xx, a 404, "database not connected" (a LiteLLM proxy without a
database), a body that is not JSON or not in the endpoint's documented shape are the endpoint's
own faults and say nothing; the next rung decides: the next free check, else the one-token
generation, because a probe that proved nothing must not clear anything.

The result also says whether a failure should be written into OpenClaw's state: an HTTP answer
from the provider is evidence about the credential (written); a transport failure or a problem of
probed's own (no model configured, a secret it cannot resolve) is not (reported only).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

import httpx

from probed.classify import classify, classify_transport
from probed.failure import Failure
from probed.logs import MASK, get_logger
from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint, FreeCheck
from probed.probes.freecheck import FreeAnswer, judge
from probed.probes.http import BodyTooDeep, Response, TransportError, send
from probed.providers.family import family as family_for
from probed.reasons import Reason

log = get_logger()


@dataclass(frozen=True, slots=True)
class LadderResult:
    ok: bool
    failure: Failure | None
    paid: bool  # a paid request was sent
    write: bool  # the failure is evidence worth recording in OpenClaw's state
    model: str | None  # the model the paid probe used (None when none was sent)
    budget_refused: bool = False  # a paid probe was needed but the daily budget is spent


_PASS_BY_THEMSELVES = frozenset({Reason.RATE_LIMIT, Reason.OVERLOADED})


async def run_ladder(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    secret: Secret,
    *,
    need_paid: bool,
    model: str | None,
    timeout: float,
    now: Callable[[], datetime],
    spend: Callable[[], bool | Awaitable[bool]],  # the coordinator's budget is async
    recovering: Reason | None = None,
) -> LadderResult:
    """`recovering`: the reason being recovered; a free reading that proves it over (a plan
    window with room again, read from the provider's usage endpoint) ends the ladder without
    paying."""
    result = await _climb(
        client,
        endpoint,
        secret,
        need_paid=need_paid,
        model=model,
        timeout=timeout,
        now=now,
        spend=spend,
        recovering=recovering,
    )
    if result.failure is None:
        return result
    message = forget_secret(result.failure.message, secret.value)
    return replace(result, failure=replace(result.failure, message=message))


def forget_secret(text: str, secret: str) -> str:
    """Mask what a provider echoed of this very credential in its own words.

    The classifier masks anything credential-shaped; a provider may also quote a fragment in a
    shape of its own ("key ending 3f9a", a bare prefix). Every run of 6 or more characters of
    the secret is masked, and so are its last 4 when they stand alone as a word."""
    if len(secret) < 8:
        return text
    hidden = [False] * len(text)
    for start in range(len(secret) - 5):
        piece = secret[start : start + 6]
        at = text.find(piece)
        while at != -1:
            hidden[at : at + 6] = [True] * 6
            at = text.find(piece, at + 1)
    tail = re.escape(secret[-4:])
    for m in re.finditer(rf"(?<![A-Za-z0-9]){tail}(?![A-Za-z0-9])", text):
        hidden[m.start() : m.end()] = [True] * (m.end() - m.start())
    out: list[str] = []
    for i, ch in enumerate(text):
        if not hidden[i]:
            out.append(ch)
        elif i == 0 or not hidden[i - 1]:
            out.append(MASK)
    return "".join(out)


async def _climb(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    secret: Secret,
    *,
    need_paid: bool,
    model: str | None,
    timeout: float,
    now: Callable[[], datetime],
    spend: Callable[[], bool | Awaitable[bool]],  # the coordinator's budget is async
    recovering: Reason | None = None,
) -> LadderResult:
    family = family_for(endpoint.api)
    auth = family.headers(secret, endpoint)
    answered = cleared = False
    for check in endpoint.free_checks:
        if check.oauth_only and not secret.oauth:
            continue
        outcome = await _free(client, endpoint, check, auth, timeout=timeout, now=now)
        if isinstance(outcome, Failure):
            return LadderResult(False, outcome, paid=False, write=False, model=None)
        if outcome.kind == "silent":
            continue  # says nothing about the credential: the next rung decides
        answered = True
        if outcome.failure is not None:
            return LadderResult(False, outcome.failure, paid=False, write=True, model=None)
        cleared = cleared or (recovering is not None and recovering in outcome.clears)
    if answered and (not need_paid or cleared):
        return LadderResult(True, None, paid=False, write=False, model=None)
    chosen = model or endpoint.model
    if chosen is None:
        return LadderResult(
            False,
            _local(
                Reason.UNKNOWN,
                f"no model is known for provider {endpoint.provider}, so a paid probe cannot "
                "be sent",
                f"set [providers.{endpoint.provider}] model in probed's configuration",
            ),
            paid=False,
            write=False,
            model=None,
        )
    allowed = spend()
    if inspect.isawaitable(allowed):
        allowed = await allowed
    if not allowed:
        if answered and recovering in _PASS_BY_THEMSELVES:
            # Past the budget only free probes run (the contract): a limit that passes by itself
            # is then taken as over when the key is accepted, as 0.1 did, rather than held
            # until midnight; money and a missing model stay held.
            return LadderResult(True, None, paid=False, write=False, model=None)
        return LadderResult(False, None, paid=False, write=False, model=chosen, budget_refused=True)
    request = family.generation(endpoint, chosen, secret)
    try:
        resp = await send(
            client,
            request.method,
            request.url,
            headers=auth,
            json_body=request.json_body,
            timeout=timeout,
        )
        if resp.status >= 400:
            return LadderResult(False, _classify(endpoint, resp, now), True, True, chosen)
        embedded = family.read_generation(resp)
    except BodyTooDeep as exc:
        # A 2xx to a paid generation: the credential and the account were accepted and the
        # request was billed. A body too deep to read carries no error probed could see, so
        # it counts as the success it was paid for (and its result is kept, not lost).
        log.warning("probe_body_unreadable", provider=endpoint.provider, error=exc.detail)
        embedded = None
    except TransportError as exc:
        return LadderResult(
            False, classify_transport(exc.kind, exc.detail, now=now()), True, False, chosen
        )
    if embedded is not None:
        failure = classify(
            endpoint.provider, embedded.status, resp.headers, embedded.body, now=now()
        )
        return LadderResult(False, failure, True, True, chosen)
    return LadderResult(True, None, paid=True, write=False, model=chosen)


async def _free(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    check: FreeCheck,
    auth: dict[str, str],
    *,
    timeout: float,
    now: Callable[[], datetime],
) -> FreeAnswer | Failure:
    """The judged answer of one free check, or the transport failure that kept it from being
    made (connect, TLS, timeout, redirect, oversized): the next rung would go to the same host
    and meet the same wall, so that ends the ladder without writing anything."""
    headers = {k: v for k, v in auth.items() if k != "content-type"}
    try:
        resp = await send(client, "GET", endpoint.url(check.path), headers=headers, timeout=timeout)
    except TransportError as exc:
        if check.advisory:
            return FreeAnswer("silent", why=f"{check.kind}: {exc.kind}")
        return classify_transport(exc.kind, exc.detail, now=now())
    answer = judge(
        endpoint.provider,
        check,
        resp.status,
        resp.headers,
        resp.body,
        truncated=resp.truncated,
        now=now(),
    )
    if answer.kind == "silent":
        log.info(
            "free_check_silent",
            provider=endpoint.provider,
            check=check.kind,
            status=resp.status,
            why=answer.why,
        )
    return answer


def _classify(endpoint: Endpoint, resp: Response, now: Callable[[], datetime]) -> Failure:
    return classify(endpoint.provider, resp.status, resp.headers, resp.text, now=now())


def _local(reason: Reason, message: str, action: str) -> Failure:
    return Failure(
        reason=reason,
        retry_at=None,
        retry_source=None,
        scope="profile",
        status=None,
        message=message,
        action=action,
    )
