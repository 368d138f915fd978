"""Tell a person when a profile needs them, and when it is back: `[notify]`, through Apprise.

The decisions are `probed.episodes`' (once per episode, the flap budget); this module feeds it
what each daemon pass saw, keeps its memory in `[daemon] state_dir`/notifications.json (written
atomically before anything is sent, so a restart or a SIGHUP never repeats a message), and sends
from a task of its own: a pass only puts messages on a queue, and each send runs in a worker
thread under a timeout, so a slow or dead notification service never delays a probe. A send that
fails is logged as `notify_failed` (naming the service's scheme and the URL's position in
`[notify] urls`, never the URL, which may hold a password) and is not retried.

Messages carry ids, the reason, the one-sentence action and times: never a credential (and the
text passes the log redaction once more before it leaves). Several messages that fall due
together (a daemon that starts beside many broken profiles) go out as one digest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectSendStream

from probed.actions import action_for
from probed.clock import from_ms, iso, to_ms
from probed.config import NotifyConfig
from probed.episodes import Cleared, Down, Episodes, Notice, Observation
from probed.errors import ConfigError
from probed.files import read_regular
from probed.ledger import Ledger
from probed.logs import get_logger, scrub_text
from probed.model import BYPASS_PROVIDERS
from probed.reasons import Reason, from_openclaw, refine
from probed.stores.atomic import write_json_atomic
from probed.stores.base import Snapshot

log = get_logger()

STATE_FILE = "notifications.json"
SEND_TIMEOUT_S = 30.0
GATHER_S = 1.0  # messages that fall due within this long of each other may form a digest
DIGEST_AT = 4  # this many or more at once: one digest instead
TICK_S = 30.0  # how often held-back openings are looked at
QUEUE = 1000


class Sender(Protocol):
    """One notification service. `send` blocks (it runs in a worker thread) and raises
    `SendFailed` when the message did not go out."""

    label: str  # what a log line may say about the service: its scheme and position

    def send(self, title: str, body: str, *, timeout: float) -> None: ...


class SendFailed(Exception):
    pass


class AppriseSender:
    """One Apprise URL (one object each, so a failure can be told apart per URL)."""

    def __init__(self, url: str, index: int) -> None:
        with _quiet():
            import apprise  # noqa: PLC0415 - the [notify] extra, only when URLs are configured

            logging.getLogger("apprise").setLevel(logging.CRITICAL)  # its messages quote URLs
            self.label = f"{url.split('://', 1)[0]}#{index + 1}"
            self._apprise = apprise.Apprise()
            added = self._apprise.add(url)
        if not added:
            raise ConfigError(
                f"notify.urls entry {index + 1} ({url.split('://', 1)[0]}://...) is not a URL "
                "Apprise understands (see https://github.com/caronc/apprise/wiki)"
            )

    def send(self, title: str, body: str, *, timeout: float) -> None:
        # (no warnings filter here: this runs in a worker thread, and the plugin is loaded)
        if not self._apprise.notify(body=body, title=title, timeout=timeout):
            raise SendFailed("the service did not accept the message")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Apprise loads its plugins lazily, some importing modules Python has deprecated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def make_senders(config: NotifyConfig) -> list[Sender]:
    """Raises ConfigError (exit 78) for a URL Apprise cannot read."""
    return [AppriseSender(url, i) for i, url in enumerate(config.urls)]


# --------------------------------------------------------------------------------------------
# What a pass saw


def observations(
    snap: Snapshot,
    *,
    now: datetime,
    ledger: Ledger | None,
    next_look: Callable[[str, str | None], datetime | None],
) -> dict[str, Observation | None]:
    """Every profile of one store as the episodes see it: an active window is `Down`, no
    window `Cleared`, a window that ended but is not cleared yet None (unchanged)."""
    now_ms = to_ms(now)
    out: dict[str, Observation | None] = {}
    for pid, profile in snap.profiles.items():
        if profile.provider in BYPASS_PROVIDERS:
            continue
        usage = snap.usage(pid)
        if usage.recorded() is None:
            out[pid] = Cleared(profile.provider)
            continue
        view = usage.view(profile.provider, now_ms)
        if view.usable:
            out[pid] = None
            continue
        own = None
        if ledger is not None:
            try:
                rec = ledger.get(snap.agent, pid, view.model) or ledger.get(snap.agent, pid)
            except Exception:
                rec = None
            own = rec.last_result if rec else None
        reason = refine(from_openclaw(view.reason), own) or Reason.UNKNOWN
        out[pid] = Down(
            provider=profile.provider,
            reason=reason,
            model=view.model,
            until=from_ms(view.until_ms) if view.until_ms is not None else None,
            next_look=next_look(pid, view.model),
            action=action_for(reason, profile.provider, scope="model" if view.model else "profile"),
        )
    return out


# --------------------------------------------------------------------------------------------
# Messages


def _who(n: Notice) -> str:
    return f"agent {n.agent}, profile {n.profile} (provider {n.provider})"


def describe(n: Notice, now: datetime) -> tuple[str, str]:
    """(title, body) for one notice."""
    if n.event == "recovered":
        title = f"probed: {n.profile} is usable again"
        body = f"Recovered: {_who(n)} is usable again; it was unusable ({n.reason}). Nothing to do."
        return title, body
    kind = "needs action" if n.event == "action_needed" else "is unavailable for now"
    title = f"probed: {n.profile} {kind} ({n.reason})"
    scope = f" for model {n.model}" if n.model else ""
    look = n.next_look or n.until
    lines = [
        f"{'Action needed' if n.event == 'action_needed' else 'Unavailable'}: {_who(n)} "
        f"is unusable{scope}: {n.reason}.",
        f"What to do: {n.action}.",
        f"probed looks again at {_when(look, now)}"
        + (f"; the recorded window ends at {_when(n.until, now)}." if n.until else "."),
    ]
    return title, "\n".join(lines)


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "its next pass"
    secs = max(0, round((at - now).total_seconds()))
    left = (
        f"{secs // 86400}d{secs % 86400 // 3600}h"
        if secs >= 86400
        else f"{secs // 3600}h{secs % 3600 // 60:02d}m"
        if secs >= 3600
        else f"{secs // 60}m{secs % 60:02d}s"
        if secs >= 60
        else f"{secs}s"
    )
    return f"{iso(at.replace(microsecond=0))} (in {left})"


def digest(notices: Sequence[Notice], now: datetime) -> tuple[str, str]:
    down = sum(1 for n in notices if n.event != "recovered")
    up = len(notices) - down
    parts = [f"{down} unusable"] if down else []
    parts += [f"{up} usable again"] if up else []
    profiles = len({(n.agent, n.profile) for n in notices})
    plural = "s" if profiles != 1 else ""
    title = (
        f"probed: {len(notices)} changes to {profiles} OpenClaw profile{plural} "
        f"({', '.join(parts)})"
    )
    body = "\n\n".join(describe(n, now)[1] for n in notices)
    return title, body


# --------------------------------------------------------------------------------------------
# The service


class Notifications:
    """The daemon's notifications: a no-op without `[notify] urls`."""

    def __init__(
        self,
        config: NotifyConfig,
        state_dir: Path,
        *,
        senders: Sequence[Sender] | None = None,
        clock: Callable[[], float] = time.time,
        send_timeout: float = SEND_TIMEOUT_S,
    ) -> None:
        self.config = config
        self.path = state_dir / STATE_FILE
        self.senders: list[Sender] = list(senders) if senders is not None else make_senders(config)
        self.clock = clock
        self.send_timeout = send_timeout
        self.episodes = self._load() if self.enabled else Episodes()
        self._saved = json.dumps(self.episodes.to_json(), sort_keys=True)
        self._queue: MemoryObjectSendStream[Notice] | None = None  # while serve() runs

    @property
    def enabled(self) -> bool:
        return bool(self.config.urls) or bool(self.senders)

    @property
    def events(self) -> frozenset[str]:
        return frozenset(self.config.events)

    def reconfigure(self, config: NotifyConfig, senders: Sequence[Sender]) -> None:
        """SIGHUP: new URLs and events; what each profile's person heard is kept."""
        was = self.enabled
        self.config = config
        self.senders = list(senders)
        if self.enabled and not was:
            self.episodes = self._load()

    # ---- fed by the daemon -----------------------------------------------------------------

    async def observe(self, agent: str, seen: Mapping[str, Observation | None]) -> None:
        if not self.enabled:
            return
        notices = self.episodes.observe(agent, seen, self.events, self.clock())
        await self._commit(notices)

    async def forget_agents_except(self, agents: set[str]) -> None:
        if self.enabled:
            self.episodes.retain_agents(agents)
            await self._commit([])

    async def _commit(self, notices: list[Notice]) -> None:
        """Save first, then queue: a crash in between loses a message, never repeats one."""
        text = json.dumps(self.episodes.to_json(), sort_keys=True)
        if text != self._saved:
            try:
                await anyio.to_thread.run_sync(write_json_atomic, self.path, json.loads(text))
                self._saved = text
            except OSError as exc:
                log.warning("notify_state_unwritable", file=str(self.path), error=exc.strerror)
        for notice in notices:
            if self._queue is None:  # not serving (a daemon stopping): nothing can send it
                log.warning("notify_failed", **_fields(notice), error="not sending, dropped")
                continue
            try:
                self._queue.send_nowait(notice)
            except anyio.WouldBlock:
                log.warning("notify_failed", **_fields(notice), error="queue full, dropped")

    # ---- the sending task ------------------------------------------------------------------

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        send, receive = anyio.create_memory_object_stream[Notice](QUEUE)
        self._queue = send
        try:
            async with send, receive, anyio.create_task_group() as tg:
                tg.start_soon(self._ticker)
                task_status.started()
                while True:
                    batch = [await receive.receive()]
                    with anyio.move_on_after(GATHER_S):
                        while True:
                            batch.append(await receive.receive())
                    await self._deliver(batch)
        finally:
            self._queue = None

    async def _ticker(self) -> None:
        while True:
            await anyio.sleep(TICK_S)
            if self.enabled:
                await self._commit(self.episodes.tick(self.events, self.clock()))

    async def _deliver(self, batch: list[Notice]) -> None:
        now = datetime.fromtimestamp(self.clock(), tz=UTC)
        if len(batch) >= DIGEST_AT:
            messages = [(digest(batch, now), batch)]
        else:
            messages = [(describe(n, now), [n]) for n in batch]
        for (raw_title, raw_body), notices in messages:
            title, body = scrub_text(raw_title), scrub_text(raw_body)
            for sender in list(self.senders):
                error = await self._send_one(sender, title, body)
                for n in notices:
                    if error is None:
                        log.info("notify_sent", **_fields(n), service=sender.label)
                    else:
                        log.warning(
                            "notify_failed", **_fields(n), service=sender.label, error=error
                        )

    async def _send_one(self, sender: Sender, title: str, body: str) -> str | None:
        """None when sent, else why not (one phrase, never the URL)."""
        timeout = self.send_timeout
        try:
            with anyio.fail_after(timeout + 1):
                await anyio.to_thread.run_sync(
                    lambda: sender.send(title, body, timeout=timeout), abandon_on_cancel=True
                )
        except TimeoutError:
            return f"no answer within {timeout:g}s"
        except SendFailed as exc:
            return str(exc)
        except Exception as exc:
            return f"{type(exc).__name__}"
        return None

    # ---- memory ----------------------------------------------------------------------------

    def _load(self) -> Episodes:
        try:
            raw = json.loads(read_regular(self.path, limit=16 * 1024 * 1024))
        except FileNotFoundError:
            return Episodes()
        except (OSError, ValueError) as exc:
            log.warning(
                "notify_state_unreadable",
                file=str(self.path),
                error=str(getattr(exc, "strerror", None) or exc),
            )
            return Episodes()
        return Episodes.from_json(raw)


def _fields(n: Notice) -> dict[str, Any]:
    return {
        "notify_event": n.event,
        "agent": n.agent,
        "profile": n.profile,
        "provider": n.provider,
        "reason": str(n.reason),
    }
