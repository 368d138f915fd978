"""The probe ladder for one profile: free checks first, then (only when money is in question) one
paid generation of a single output token.

A free check proves the key, and some (balances, key limits) can prove an account is still out of
money, at no cost. Nothing free proves an account has money again, so a billing or quota failure
is only ever cleared by a paid generation that succeeded. Paid probes are charged to the daily
budget before they are sent; when it is spent the ladder stops and says so.

A free endpoint the server does not have (404, 405 or 501 on a model list, as many
OpenAI-compatible proxies answer) says nothing about the credential: it is skipped, and when no
free check gave an answer the ladder goes on to the one-token generation, because a probe that
proved nothing must not clear anything.

The result also says whether a failure should be written into OpenClaw's state: an HTTP answer
from the provider is evidence about the credential (written); a transport failure or a problem of
probed's own (no model configured, a secret it cannot resolve) is not (reported only).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from types import ModuleType
from typing import Any

import httpx

from probed.classify import classify, classify_transport
from probed.failure import Failure
from probed.logs import MASK, get_logger
from probed.probes import anthropic, gemini, openai
from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint, FreeCheck
from probed.probes.http import BodyTooDeep, Response, TransportError, send
from probed.reasons import Reason

log = get_logger()

FAMILIES: dict[str, ModuleType] = {"anthropic": anthropic, "openai": openai, "gemini": gemini}


@dataclass(frozen=True, slots=True)
class LadderResult:
    ok: bool
    failure: Failure | None
    paid: bool  # a paid request was sent
    write: bool  # the failure is evidence worth recording in OpenClaw's state
    model: str | None  # the model the paid probe used (None when none was sent)
    budget_refused: bool = False  # a paid probe was needed but the daily budget is spent


async def run_ladder(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    secret: Secret,
    *,
    need_paid: bool,
    model: str | None,
    timeout: float,
    now: Callable[[], datetime],
    spend: Callable[[], bool],
) -> LadderResult:
    result = await _climb(
        client,
        endpoint,
        secret,
        need_paid=need_paid,
        model=model,
        timeout=timeout,
        now=now,
        spend=spend,
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
    spend: Callable[[], bool],
) -> LadderResult:
    family = FAMILIES[endpoint.api]
    auth = family.headers(secret)
    answered = False
    for check in endpoint.free_checks:
        outcome = await _free(client, endpoint, check, auth, timeout=timeout, now=now)
        if outcome is _ABSENT:
            continue
        answered = True
        if isinstance(outcome, tuple):
            failure, write = outcome
            return LadderResult(False, failure, paid=False, write=write, model=None)
    if not need_paid and answered:
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
    if not spend():
        return LadderResult(False, None, paid=False, write=False, model=chosen, budget_refused=True)
    request = family.generation(endpoint, chosen)
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


# HTTP statuses that mean "no such endpoint here", not "this credential is refused".
_ABSENT_STATUSES = frozenset({404, 405, 501})
_ABSENT = "absent"
_PASSED = "passed"


async def _free(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    check: FreeCheck,
    auth: dict[str, str],
    *,
    timeout: float,
    now: Callable[[], datetime],
) -> str | tuple[Failure, bool]:
    """_PASSED, _ABSENT (the server has no such endpoint), or (failure, worth writing)."""
    headers = {k: v for k, v in auth.items() if k != "content-type"}
    try:
        resp = await send(client, "GET", endpoint.url(check.path), headers=headers, timeout=timeout)
        if resp.status in _ABSENT_STATUSES:
            return _ABSENT
        if resp.status >= 400:
            return _classify(endpoint, resp, now), True
    except TransportError as exc:
        return classify_transport(exc.kind, exc.detail, now=now()), False
    if check.kind == "models":
        if _looks_like_json(resp):
            return _PASSED
        # a captive portal, a wrong base_url: a 200 that is not the API proves nothing
        ctype = resp.headers.get("content-type", "no content type")
        detail = (
            f"{endpoint.url(check.path)} answered HTTP {resp.status} with something that is "
            f"not the provider's JSON ({ctype})"
        )
        return classify_transport("protocol", detail, now=now()), False
    try:
        data = resp.json()
    except TransportError:
        return _ABSENT  # an account endpoint we cannot read proves nothing either way
    failure = _read_account(endpoint, check, data)
    return (failure, True) if failure is not None else _PASSED


def _looks_like_json(resp: Response) -> bool:
    """A model list can be longer than the body cap, so its start decides, not a full parse."""
    head = resp.body[:64].lstrip()
    return head[:1] in (b"{", b"[") or "json" in resp.headers.get("content-type", "")


def _classify(endpoint: Endpoint, resp: Response, now: Callable[[], datetime]) -> Failure:
    return classify(endpoint.provider, resp.status, resp.headers, resp.text, now=now())


def _read_account(endpoint: Endpoint, check: FreeCheck, data: Any) -> Failure | None:
    """What a free account endpoint says about money; None when it shows nothing wrong."""
    pid = endpoint.provider
    top_up = f"add credit to the {pid} account; probed clears the profile on the next probe"
    d = data.get("data") if isinstance(data, dict) else None
    if check.kind == "openrouter_credits" and isinstance(d, dict):
        total, used = _num(d.get("total_credits")), _num(d.get("total_usage"))
        if total is not None and used is not None and total - used <= 0:
            return _local(Reason.BILLING, "OpenRouter credit balance is used up", top_up)
    elif check.kind == "openrouter_key" and isinstance(d, dict):
        remaining = _num(d.get("limit_remaining"))
        if d.get("limit") is not None and remaining is not None and remaining <= 0:
            return _local(
                Reason.QUOTA,
                "this OpenRouter key has reached its credit limit",
                "raise the key's limit on openrouter.ai or wait for it to reset",
            )
    elif check.kind == "deepseek_balance" and isinstance(data, dict):
        if data.get("is_available") is False:
            return _local(Reason.BILLING, "DeepSeek reports the balance is not available", top_up)
    elif check.kind == "moonshot_balance" and isinstance(d, dict):
        available = _num(d.get("available_balance"))
        if available is not None and available <= 0:
            return _local(Reason.BILLING, "Moonshot reports no available balance", top_up)
    elif check.kind == "xai_api_key" and isinstance(data, dict):
        if data.get("api_key_blocked") or data.get("api_key_disabled"):
            return _local(
                Reason.AUTH_PERMANENT,
                "xAI reports this API key is blocked or disabled",
                "create a new xAI API key and store it in OpenClaw",
            )
        if data.get("team_blocked"):
            return _local(
                Reason.PERMISSION,
                "xAI reports the team is blocked",
                "check the team's status and billing in the xAI console",
            )
    elif check.kind == "litellm_key_info" and isinstance(data, dict):
        info = data.get("info")
        if isinstance(info, dict):
            spend, cap = _num(info.get("spend")), _num(info.get("max_budget"))
            if spend is not None and cap is not None and spend >= cap:
                return _local(
                    Reason.QUOTA,
                    "the LiteLLM key has spent its max_budget",
                    "raise the key's max_budget on the LiteLLM proxy or wait for its reset",
                )
    return None


def _num(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


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
