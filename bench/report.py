"""docs/benchmarks.md (tables) and docs/benchmarks-recovery.png, from one run's results."""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.scale import ScaleResult
from bench.scenarios import CRON_S, STEADY_S, Scenario
from bench.stampede import StampedeResult
from bench.world import RunResult
from probed import policy
from probed.config import Config
from probed.reasons import Reason


def human(seconds: float | None) -> str:
    if seconds is None:
        return "not detected"
    s = abs(seconds)
    if s < 1:
        return "0 s" if s < 0.05 else f"{s:.1f} s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {sys.version.split()[0]}"
    )


def _median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


@dataclass(frozen=True)
class Row:
    """One (scenario, system) over its repeated runs."""

    scenario: Scenario
    system: str
    runs: tuple[RunResult, ...]

    @property
    def ok_runs(self) -> list[RunResult]:
        return [r for r in self.runs if r.error is None]

    @property
    def recovered(self) -> list[float]:
        return [r.recovered_s for r in self.ok_runs if r.recovered_s is not None]

    @property
    def all_recovered(self) -> bool:
        return bool(self.ok_runs) and len(self.recovered) == len(self.ok_runs)

    def worst(self) -> float:
        """The slowest run; a run with no success within the horizon counts as past it."""
        if not self.ok_runs:
            return math.inf
        return max(r.recovered_s if r.recovered_s is not None else math.inf for r in self.ok_runs)

    def median(self) -> float:
        vals = [r.recovered_s if r.recovered_s is not None else math.inf for r in self.ok_runs]
        return _median(vals) if vals else math.inf

    def latency(self) -> str:
        if not self.ok_runs:
            return "failed to run"
        n, got = len(self.ok_runs), self.recovered
        horizon = human(self.scenario.horizon_s)
        if not got:
            ends = [r.window_end_s for r in self.ok_runs if r.window_end_s is not None]
            tail = f"; its window ends {human(max(ends))} after the fix" if ends else ""
            return f"none within {horizon}{tail}"
        text = human(_median(got)) if len(got) == n else f"{len(got)}/{n} within {horizon}"
        if len(got) > 1:
            text += f" ({human(min(got))}-{human(max(got))})"
        return text

    def mean(self, attr: str) -> str:
        vals = [float(getattr(r, attr)) for r in self.ok_runs]
        if not vals:
            return "-"
        m = statistics.mean(vals)
        spread = f" ({min(vals):.0f}-{max(vals):.0f})" if min(vals) != max(vals) else ""
        return (f"{m:.0f}" if float(m).is_integer() else f"{m:.1f}") + spread


def rows_of(scenarios: Sequence[Scenario], runs: Sequence[RunResult]) -> list[Row]:
    out: list[Row] = []
    for sc in scenarios:
        systems = list(dict.fromkeys(r.system for r in runs if r.scenario == sc.name))
        for system in systems:
            mine = tuple(r for r in runs if r.scenario == sc.name and r.system == system)
            out.append(Row(sc, system, mine))
    return out


def is_probed(row: Row) -> bool:
    return row.system.startswith("probed")


def _short(seconds: float) -> str:
    return human(seconds) if math.isfinite(seconds) else "none"


def plot(path: Path, rows: Sequence[Row]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(r.scenario.name for r in rows))
    per = max(sum(1 for r in rows if r.scenario.name == n) for n in scenarios)
    width = 0.8 / max(1, per)
    colours: dict[str, str] = {}
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f"]
    fig, ax = plt.subplots(figsize=(12, 5.5))
    for i, name in enumerate(scenarios):
        mine = [r for r in rows if r.scenario.name == name]
        for k, row in enumerate(mine):
            family = "probed" if is_probed(row) else row.system.split(" (")[0]
            colour = colours.setdefault(family, palette[len(colours) % len(palette)])
            got = row.recovered
            x = i + k * width
            if got and row.all_recovered:
                v = max(_median(got), 0.3)
                lo, hi = max(0.0, v - max(min(got), 0.3)), max(0.0, max(got) - v)
                ax.bar(x, v, width, color=colour, yerr=[[lo], [hi]], capsize=3)
            else:
                ax.bar(x, row.scenario.horizon_s, width, color="white", edgecolor=colour,
                       hatch="//")  # fmt: skip
            ax.text(x, 0.35, row.system, rotation=90, fontsize=6, ha="center", va="bottom")
        ax.hlines(
            mine[0].scenario.target_s,
            i - width / 2,
            i + width * (len(mine) - 0.5),
            colors="k",
            linestyles="dashed",
            linewidth=1,
        )
    ax.set_yscale("log")
    ax.set_ylim(0.3, None)
    ax.set_ylabel("fix -> first successful request through the profile (s, log)")
    ax.set_xticks([i + width * (per - 1) / 2 for i in range(len(scenarios))], scenarios, fontsize=8)
    ax.set_title(
        "Recovery at the gateway (median, min-max; hatched: none within the horizon; "
        "dashed: target)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def recovery_targets(rows: Sequence[Row]) -> list[tuple[bool | None, str]]:
    """Every target of issue 12 the recovery runs can check, met or not."""
    out: list[tuple[bool | None, str]] = []
    probed_rows = [r for r in rows if is_probed(r)]
    for row in probed_rows:
        sc = row.scenario
        what = "stated reset -> first success" if sc.reset_stated else "fix -> first success"
        out.append(
            (
                row.all_recovered and row.worst() <= sc.target_s,
                f"{sc.name}: {what} <= {human(sc.target_s)} in every run "
                f"({row.system}; slowest {_short(row.worst())}, {len(row.ok_runs)} runs)",
            )
        )
    for row in probed_rows:
        most = max((r.billable for r in row.ok_runs), default=0)
        rej = sum(r.rejected for r in row.ok_runs)
        out.append(
            (
                bool(row.ok_runs) and most <= 1,
                f"{row.scenario.name}: <= 1 billable request per recovery (most {most}; "
                f"{rej} rejected probes over {len(row.ok_runs)} runs, shown, not billed)",
            )
        )
    for row in probed_rows:
        most = max((r.lapsed for r in row.ok_runs), default=0)
        inside = max((r.reached_broken - r.lapsed for r in row.ok_runs), default=0)
        out.append(
            (
                bool(row.ok_runs) and most == 0,
                f"{row.scenario.name}: no user request reached the still-broken provider because "
                f"a window lapsed (most {most} in a run; at most {inside} in a run sent inside "
                "OpenClaw's own window or before it recorded one)",
            )
        )
    for row in probed_rows:
        alts = [r for r in rows if r.scenario.name == row.scenario.name and not is_probed(r)]
        if not alts:
            out.append((None, f"{row.scenario.name}: no alternative was run"))
            continue
        best = min(alts, key=lambda r: r.median())
        cost = ""
        if best.ok_runs and best.median() < row.median():
            reached = statistics.mean(r.reached_broken for r in best.ok_runs)
            cost = f"; {reached:.0f} of its user requests a run reached the broken provider"
        out.append(
            (
                row.median() <= best.median(),
                f"{row.scenario.name}: no slower than the best alternative (probed median "
                f"{_short(row.median())} vs {best.system} {_short(best.median())}{cost})",
            )
        )
    return out


def write(
    out: Path,
    *,
    command: str,
    smoke: bool,
    scenarios: Sequence[Scenario],
    runs: Sequence[RunResult],
    stampede: Sequence[StampedeResult],
    scale_rows: Sequence[ScaleResult],
    wall_s: float,
    load: str,
    notes: Sequence[str] = (),
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    png = out / "benchmarks-recovery.png"
    rows = rows_of(scenarios, runs)
    if rows:
        plot(png, rows)
    L: list[str] = []
    a = L.append
    a("# Benchmarks")
    a("")
    a("Written by the harness; do not edit by hand. Regenerate with:")
    a("")
    a(f"    {command}")
    a("")
    a(
        f"- configuration: {'SMOKE (CI)' if smoke else 'full'}; real time (no scaling); "
        f"total wall time {wall_s / 60:.1f} min"
    )
    a(f"- machine: {machine()}")
    a(f"- load while it ran: {load}")
    a("")
    for n in notes:
        a(f"> {n}")
        a("")
    a("## 1. Recovery at the gateway, beside real peers")
    a("")
    a(
        "Each run starts a real OpenClaw gateway (2026.9.6 or 2026.5.28, offline, "
        "`tests/helpers/gateway.py`) or a real LiteLLM proxy (`tests/helpers/litellm.py`), a "
        "fake provider on 127.0.0.1 whose free endpoints keep answering during the outage, and "
        f"user traffic: one request every {STEADY_S:g} s. **Recovery** is the time from the fix "
        "(top-up, stated reset) to the first user request answered through the recovered "
        "profile (the provider saw it with that profile's key). **Failed**: user requests that "
        "got an error, from the outage's first failed request to the recovery. **Reached "
        "broken**: user requests, after the first, that reached the still-broken provider; "
        "**after a lapse**: those of them sent once a window OpenClaw had recorded had ended "
        "(its store is sampled every 0.25 s; the rest were sent inside OpenClaw's own window, "
        "2026.9.6 trying a disabled primary on a throttle, or before it recorded any; LiteLLM "
        "keeps no window, so all of its count). "
        "**Billable**: requests sent only to test the provider that it accepted (a probe or "
        "health check that succeeded). **Rejected**: test "
        "generations the provider answered with an error (sent, not billed). **Free**: free "
        "test requests (model list). **All**: every request that reached the provider. Counts "
        "are means over the runs (min-max); recovery is the median (min-max)."
    )
    a("")
    a(
        "| scenario | system | recovery | failed | reached broken | after a lapse | billable | "
        "rejected | free | all | runs |"
    )
    a("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    last = ""
    for row in rows:
        sc = row.scenario
        label = f"{sc.label} ({sc.gateway})" if sc.name != last else ""
        last = sc.name
        name = f"**{row.system}**" if is_probed(row) else row.system
        errors = [r.error for r in row.runs if r.error]
        n_runs = f"{len(row.ok_runs)}" + (f" (+{len(errors)} failed)" if errors else "")
        a(
            f"| {label} | {name} | {row.latency()} | {row.mean('failed_user')} | "
            f"{row.mean('reached_broken')} | {row.mean('lapsed')} | {row.mean('billable')} | "
            f"{row.mean('rejected')} | "
            f"{row.mean('free')} | {row.mean('all_requests')} | {n_runs} |"
        )
    a("")
    for run in runs:
        if run.error:
            a(f"- run failed: {run.scenario} / {run.system} #{run.repeat}: {run.error}")
    a("")
    if rows:
        a(f"![recovery per scenario]({png.name})")
        a("")
    a("### Targets (issue 12)")
    a("")
    for ok, text in recovery_targets(rows):
        mark = "n/a" if ok is None else ("met" if ok else "MISSED")
        a(f"- {text}: **{mark}**")
    a("")
    a(_reading())
    a("")
    a(_cost_per_day())
    a("")
    a("## 2. Stampede: N concurrent `probed probe anthropic`")
    a("")
    a(
        "One FakeProvider (0.5 s per answer), one SQLite store with a billing-disabled profile, "
        "one "
        "lock_dir/state_dir. Target: one probe, one paid request, for every N."
    )
    a("")
    a("| N | paid requests | free requests | exit 0 | reused a shared result | wall time |")
    a("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in stampede:
        mark = "" if s.paid == 1 else " **(target: 1)**"
        a(
            f"| {s.n} | {s.paid}{mark} | {s.free} | {s.exit_ok}/{s.n} | {s.reused} | "
            f"{s.wall_s:.1f} s |"
        )
    a("")
    a(
        "The free request is the ladder's free pre-check that precedes the paid one-token "
        "request of the single probe. Wall time is dominated by starting N Python interpreters on "
        "this machine's cores."
    )
    a("")
    a("## 3. Scale and idle cost (`python -m probed run`, defaults, era-C SQLite stores)")
    a("")
    a(
        "| profiles | agents | start-up scan | daemon start -> READY | RSS | idle CPU | lateness "
        "p50 / p99 | reaction to a store change | `probed status` | `status --json` |"
    )
    a("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in scale_rows:
        late = (
            f"{r.late_p50_ms:.1f} / {r.late_p99_ms:.1f} ms (n={r.late_n})"
            if r.late_p50_ms is not None
            else "no probe_started (n=0)"
        )
        st = f"{r.status_ms:.0f} ms" if r.status_ms is not None else f"failed: {r.status_error}"
        sj = f"{r.status_json_ms:.0f} ms" if r.status_json_ms is not None else "failed"
        ready = f"{r.ready_s * 1000:.0f} ms" if r.ready_s is not None else "n/a"
        react = f"{r.react_ms:.0f} ms" if r.react_ms is not None else "not seen"
        a(
            f"| {r.profiles:,} | {r.agents} | {r.scan_s * 1000:.0f} ms | {ready} | "
            f"{r.rss_mb:.1f} MB | {r.idle_cpu_pct:.2f} % over {r.idle_s:.0f} s | {late} | "
            f"{react} | "
            f"{st} | {sj} |"
        )
    a("")
    a(_targets(scale_rows))
    a("")
    a("## 4. How it scales")
    a("")
    a(_scaling(scale_rows))
    a("")
    path = out / "benchmarks.md"
    path.write_text("\n".join(L), encoding="utf-8")
    return path


def _targets(rows: Sequence[ScaleResult]) -> str:
    if not rows:
        return ""
    big = max(rows, key=lambda r: r.profiles)
    k = next((r for r in rows if r.profiles == 1000), None)
    out = ["Targets:", ""]

    def line(ok: bool | None, text: str) -> None:
        mark = "n/a" if ok is None else ("met" if ok else "MISSED")
        out.append(f"- {text}: **{mark}**")

    line(
        big.scan_s < 1.0,
        f"start-up scan of {big.profiles:,} profiles under 1 s ({big.scan_s * 1000:.0f} ms)",
    )
    line(
        big.rss_mb < 80, f"under 80 MB resident at {big.profiles:,} profiles ({big.rss_mb:.1f} MB)"
    )
    worst_cpu = max(r.idle_cpu_pct for r in rows)
    line(worst_cpu < 1.0, f"under 1 % of a core idle (worst {worst_cpu:.2f} %)")
    lates = [r.late_p99_ms for r in rows if r.late_p99_ms is not None]
    line(
        max(lates) < 50 if lates else None,
        "p99 wake-up lateness under 50 ms"
        + (f" (worst {max(lates):.1f} ms)" if lates else ": no probe ran at expiry, see notes"),
    )
    if k is not None:
        line(
            k.status_ms is not None and k.status_ms < 300,
            "`probed status` under 300 ms for 1,000 profiles"
            + (
                f" ({k.status_ms:.0f} ms, interpreter start included, bytecode compiled as pip"
                " leaves it)"
                if k.status_ms
                else ""
            ),
        )
    return "\n".join(out)


def _scaling(rows: Sequence[ScaleResult]) -> str:
    return (
        "- **Start-up scan** grows linearly with profiles (one JSON decode per agent store and a "
        "`Profile`/`Usage` object per profile) and with agents (one SQLite open per store); "
        "the daemon's READY additionally arms one deadline per unusable key (a push on one "
        "heap under one timer, microseconds each), so it grows with the number of profiles in "
        "a window, not with all profiles.\n"
        "- **Memory** is the interpreter and libraries (~40 MB) plus the parsed stores it keeps "
        "per agent and one deadline per unusable key: linear in profiles, small per profile.\n"
        "- **Idle CPU** is what the daemon does with no work: the scheduler heartbeat and clock "
        "check (1 s), the STATUS refresh (1 s), the file watcher and the safety rescan every "
        "300 s, which re-reads every store; so it grows with agents (watched directories, "
        "stores re-read) more than with profiles.\n"
        "- **Wake-up lateness** is the scheduler's one timer plus two store reads before the "
        "probe (the daemon's, then the probe's own inside its flight), with passes over the "
        "stores waiting for them: independent of the number of profiles, except when many "
        "expire in the same instant and queue on `[probe] concurrency` and the per-provider "
        "lock.\n"
        "- **Reaction to a store change** is the watcher's debounce plus re-reading the one "
        "changed store: it grows with that agent's store size, not with the total.\n"
        "- **`probed status`** is interpreter start plus a full scan: linear in profiles.\n"
        '- **Past one host**: with `[coordination] backend = "redis"` the flight, the shared '
        "results and the daily budget live in one Redis, so hosts sharing a key pay one "
        "request per recovery; docs/fleet.md says how each figure grows and where Redis "
        "becomes the limit."
    )


def _reading() -> str:
    return (
        "**Reading it.** OpenClaw alone keeps a profile it took out until its own window ends: "
        "10 minutes for a first billing failure on 2026.9.6 (it refuses requests without "
        "calling the provider meanwhile), 5 hours on 2026.5.28, where a configured fallback "
        "answers instead and the primary is not tried. probed beside it probes the profile "
        "early and often while a person must act (every 20 s for the first 10 minutes of an "
        "outage, then less often as the outage ages, at most 4 minutes apart: "
        "`[backoff.billing]`); a probe the provider rejects costs nothing, and the first one "
        "that succeeds clears the state and runs `openclaw secrets reload`, so the next user "
        "request goes through. Its recovery is the wait for the next probe (10 s on average), "
        "the reload (a 3 s CLI on an idle machine, more under load) and the gateway's first "
        "request after a reload (seconds: it sets up again).\n\n"
        "A **daily request limit** with a stated reset is recorded by 2026.9.6 as a "
        "`rate_limit` window of 30 s, doubled on each failure after it lapses, so alone it "
        "sends user requests to the still-limited provider at every lapse and is back at the "
        "first window end after the reset. probed probes that window before it ends with a "
        "one-token generation (a model list keeps answering through the limit, so it proves "
        "nothing), writes the provider's reset as the window's end and reloads the gateway, "
        "which then answers its users at once without calling the provider until that instant, "
        "and lets the next request through. A "
        "Retry-After of 60 s or less is not measured here: 2026.9.6 waits it out inside the "
        "request (`OPENCLAW_SDK_RETRY_MAX_WAIT_SECONDS`, default 60) and records no window, so "
        "probed has nothing to do; measured once, both systems were back 0.4-6 s after it.\n\n"
        "A **refused key** (401 on every endpoint, its model list included) is recorded by "
        "2026.9.6 as an `auth` cooldown of 30 s, then 60 s, then 5 minutes, opened again by the "
        "first user request that fails after it lapses: alone it sends a user request into the "
        "refusal at every lapse, and is back at the first lapse after the fix. probed keeps "
        "such a key out until a probe sees it back: a model list every 5 s for the first 10 "
        "minutes (free; `[backoff.auth]`), the window held in steps of the reason's cap, one "
        "reload each. A key replaced in the store (`openclaw models auth paste-api-key`) is "
        "probed the moment the store changes; the new-key runs count from the moment the paste "
        "command starts, so the command's own run time is in every system's figure.\n\n"
        "**LiteLLM** runs its health checks every 300 s whatever happens, each billed when it "
        "succeeds. With one deployment its router sends every user request to the broken "
        "provider anyway (fail-open), and with a fallback it tries the primary first on every "
        "request: its user requests are its probes, one every 2 s, which is why it is back at "
        "the next user request after the fix and why its reached-broken count is what it is. "
        "Matching that would take sending user requests to a provider known to be broken, "
        "which is the other target; probed does not."
    )


def _cost_per_day() -> str:
    """Requests per day per broken profile at the defaults, from the policy itself."""
    cfg = Config()
    lines = ["### Cost per day per broken profile (defaults, from `probed.policy`)", ""]
    lines.append(
        "| reason | probes in the first 24 h | paid generations | billed | free requests |"
    )
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for reason in (Reason.BILLING, Reason.AUTH, Reason.AUTH_PERMANENT, Reason.RATE_LIMIT):
        paid = reason.needs_generation
        b = cfg.backoff_for(reason)
        t, n = 0.0, 0
        while t < 86_400:
            t += policy.step(b, n + 1, t)
            n += 1
        gens = f"{n} (rejected: not billed)" if paid else "0"
        billed = "0, then 1 at recovery" if paid else "0 (a model list proves the key back)"
        lines.append(f"| {reason} | {n} | {gens} | {billed} | {n} (model list) |")
    lines.append("")
    lines.append(
        f"LiteLLM's background health checks: {86_400 // 300} paid completions per model per "
        "day, broken or not (each billed when it succeeds), overnight included. OpenClaw alone: "
        f"no test requests; its users' requests are the probes (one every {STEADY_S:g} s here, "
        f"plus a cron job every {CRON_S / 60:.0f} min day and night). Overnight, with no steady "
        "traffic, probed's schedule is the same, so a fix made at night is cleared before the "
        "morning's first request; no overnight scenario is timed (its first success would be "
        "the morning's first request, for every system)."
    )
    return "\n".join(lines)
