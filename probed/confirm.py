"""Has the running gateway taken a repair? The decision, as pure functions (no I/O, no clock).

Writing the store is not enough: a running OpenClaw gateway keeps its own copy of the auth state
in memory and goes on refusing a profile probed has cleared on disk, for as long as its cached
window lasts, until it re-reads the store. It re-reads on `openclaw secrets reload` (probed's
`[openclaw] reload_command`), on a restart, and on its own next write to that store. OpenClaw
offers no cheap, offline read of that in-memory copy (`models.authStatus` does not carry the
windows; `openclaw models status --json` reads the disk), so probed decides from what it can
observe for certain:

- the store read back: is the profile usable as OpenClaw reads the disk? If not, something
  wrote over the repair (a new failure): there is nothing for the gateway to take;
- the gateway itself (`GET /readyz` on its port, no token needed): does one answer, and since
  when has it been up (`uptimeMs`)? A gateway that started after the repair read it at start;
- the reload command: did it succeed after the repair, against that gateway?

The I/O (the reload command, the read-back, the `/readyz` look) is in `probed.reload`,
`probed.gatewayview`; the record of each repair is `probed.repairlog`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # repairlog imports this module; the record is only a type here
    from probed.repairlog import RepairRecord


class Verdict(StrEnum):
    """What `probed status` shows in its `gateway` field for a repaired profile."""

    TAKEN = "taken"  # the running gateway has re-read the store since the repair
    PENDING = "pending"  # a gateway runs on its old copy; the reload is retried
    NOT_RUNNING = "not_running"  # no gateway answers: one that starts reads the repaired store
    OVERWRITTEN = "overwritten"  # read back, the profile is not usable: a newer failure won

    @property
    def confirmed(self) -> bool:
        return self is Verdict.TAKEN

    @property
    def settled(self) -> bool:
        """Nothing more to retry: taken, or superseded by a newer failure."""
        return self in (Verdict.TAKEN, Verdict.OVERWRITTEN)


@dataclass(frozen=True, slots=True)
class GatewaySeen:
    """One look at the gateway of an install."""

    reachable: bool
    started_at_ms: int | None = None  # now - uptimeMs, when the gateway reports it
    detail: str | None = None  # why it is not reachable, one sentence


@dataclass(frozen=True, slots=True)
class Evidence:
    repaired_at_ms: int
    usable_on_disk: bool
    gateway: GatewaySeen
    reload_ok_at_ms: int | None = None  # the last successful reload command, if any


# A gateway's start time is now - uptimeMs, read with a clock that may be a little off from the
# one that stamped the repair; a start this close to the repair is not taken as "after it".
START_SLACK_MS = 2_000


def decide(evidence: Evidence) -> Verdict:
    """The verdict for one repaired profile (see the module docstring for why these rules)."""
    if not evidence.usable_on_disk:
        return Verdict.OVERWRITTEN
    reloaded = evidence.reload_ok_at_ms
    if reloaded is not None and reloaded >= evidence.repaired_at_ms:
        return Verdict.TAKEN  # `secrets reload` exits 0 only once a gateway re-read its stores
    gateway = evidence.gateway
    if not gateway.reachable:
        return Verdict.NOT_RUNNING
    if (
        gateway.started_at_ms is not None
        and gateway.started_at_ms > evidence.repaired_at_ms + START_SLACK_MS
    ):
        return Verdict.TAKEN
    return Verdict.PENDING


# Retries: quick at first (a gateway that was busy answers seconds later), then at most once a
# minute (a gateway that is down costs one refused connection per look, nothing more).
RETRY_FIRST_S = 5.0
RETRY_CAP_S = 60.0


def retry_delay_s(attempts: int) -> float:
    """Seconds until the next try after `attempts` failed ones: 5, 10, 20, 40, then 60."""
    if attempts <= 0:
        return 0.0
    return float(min(RETRY_CAP_S, RETRY_FIRST_S * 2.0 ** (attempts - 1)))


def needs_reload(verdict: Verdict, *, has_command: bool) -> bool:
    """Run the reload command again? Only for a gateway that runs on its old copy; one that is
    down needs nothing but a look (it reads the store when it starts)."""
    return verdict is Verdict.PENDING and has_command


def current_verdict(rec: RepairRecord, *, usable_now: bool, seen: GatewaySeen | None) -> Verdict:
    """For `probed status` (read-only): the recorded verdict, brought up to date by a fresh look
    at the gateway (a gateway that started since the repair has taken it).

    Here, with the rules, rather than beside the reload command: `status` needs the verdict
    and none of the I/O, and `probed.reload` brings in subprocess handling and httpx."""
    if rec.verdict.settled and usable_now:
        return rec.verdict
    if seen is None:
        return rec.verdict if usable_now else Verdict.OVERWRITTEN
    return decide(Evidence(rec.repaired_at_ms, usable_now, seen, rec.reload_ok_at_ms))
