"""The redis backend: one flight per provider, shared results and budget, across hosts.

Flight: the host's own flock first (the local backend: this host's processes queue there),
then `SET <ns>:flight:<provider> <token> NX PX <ttl>` in Redis; the token names the holder
(host, pid, random part). While held, a keeper task extends the expiry every ttl/3 with a
compare-and-pexpire script, so a holder that dies or loses Redis stops holding within `ttl`.
Release is a compare-and-delete. A waiter polls until the key is free: it never takes a held
lock, and never gives up on a timeout (the holder's work is bounded by `[probe] timeout`).

Fencing: `Flight.check()` runs right before each state write (under OpenClaw's own store lock):
when Redis says the flight's key holds another token, the write is refused (FlightLost) and the
probe is retried later. A key that vanished (Redis restarted without persistence) is taken back
with SET NX, since nobody else holds it.

Redis unavailable (down, slow past `op_timeout`, restarting): nothing crashes. Flights fall back
to the host's flock (one flight per provider per host), results to the host's results file, and
the budget fails closed: a paid probe is not sent (CoordinationUnavailable, the probe is retried
later), so the shared budget is never exceeded. The transition is logged once as
`coordination_unavailable` and once as `coordination_restored`; the password in the URL never
appears in a log (`describe`).

Budget: `<ns>:budget:<provider>:<day>`, checked and incremented by one script. Redis restarted
without persistence loses the count: each process remembers the highest count it was told for
the day and the script never goes below the highest any process brings back, so a restart
cannot hand out a fresh budget to the processes that spent it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import anyio
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from probed.coordination.base import CoordinationUnavailable, FlightLost
from probed.coordination.fingerprint import Fingerprints
from probed.coordination.local import WAIT_NOTE_S, LocalCoordinator, LocalFlight
from probed.coordination.urls import describe
from probed.logs import get_logger

log = get_logger()
T = TypeVar("T")

RESULT_TTL_S = 86400
BUDGET_TTL_S = 2 * 86400

_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
_SPEND = """
local cur = tonumber(redis.call('get', KEYS[1]) or '0')
local seed = tonumber(ARGV[2])
if seed > cur then cur = seed end
if cur < tonumber(ARGV[1]) then
  redis.call('set', KEYS[1], cur + 1, 'EX', ARGV[3])
  return {1, cur + 1, 0}
end
redis.call('set', KEYS[1], cur, 'EX', ARGV[3])
if redis.call('set', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  return {0, cur, 1}
end
return {0, cur, 0}
"""


_SECRETISH = re.compile(r"(?:sk|pk|rk|key|AIza)[-_A-Za-z0-9*.]{4,}|[A-Za-z0-9_\-*.]{24,}")


def _scrubbed(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """A result as Redis may hold it: provider messages can echo a key fragment
    ("Incorrect API key provided: sk-ab***yz"), so anything key-shaped is cut out."""
    out = dict(outcome)
    failure = out.get("failure")
    if isinstance(failure, Mapping) and isinstance(failure.get("message"), str):
        out["failure"] = {**failure, "message": _SECRETISH.sub("[redacted]", failure["message"])}
    per = out.get("per_model")
    if isinstance(per, list):
        out["per_model"] = [_scrubbed(p) if isinstance(p, Mapping) else p for p in per]
    return out


class Health:
    """Logs the backend's availability once per transition, never per failed call."""

    def __init__(self, where: str, password: str | None) -> None:
        self.where = where
        self._password = password
        self.available = True

    def down(self, exc: BaseException) -> None:
        if self.available:
            self.available = False
            text = str(exc) or type(exc).__name__
            if self._password:
                text = text.replace(self._password, "***")
            log.warning(
                "coordination_unavailable",
                backend="redis",
                redis=self.where,
                error=f"{type(exc).__name__}: {text}"[:300],
                fallback="per-host flights; paid probes wait until Redis is back",
            )

    def up(self) -> None:
        if not self.available:
            self.available = True
            log.info("coordination_restored", backend="redis", redis=self.where)


class _Down(Exception):
    """A Redis call failed (already reported to Health)."""


class RedisFlight:
    can_be_lost = True  # its key expires, or Redis restarts: `check` before every write

    def __init__(self, coord: RedisCoordinator, provider: str, token: str, local: LocalFlight):
        self.provider = provider
        self._c = coord
        self._token = token
        self._local = local
        self._key = coord.key("flight", provider)
        self.lost = False

    async def fresh(self, key: str, *, after: float) -> Mapping[str, Any] | None:
        try:
            raw = await self._c.call(self._c.redis.get, self._c.key("result", self.provider, key))
        except _Down:
            return await self._local.fresh(key, after=after)
        if raw is None:
            return await self._local.fresh(key, after=after)
        try:
            entry = json.loads(raw)
        except ValueError:
            return None
        at = entry.get("at") if isinstance(entry, dict) else None
        if isinstance(at, int | float) and at >= after:
            return dict(entry)
        return None

    async def record(self, key: str, outcome: Mapping[str, Any]) -> None:
        await self._local.record(key, outcome)
        doc = json.dumps({**_scrubbed(outcome), "at": time.time()}, sort_keys=True)
        with contextlib.suppress(_Down):
            await self._c.call(
                self._c.redis.set, self._c.key("result", self.provider, key), doc, ex=RESULT_TTL_S
            )

    async def check(self) -> None:
        if self.lost:
            raise FlightLost(self._lost_message())
        try:
            value = await self._c.call(self._c.redis.get, self._key)
            if value is None:  # Redis restarted: nobody holds it, take it back
                value = self._token if await self._c.acquire(self._key, self._token) else None
        except _Down:
            return  # unreachable: per-host flight semantics, as for a degraded flight
        if value != self._token:
            self.lost = True
            log.warning("flight_lost", provider=self.provider, backend="redis")
            raise FlightLost(self._lost_message())

    def _lost_message(self) -> str:
        return (
            f"the flight of provider {self.provider} passed to another holder in "
            f"{self._c.where} before the state was written; it is retried"
        )

    async def keep(self) -> None:
        """Extend the expiry every ttl/3 while held; take a vanished key back."""
        while True:
            await anyio.sleep(self._c.lock_ttl / 3)
            if self.lost:
                continue
            try:
                extended = await self._c.call(
                    self._c.extend, keys=[self._key], args=[self._token, self._c.ttl_ms]
                )
                if not extended and not await self._c.acquire(self._key, self._token):
                    self.lost = True
                    log.warning("flight_lost", provider=self.provider, backend="redis")
            except _Down:
                continue

    async def release(self) -> None:
        with contextlib.suppress(_Down):
            await self._c.call(self._c.release_script, keys=[self._key], args=[self._token])


class RedisCoordinator:
    backend = "redis"

    def __init__(
        self,
        url: str,
        namespace: str,
        local: LocalCoordinator,
        *,
        lock_ttl: float = 30.0,
        op_timeout: float = 2.0,
        poll: float = 0.05,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.where = describe(url)
        self.namespace = namespace
        self.local = local
        self.lock_ttl = lock_ttl
        self.ttl_ms = max(1, int(lock_ttl * 1000))
        self.op_timeout = op_timeout
        self._poll = poll
        try:
            parts = urlsplit(url)
            password = parts.password or dict(parse_qsl(parts.query)).get("password")
        except ValueError:
            password = None
        self.health = Health(self.where, password)
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_timeout=op_timeout,
            socket_connect_timeout=op_timeout,
            retry=Retry(NoBackoff(), 1),
            decode_responses=True,
        )
        self.extend = self.redis.register_script(_EXTEND)
        self.release_script = self.redis.register_script(_RELEASE)
        self._spend = self.redis.register_script(_SPEND)
        self.fingerprints = Fingerprints(namespace, env)
        self._seen: dict[tuple[str, str], int] = {}  # (provider, day) -> highest count told
        self._holder = f"{socket.gethostname()}:{os.getpid()}"

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """One Redis call within `op_timeout`; _Down (reported once) when it fails."""
        try:
            with anyio.fail_after(self.op_timeout + 0.5):
                out = await fn(*args, **kwargs)
        except (RedisError, OSError, TimeoutError) as exc:
            self.health.down(exc)
            raise _Down from None
        self.health.up()
        return out

    async def acquire(self, key: str, token: str) -> bool:
        return bool(await self.call(self.redis.set, key, token, nx=True, px=self.ttl_ms))

    @contextlib.asynccontextmanager
    async def flight(self, provider: str) -> AsyncIterator[RedisFlight | LocalFlight]:
        async with self.local.flight(provider) as local:
            key = self.key("flight", provider)
            token = f"{self._holder}:{secrets.token_hex(8)}"
            since = time.monotonic()
            noted = False
            delay = self._poll
            try:
                while not await self.acquire(key, token):
                    if not noted and time.monotonic() - since > WAIT_NOTE_S:
                        noted = True
                        with contextlib.suppress(_Down):
                            holder = await self.call(self.redis.get, key)
                            log.info(
                                "flight_waiting",
                                provider=provider,
                                backend="redis",
                                holder=str(holder or "").rsplit(":", 1)[0] or None,
                                waited_s=round(time.monotonic() - since, 1),
                            )
                    await anyio.sleep(delay)
                    delay = min(delay * 1.5, 0.25)
            except _Down:
                yield local  # degraded: this host's flight only (see the module docstring)
                return
            flight = RedisFlight(self, provider, token, local)
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(flight.keep)
                    try:
                        yield flight
                    finally:
                        tg.cancel_scope.cancel()
            finally:
                with anyio.CancelScope(shield=True):
                    await flight.release()

    async def result_key(self, provider: str, credential: str, model: str | None) -> str:
        return f"{await self.fingerprints.of(provider, credential)}/{model or ''}"

    async def spend(self, provider: str, now: datetime, limit: int) -> tuple[bool, bool]:
        day = now.astimezone(UTC).strftime("%Y-%m-%d")
        seen = self._seen.get((provider, day), 0)
        try:
            allowed, count, warn = await self.call(
                self._spend,
                keys=[self.key("budget", provider, day), self.key("budget-warned", provider, day)],
                args=[limit, seen, BUDGET_TTL_S],
            )
        except _Down:
            raise CoordinationUnavailable(
                f"Redis at {self.where} cannot be reached, so the shared daily budget of "
                f"provider {provider} cannot be checked; no paid probe is sent until it is back"
            ) from None
        self._seen[(provider, day)] = max(seen, int(count))
        return bool(allowed), bool(warn)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(2):
            await self.redis.aclose()
