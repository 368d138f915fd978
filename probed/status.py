"""`probed status`: every profile's state as OpenClaw sees it, plus probed's own probe memory.

Read-only by construction: stores are only read (SQLite opened `mode=ro`), the ledger is only
read, and nothing is clamped here (the daemon does that, honouring `[repair] clamp_stale`), so
what is shown is exactly what a running gateway would act on. A store that cannot be read is
reported as one line naming its file, and the rest are still shown. While a repair is waiting
for the gateway to take it, one `GET /readyz` on loopback brings its verdict up to date.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

from probed import heartbeat
from probed.actions import action_for
from probed.clock import from_ms, iso, to_ms
from probed.config import Config
from probed.confirm import GatewaySeen, Verdict, current_verdict
from probed.errors import NotFound, ProbedError, StoreError, unforeseen
from probed.ledger import Ledger, ProbeRecord
from probed.model import OK_VIEW, Listed, View, canonical_provider
from probed.reasons import from_openclaw, refine
from probed.repairlog import RepairLog
from probed.stores.base import Listing, Store, read_listing
from probed.stores.discover import discover, legacy_warnings

OK_ACTION = "nothing to do: usable now"
# A usable row with no probe on record, after its agent, profile, provider and type: most rows
# of a big fleet, built, encoded and printed in bulk (`Row.plain`).
_OK_TAIL = ("ok", None, None, None, None, None, None, None, OK_ACTION, None, None)


class Row(NamedTuple):
    """One profile as `status` shows it.

    A named tuple, not a frozen dataclass like the rest: `status` builds one per profile, and at
    100,000 profiles a frozen dataclass's `__init__` (one `object.__setattr__` per field) was a
    quarter of a second of the command. Immutable all the same."""

    agent: str
    profile: str
    provider: str
    type: str
    state: str
    reason: str | None
    until: datetime | None
    remaining_s: int | None
    model: str | None
    last_probe_at: datetime | None
    last_probe_result: str | None
    next_probe_at: datetime | None
    action: str | None
    gateway: Verdict | None = None  # has the running gateway taken probed's last repair?
    gateway_detail: str | None = None  # why not yet, one sentence

    @property
    def plain(self) -> bool:
        """Usable, no window, no probe, no repair on record: all but four fields are constant."""
        return self[4:] == _OK_TAIL

    def to_json(self) -> dict[str, Any]:
        if self[4:] == _OK_TAIL:
            return {
                "agent": self.agent,
                "profile": self.profile,
                "provider": self.provider,
                "type": self.type,
                **_PLAIN_JSON,
            }
        return self.full_json()

    def full_json(self) -> dict[str, Any]:
        """Every field, each computed (`to_json` without its shortcut for plain rows)."""
        return {
            "agent": self.agent,
            "profile": self.profile,
            "provider": self.provider,
            "type": self.type,
            "state": self.state,
            "reason": self.reason,
            "until": iso(self.until),
            "remaining_s": self.remaining_s,
            "model": self.model,
            "last_probe_at": iso(self.last_probe_at),
            "last_probe_result": self.last_probe_result,
            "next_probe_at": iso(self.next_probe_at),
            "action": self.action,
            # added in 0.2: probed's last repair of this profile, as the running gateway has it
            "gateway": str(self.gateway) if self.gateway else None,
            "repair_confirmed": self.gateway.confirmed if self.gateway else None,
            "gateway_detail": self.gateway_detail,
        }


# `Row._make` without its Python frame and length check, for the rows built in bulk (all fifteen
# fields given): a quarter less time for 90,000 plain rows.
_new_row = tuple.__new__

# A plain row's fields after its first four, as `full_json` gives them.
_PLAIN_JSON: dict[str, Any] = dict(list(Row("", "", "", "", *_OK_TAIL).full_json().items())[4:])


@dataclass(frozen=True, slots=True)
class Unreadable:
    agent: str
    file: str
    error: str


@dataclass(frozen=True, slots=True)
class Note:
    """Something about a readable store a person should act on (legacy files OpenClaw refuses)."""

    agent: str
    file: str
    message: str


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: datetime
    rows: tuple[Row, ...]
    errors: tuple[Unreadable, ...]
    notes: tuple[Note, ...] = ()
    daemon: heartbeat.Liveness | None = None  # None: not looked for (given stores)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "generated_at": iso(self.generated_at),
            "profiles": [r.to_json() for r in self.rows],
            "errors": [{"agent": e.agent, "file": e.file, "error": e.error} for e in self.errors],
            "notes": [{"agent": n.agent, "file": n.file, "message": n.message} for n in self.notes],
        }
        if self.daemon is not None:  # additive: whether anything will run next_probe_at
            out["daemon"] = self.daemon.to_json()
        return out


def collect(
    config: Config,
    *,
    now: datetime,
    agent: str | None = None,
    provider: str | None = None,
    stores: Sequence[Store] | None = None,
) -> Report:
    found = list(stores) if stores is not None else discover(config.openclaw)
    if agent and not any(s.agent == agent for s in found):
        raise NotFound(
            f"agent {agent}: no OpenClaw auth store under {config.openclaw.state_dir / 'agents'}"
        )
    ledger = Ledger(config.daemon.state_dir)
    records = _records(ledger)
    probed_pids: dict[str, set[str]] = {}  # agent -> profiles with a probe on record
    for rec_agent, rec_pid, _model in records:
        probed_pids.setdefault(rec_agent, set()).add(rec_pid)
    want_provider = canonical_provider(provider) if provider else None
    rows: list[Row] = []
    errors: list[Unreadable] = []
    bad_values: list[Note] = []  # a time field that is not a time: named, the rest goes on
    now_ms = to_ms(now)
    for store in found:
        if agent and store.agent != agent:
            continue
        try:
            snap = read_listing(store)
        except ProbedError as exc:
            at = exc.path if isinstance(exc, StoreError) and exc.path else store.location
            errors.append(Unreadable(store.agent, str(at), str(exc)))
            continue
        except Exception as exc:  # a parser bug: this store is named, every other one shown
            errors.append(
                Unreadable(store.agent, str(store.location), unforeseen(store.location, exc))
            )
            continue
        got, notes = _listing_rows(
            snap,
            str(store.location),
            records,
            probed_pids=probed_pids,
            want_provider=want_provider,
            now_ms=now_ms,
        )
        rows.extend(got)
        bad_values.extend(notes)
    rows = _with_gateway(config, rows, now_ms)
    rows.sort(key=_ROW_ORDER)
    notes = bad_values + [
        Note(w.agent, str(w.path), w.message)
        for w in legacy_warnings(config.openclaw.state_dir, found)
        if not agent or w.agent == agent
    ]
    return Report(
        generated_at=now,
        rows=tuple(rows),
        errors=tuple(errors),
        notes=tuple(notes),
        daemon=heartbeat.read(config.daemon.state_dir, now=now),
    )


def _has_window(raw: object) -> bool:
    """Whether a usageStats entry records any of OpenClaw's three windows (expired or not)."""
    if type(raw) is not dict and not isinstance(raw, Mapping):
        return False
    return "cooldownUntil" in raw or "disabledUntil" in raw or "blockedUntil" in raw


def _listing_rows(
    snap: Listing,
    location: str,
    records: Mapping[tuple[str, str, str], ProbeRecord],
    *,
    probed_pids: Mapping[str, set[str]],
    want_provider: str | None,
    now_ms: int,
) -> tuple[list[Row], list[Note]]:
    """One store's rows, and its notes (a time field that is not a time).

    Most profiles of a big fleet have no window and no probe on record: one plain row each,
    built in bulk with nothing parsed. The others are looked at one by one (`_row`)."""
    stats = snap.state.get("usageStats")
    stats = stats if type(stats) is dict or isinstance(stats, Mapping) else {}
    profiles = snap.profiles
    special = [pid for pid, raw in stats.items() if _has_window(raw) and pid in profiles]
    probed = probed_pids.get(snap.agent, ())
    special += [pid for pid in probed if pid in profiles and not _has_window(stats.get(pid))]
    if want_provider:
        profiles = {
            pid: p for pid, p in profiles.items() if canonical_provider(p.provider) == want_provider
        }
    skip = set(special)
    if len(special) > 1:  # in the store's own order, as its notes are listed
        special = [pid for pid in profiles if pid in skip]
    agent = snap.agent
    rows = [
        _new_row(Row, (agent, pid, p.provider, p.type, *_OK_TAIL))
        for pid, p in profiles.items()
        if pid not in skip
    ]
    notes: list[Note] = []
    for pid in special:
        listed = profiles.get(pid)
        if listed is None:
            continue
        view = OK_VIEW  # no window recorded: usable, without parsing
        if _has_window(stats.get(pid)):
            usage = snap.usage(pid)
            invalid = usage.invalid_note(pid)
            if invalid is not None:
                notes.append(Note(agent, location, invalid))
            view = usage.view(listed.provider, now_ms)
        rec = records.get((agent, pid, view.model or "")) or records.get((agent, pid, ""))
        rows.append(_row(agent, pid, listed, view, rec=rec, now_ms=now_ms))
    return rows, notes


def _row(
    agent: str, pid: str, listed: Listed, view: View, *, rec: ProbeRecord | None, now_ms: int
) -> Row:
    """The row of a profile with a window or a probe on record."""
    if rec is None and view.usable:
        return _new_row(Row, (agent, pid, listed.provider, listed.type, *_OK_TAIL))
    if view.usable:
        action = OK_ACTION
    else:
        reason = refine(from_openclaw(view.reason), rec.last_result if rec else None)
        action = action_for(
            reason if reason is not None else "unknown",
            listed.provider,
            scope="model" if view.model else "profile",
        )
    until_ms = view.until_ms
    return _new_row(  # by position, in the fields' order: a named tuple's keywords cost more
        Row,
        (
            agent,
            pid,
            listed.provider,
            listed.type,
            view.state,
            view.reason,
            from_ms(until_ms) if until_ms is not None else None,  # until
            max(0, math.ceil((until_ms - now_ms) / 1000)) if until_ms is not None else None,
            view.model,
            rec.last_probe_at if rec else None,
            rec.last_result if rec else None,
            rec.next_probe_at if rec and not view.usable else None,  # next_probe_at
            action,
            None,  # gateway
            None,  # gateway_detail
        ),
    )


_ROW_ORDER = operator.attrgetter("agent", "provider", "profile")
_AGENT = operator.itemgetter(0)  # Row.agent, read in C
_PROFILE = operator.itemgetter(1)  # Row.profile
_PROVIDER = operator.itemgetter(2)  # Row.provider
_TYPE = operator.itemgetter(3)  # Row.type


@functools.lru_cache(maxsize=1024)
def _wrapped(text: str, width: int) -> tuple[str, ...]:
    """An action under its row; the same few sentences repeat over thousands of rows."""
    return tuple(
        textwrap.wrap(text, width=width, initial_indent="    -> ", subsequent_indent="       ")
    )


def _with_gateway(config: Config, rows: list[Row], now_ms: int) -> list[Row]:
    """Each usable row probed repaired gets the gateway's verdict: the recorded one, brought up
    to date by one look at the gateway when any is still open (read-only, a loopback GET)."""
    try:
        records = {(r.agent, r.profile): r for r in RepairLog(config.daemon.state_dir).all()}
    except ProbedError:
        return rows
    if not records:
        return rows
    seen: GatewaySeen | None = None
    if any(not r.verdict.settled for r in records.values()):
        from probed.gatewayview import look  # noqa: PLC0415 - httpx, only with an open repair

        seen = look(config.openclaw.state_dir, now_ms=now_ms)
    out: list[Row] = []
    for row in rows:
        rec = records.get((row.agent, row.profile))
        if rec is None or row.state != "ok" or rec.verdict is Verdict.OVERWRITTEN:
            out.append(row)  # unusable again: a newer failure, not the repair, is what counts
            continue
        verdict = current_verdict(rec, usable_now=True, seen=seen)
        detail = None
        if not verdict.settled:
            detail = rec.last_error or (seen.detail if seen else None)
        out.append(row._replace(gateway=verdict, gateway_detail=detail))
    return out


def _records(ledger: Ledger) -> dict[tuple[str, str, str], ProbeRecord]:
    try:
        return {(r.agent, r.profile, r.model or ""): r for r in ledger.all()}
    except ProbedError:
        return {}  # probed's own memory is optional for status; OpenClaw's state is not


# ---- the table for people ----------------------------------------------------------------


def short_duration(seconds: float) -> str:
    """Two units at most, the two largest not zero (`4h59m`, `2d3h`, `1d5m`, `45s`): a table
    cell, not a config value. (The largest unit not zero, then the next one not zero: no list of
    every unit's text, 10,000 times at 100,000 profiles.)"""
    rest = max(0, round(seconds))
    for i, (size, unit) in enumerate(_UNITS):
        if rest >= size:
            count, rest = divmod(rest, size)
            for smaller, smaller_unit in _UNITS[i + 1 :]:
                if rest >= smaller:
                    return f"{count}{unit}{rest // smaller}{smaller_unit}"
            return f"{count}{unit}"
    return "0s"


_UNITS = ((86400, "d"), (3600, "h"), (60, "m"), (1, "s"))


def _ago(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return "-"
    secs = (now - dt).total_seconds()
    return f"{short_duration(secs)} ago" if secs >= 0 else "-"


def _in(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return "-"
    secs = (dt - now).total_seconds()
    if secs >= 2 * 86400:
        return f"in {int(secs // 86400)}d"
    return f"in {short_duration(secs)}" if secs > 0 else "due"


_UNTIL_THIS_YEAR = "%02d-%02d %02d:%02d (%s)"  # `%m-%d %H:%M (left)`


def _until(row: Row, now: datetime) -> str:
    if row.until is None:
        return "-"
    secs = (row.until - now).total_seconds()
    left = f"{int(secs // 86400)}d" if secs >= 2 * 86400 else short_duration(secs)
    u = row.until
    if u.year == now.year:  # `strftime("%m-%d %H:%M")`, in a fifth of its time (one `%`)
        return _UNTIL_THIS_YEAR % (u.month, u.day, u.hour, u.minute, left)
    return f"{u.strftime('%Y-%m-%d %H:%M')} ({left})"


def summary_line(report: Report) -> str:
    total = len(report.rows)
    down = [r for r in report.rows if r.state != "ok"]
    agents = len({r.agent for r in report.rows})
    parts = [
        f"{total} profile{'s' if total != 1 else ''} in {agents} agent{'s' if agents != 1 else ''}"
    ]
    parts.append(f"{total - len(down)} usable")
    if down:
        parts.append(f"{len(down)} unusable")
        soonest = min(
            (r for r in down if r.until), key=lambda r: r.until or report.generated_at, default=None
        )
        if soonest is not None and soonest.until is not None:
            parts.append(f"next back: {soonest.profile} {_in(soonest.until, report.generated_at)}")
    waiting = sum(1 for r in report.rows if r.gateway is not None and not r.gateway.settled)
    if waiting:
        parts.append(f"{waiting} repair{'s' if waiting != 1 else ''} not taken by the gateway yet")
    if report.errors:
        parts.append(
            f"{len(report.errors)} store{'s' if len(report.errors) != 1 else ''} unreadable"
        )
    return ", ".join(parts)


_GATEWAY_CELL = {
    Verdict.TAKEN: "taken",
    Verdict.PENDING: "pending",
    Verdict.NOT_RUNNING: "down",
    Verdict.OVERWRITTEN: "-",
}


# STATE, REASON, UNTIL (LEFT), LAST, NEXT, GATEWAY of a plain row (`Row.plain`)
_PLAIN_CELLS = ("ok", "-", "-", "-", "-", "-")


def _cells(r: Row, now: datetime, idle: bool) -> tuple[str, ...]:
    """A row's nine cells, GATEWAY last (dropped when no row has a repair on record)."""
    gateway = _GATEWAY_CELL.get(r.gateway, "-") if r.gateway else "-"
    if r.until is None and r.last_probe_at is None and r.next_probe_at is None:
        return (r.agent, r.profile, r.provider, r.state, r.reason or "-", "-", "-", "-", gateway)
    last = "-"
    if r.last_probe_at is not None:
        last = f"{r.last_probe_result or '?'} {_ago(r.last_probe_at, now)}"
    return (
        r.agent,
        r.profile,
        r.provider,
        r.state,
        r.reason or "-",
        _until(r, now),
        last,
        "-" if idle else _in(r.next_probe_at, now),
        gateway,
    )


def _row_lines(row: Row, data: tuple[str, ...], fmt: str, width: int) -> str:
    """A row that is not plain: its line, then what to do about it (one text, `\n` between)."""
    lines = [(fmt % data).rstrip()]
    if row.gateway is not None and not row.gateway.settled:
        lines.extend(
            textwrap.wrap(
                f"gateway has not taken probed's repair yet: {row.gateway_detail or '?'}; "
                "probed retries",
                width=width,
                initial_indent="    -> ",
                subsequent_indent="       ",
            )
        )
    if row.state != "ok":
        detail = f"only for model {row.model}; " if row.model else ""
        lines.extend(_wrapped(detail + (row.action or ""), width))
    return "\n".join(lines)


def render_table(report: Report, *, width: int = 100) -> str:
    """A summary line, then one line per profile; under each unusable one, what to do."""
    return "".join(table_pieces(report, width=width))


TABLE_PIECE_ROWS = 1000  # rows per piece of `table_pieces` (about 100 KB)


def table_pieces(report: Report, *, width: int = 100) -> Iterator[str]:
    """`render_table`'s text in pieces of whole lines, a thousand rows each, for writing one by
    one: at 100,000 profiles the table is 10 MB, and each whole copy of it (its lines, the
    joined text, then what redaction and the stream's encoder make of it) was fresh memory to
    fault in, and a pass over more than the caches hold."""
    head, lines_of, tail = _table(report, width=width)
    rows = report.rows
    yield "\n".join(head) + "\n"
    for start in range(0, len(rows), TABLE_PIECE_ROWS):
        yield "\n".join(lines_of(start, start + TABLE_PIECE_ROWS)) + "\n"
    if tail:
        yield "\n".join(tail) + "\n"


def _table(
    report: Report, *, width: int
) -> tuple[list[str], Callable[[int, int], list[str]], list[str]]:
    """The lines above the rows, the rows' lines from one index to another (one item per row; a
    row with lines under it is one item of several), and the lines below them."""
    idle = report.daemon is not None and not report.daemon.running
    # no daemon: no NEXT time, since nobody would run it

    now = report.generated_at
    header: tuple[str, ...] = (
        "AGENT",
        "PROFILE",
        "PROVIDER",
        "STATE",
        "REASON",
        "UNTIL (LEFT)",
        "LAST",
        "NEXT",
        "GATEWAY",
    )
    rows = report.rows
    if not any(r.gateway for r in rows):  # no repair on record: no column for it
        header = header[:-1]
    ncols = len(header)
    # A plain row (most of a big fleet) differs from the others only in its first three cells;
    # the rest of its line is one constant text. Every other row's cells are made one by one.
    cells = [None if r[4:] == _OK_TAIL else _cells(r, now, idle)[:ncols] for r in rows]
    agents, providers = set(map(_AGENT, rows)), set(map(_PROVIDER, rows))  # a few of each
    widths = [len(h) for h in header]
    for j, texts in enumerate((agents, map(_PROFILE, rows), providers)):
        widths[j] = max(widths[j], max(map(len, texts), default=0))
    shown = [c for c in cells if c is not None]
    if len(shown) < len(rows):
        shown.append(("", "", "", *_PLAIN_CELLS[: ncols - 3]))
    for j in range(3, ncols):
        widths[j] = max(widths[j], max((len(c[j]) for c in shown), default=0))
    # `%-8s`, not `{:<8}`: the same text for a str, in a third of the time at 100,000 rows
    fmt = "  ".join(f"%-{w}s" for w in widths)
    # A plain row's line: its first three cells, then a constant rest. That rest is never blank
    # (it ends in "-"), so `rstrip` may apply to it alone. The agent's cell and the provider's
    # cell with that rest are the same over thousands of rows: each is padded once, and a line
    # is two concatenations, in less than half the time of a `%` template.
    rest = "  ".join(f"%-{w}s" for w in widths[3:]) % _PLAIN_CELLS[: ncols - 3]
    agent_cell = {a: a.ljust(widths[0]) + "  " for a in agents}
    provider_rest = {p: "  " + p.ljust(widths[2]) + "  " + rest.rstrip() for p in providers}
    profile_width = widths[1]

    def lines_of(start: int, stop: int) -> list[str]:
        return [
            agent_cell[row[0]] + row[1].ljust(profile_width) + provider_rest[row[2]]
            if data is None
            else _row_lines(row, data, fmt, width)
            for row, data in zip(rows[start:stop], cells[start:stop], strict=True)
        ]

    head = [summary_line(report), "", (fmt % header).rstrip()]
    tail: list[str] = []
    if not report.rows and not report.errors:
        tail.append("(no auth profiles found)")
    for e in report.errors:
        tail.append(f"! agent {e.agent}: {e.error}")  # not wrapped: the path stays copyable
    for n in report.notes:
        tail.append(f"note: agent {n.agent}: {n.message}")
    if idle:
        tail.extend(
            textwrap.wrap(
                "note: no probed daemon is running, so nothing will probe these profiles (no "
                "NEXT time): start `probed run` (see docs/install.md), or probe now with "
                "`probed probe TARGET`",
                width=width,
                subsequent_indent="      ",
            )
        )
    return head, lines_of, tail


# ---- the document for scripts ------------------------------------------------------------

_ROW_ITEM_SEP = ",\n      "  # between two fields of a row, as `indent=2` puts them
_PLACEHOLDER = '\n  "profiles": [],'


def render_json(report: Report) -> str:
    """`json.dumps(report.to_json(), indent=2)`, byte for byte, in a fraction of its time."""
    return "".join(json_pieces(report))


JSON_PIECE_ROWS = 1000  # rows per piece of `json_pieces` (about 470 KB)


def json_pieces(report: Report) -> Iterator[str]:
    """`render_json`'s text in pieces, a thousand rows each, for writing one by one (at 100,000
    profiles the document is 48 MB: see `table_pieces`). Each piece but the last ends a line.

    With `indent`, the standard library encodes in Python: 1.6 million fields at 100,000
    profiles took seconds. A row is a flat object of scalars, so rows are encoded by the C
    encoder (`_row_texts`) and laid out here, between the rest of the document, which is small
    and goes through `indent=2` itself."""
    head = json.dumps(replace(report, rows=()).to_json(), indent=2)
    rows = report.rows
    if not rows:
        yield head
        return
    # A raw newline occurs only between a document's lines, never inside an encoded string:
    # the top level's empty `profiles` is where the rows go.
    before, after = head.split(_PLACEHOLDER, 1)
    yield before + '\n  "profiles": [\n'
    for start in range(0, len(rows), JSON_PIECE_ROWS):
        texts = _row_texts(rows[start : start + JSON_PIECE_ROWS])
        more = start + JSON_PIECE_ROWS < len(rows)
        yield "    " + ",\n    ".join(texts) + (",\n" if more else "\n")
    yield "  ]," + after


def _row_texts(rows: Sequence[Row]) -> list[str]:
    """Each row as `indent=2` lays it out inside the list (its first line unindented):

    - the rows that are not plain, in one call; the boundaries between them are then the only
      `},` + separator + `{` in the text (a raw newline never occurs inside an encoded string);
    - a plain row's four strings set into the row's constant text (`_PLAIN_ROW`): its agent,
      provider and type, a few distinct values over thousands of rows, encoded once each; its
      profile ids all in one call with a newline between items (so each one's encoding is
      one line)."""
    plain = [r[4:] == _OK_TAIL for r in rows]
    others = [r.to_json() for r, p in zip(rows, plain, strict=True) if not p]
    # `[{` fields `},` SEP `{` fields ... `}]`: cut the outer two, split at the boundaries
    encoded = json.dumps(others, separators=(_ROW_ITEM_SEP, ": "))[2:-2] if others else ""
    other_texts = iter(encoded.split("}" + _ROW_ITEM_SEP + "{") if others else ())
    plains = [r for r, p in zip(rows, plain, strict=True) if p]
    ids = [r[1] for r in plains]
    encoded_ids = iter(json.dumps(ids, separators=("\n", ": "))[1:-1].split("\n") if ids else ())
    few = {*map(_AGENT, plains), *map(_PROVIDER, plains), *map(_TYPE, plains)}
    names = {n: json.dumps(n) for n in few}
    return [
        _PLAIN_ROW % (names[r[0]], next(encoded_ids), names[r[2]], names[r[3]])
        if p
        else "{\n      " + next(other_texts) + "\n    }"
        for r, p in zip(rows, plain, strict=True)
    ]


# A plain row as `indent=2` lays it out inside the list, its four strings' encodings to fill in.
_PLAIN_ROW = (  # a `%` template: in less than half the time of `str.format`, 90,000 times
    "{\n      "
    + _ROW_ITEM_SEP.join(
        [f"{json.dumps(k)}: %s" for k in Row._fields[:4]]
        + [f"{json.dumps(k)}: {json.dumps(v)}".replace("%", "%%") for k, v in _PLAIN_JSON.items()]
    )
    + "\n    }"
)
