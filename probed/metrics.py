"""Prometheus metrics: `[metrics] listen` (the daemon's /metrics) and `[metrics] textfile`.

The numbers come from where the facts live, read at the moment they are asked for: the profiles'
windows from OpenClaw's stores, the last probe times from probed's ledger, and the probe counters
from a small SQLite file of their own (`metrics.sqlite` in `[daemon] state_dir`) that the daemon
and every `probed probe` add to. So the textfile is the same whichever process wrote it last,
and the counters only ever go up, across commands and daemon restarts alike.

Labels are ids (agent, profile, provider), reason words, outcomes and the version: never a
credential. The textfile is replaced atomically (mode 0644, so node_exporter, which runs as
another user, can read it); a textfile that cannot be written is logged as
`metrics_textfile_failed` and never fails the command or the daemon.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from probed import __version__
from probed.clock import to_ms
from probed.config import Config, split_listen
from probed.errors import ProbedError
from probed.ledger import Ledger
from probed.logs import get_logger
from probed.model import BYPASS_PROVIDERS, canonical_provider
from probed.reasons import from_openclaw, refine
from probed.stores.atomic import write_atomic
from probed.stores.base import Store
from probed.stores.discover import discover

log = get_logger()

COUNTERS_FILE = "metrics.sqlite"
OUTCOMES = ("recovered", "failed", "usable", "error")
# ProbeResult.outcome -> probed_probes_total's outcome: "skipped" means the probe could not run
_OUTCOME = {"recovered": "recovered", "failed": "failed", "usable": "usable", "skipped": "error"}


@dataclass(frozen=True, slots=True)
class Probed:
    """One probe's contribution to the counters."""

    provider: str
    outcome: str  # one of OUTCOMES
    paid: int  # requests sent that could have been billed


def from_results(results: Iterable[Any]) -> list[Probed]:
    """ProbeResults (several-model ones flattened) as counter increments; a reused result is
    another caller's probe and counts nothing here."""
    out: list[Probed] = []
    for result in results:
        for r in result.per_model or (result,):
            if r.reused:
                continue
            out.append(Probed(r.provider, _OUTCOME.get(r.outcome, "error"), int(bool(r.paid))))
    return out


class Counters:
    """Monotonic counters shared by every probed process of one state dir (SQLite, WAL)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / COUNTERS_FILE

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS counters (name TEXT NOT NULL, provider TEXT NOT NULL,"
                " outcome TEXT NOT NULL DEFAULT '', value INTEGER NOT NULL DEFAULT 0,"
                " PRIMARY KEY (name, provider, outcome))"
            )
            yield db
        finally:
            db.close()

    def add(self, probes: Sequence[Probed]) -> None:
        if not probes:
            return
        rows: list[tuple[str, str, str, int]] = []
        for p in probes:
            rows.append(("probes", p.provider, p.outcome, 1))
            if p.paid:
                rows.append(("paid_requests", p.provider, "", p.paid))
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO counters (name, provider, outcome, value) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name, provider, outcome) "
                "DO UPDATE SET value = value + excluded.value",
                rows,
            )
            db.execute("COMMIT")

    def all(self) -> list[tuple[str, str, str, int]]:
        if not self.path.exists():
            return []
        with self._db() as db:
            return [
                (str(n), str(p), str(o), int(v))
                for n, p, o, v in db.execute("SELECT name, provider, outcome, value FROM counters")
            ]


def count_probes(state_dir: Path, results: Iterable[Any]) -> None:
    """Add probe results to the counters; never raises (metrics never fail a probe)."""
    add_counts(state_dir, from_results(results))


def add_counts(state_dir: Path, probes: Sequence[Probed]) -> None:
    try:
        Counters(state_dir).add(probes)
    except (OSError, sqlite3.Error) as exc:
        log.warning("metrics_unwritable", file=str(state_dir / COUNTERS_FILE), error=str(exc))


# --------------------------------------------------------------------------------------------


class ProbedCollector(Collector):
    """Every metric, gathered at collection time from the stores, the ledger and the counters.

    `stores` gives the daemon's own list (None: discover them, as a command does)."""

    def __init__(
        self,
        config: Callable[[], Config],
        stores: Callable[[], Sequence[Store]] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._stores = stores
        self._now = now

    def collect(self) -> Iterator[Metric]:
        config = self._config()
        now_ms = to_ms(self._now())
        unusable = GaugeMetricFamily(
            "probed_profile_unusable",
            "1 while the profile is unusable (a cooldown, disabled or blocked window), else 0",
            labels=["agent", "profile", "provider", "reason"],
        )
        until = GaugeMetricFamily(
            "probed_profile_until_timestamp_seconds",
            "end of the profile's recorded window (Unix time; 0 when none is recorded)",
            labels=["agent", "profile", "provider"],
        )
        last = GaugeMetricFamily(
            "probed_last_probe_timestamp_seconds",
            "when probed last probed the profile (Unix time)",
            labels=["agent", "profile", "provider"],
        )
        unreadable = GaugeMetricFamily(
            "probed_store_unreadable",
            "1 while the agent's OpenClaw auth store cannot be read",
            labels=["agent"],
        )
        last_at: dict[tuple[str, str], float] = {}
        verdicts: dict[tuple[str, str, str], str | None] = {}
        try:
            for rec in Ledger(config.daemon.state_dir).all():
                verdicts[(rec.agent, rec.profile, rec.model or "")] = rec.last_result
                if rec.last_probe_at is not None:
                    k = (rec.agent, rec.profile)
                    last_at[k] = max(last_at.get(k, 0.0), rec.last_probe_at.timestamp())
        except ProbedError:
            pass
        try:
            stores = list(self._stores()) if self._stores else discover(config.openclaw)
        except ProbedError:
            stores = []
        providers: set[str] = set()
        for store in stores:
            try:
                snap = store.read()
            except ProbedError:
                unreadable.add_metric([store.agent], 1)
                continue
            unreadable.add_metric([store.agent], 0)
            for pid, profile in snap.profiles.items():
                prov = canonical_provider(profile.provider)  # the id probes_total counts by
                providers.add(prov)
                usage = snap.usage(pid)
                view = usage.view(profile.provider, now_ms)
                reason = ""
                if not view.usable:  # OpenClaw's word, sharpened by probed's verdict (status)
                    own = verdicts.get((store.agent, pid, view.model or ""))
                    word = refine(from_openclaw(view.reason), own)
                    reason = str(word) if word is not None else "unknown"
                unusable.add_metric([store.agent, pid, prov, reason], 0 if view.usable else 1)
                recorded = usage.recorded()
                end = recorded.until_ms if recorded and recorded.until_ms else None
                if profile.provider in BYPASS_PROVIDERS:
                    end = None
                until.add_metric([store.agent, pid, prov], end / 1000 if end else 0)
                if (store.agent, pid) in last_at:
                    last.add_metric([store.agent, pid, prov], last_at[(store.agent, pid)])
        probes = CounterMetricFamily(
            "probed_probes_total",
            "probes by outcome: recovered, failed, usable (nothing sent), error (could not run)",
            labels=["provider", "outcome"],
        )
        paid = CounterMetricFamily(
            "probed_paid_requests_total",
            "probe requests sent that could have been billed",
            labels=["provider"],
        )
        try:
            rows = Counters(config.daemon.state_dir).all()
        except (OSError, sqlite3.Error):
            rows = []
        # every provider's series from zero, so rate() sees the first increment
        counts: dict[tuple[str, str, str], int] = {}
        for provider in providers:
            counts[("paid_requests", provider, "")] = 0
            counts.update({("probes", provider, outcome): 0 for outcome in OUTCOMES})
        for name, provider, outcome, value in rows:
            counts[(name, provider, outcome)] = value
        for (name, provider, outcome), value in sorted(counts.items()):
            if name == "probes":
                probes.add_metric([provider, outcome], value)
            elif name == "paid_requests":
                paid.add_metric([provider], value)
        info = GaugeMetricFamily("probed_build_info", "probed's version", labels=["version"])
        info.add_metric([__version__], 1)
        yield from (unusable, until, last, probes, paid, unreadable, info)


def registry_for(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def write_textfile(path: Path, registry: CollectorRegistry) -> bool:
    """Replace the textfile atomically; False (and one warning) when it cannot be written."""
    try:
        write_atomic(path, render(registry).decode("utf-8"), mode=0o644)
    except (OSError, ProbedError) as exc:  # write_atomic names the file in a StoreError
        error = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        log.warning("metrics_textfile_failed", file=str(path), error=error)
        return False
    return True


def update_textfile(config: Config) -> None:
    """What each command does on its way out when `[metrics] textfile` is set."""
    if config.metrics.textfile is not None:
        write_textfile(config.metrics.textfile, registry_for(ProbedCollector(lambda: config)))


class MetricsServer:
    """/metrics on a loopback address, served by prometheus_client's own threaded server."""

    def __init__(self, listen: str, registry: CollectorRegistry) -> None:
        from prometheus_client import start_http_server  # noqa: PLC0415

        host, port = split_listen(listen)
        self.listen = listen
        self._server, self._thread = start_http_server(port, addr=host, registry=registry)
        self.port = self._server.server_port
        self.address = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
