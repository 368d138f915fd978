"""Duration strings of the configuration: "250ms", "30s", "5m", "2h", "1d", "1h30m"."""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


_ORDER = ("d", "h", "m", "s", "ms")
_FORMS = "use forms like 250ms, 30s, 5m, 2h, 1d, 1h30m"
MAX_TEXT = 64  # "1h30m" needs five characters; a 5,000-digit number is an attack, not a duration
# The longest duration any key accepts (keys may set a lower one): 365 days keeps every deadline
# computed from it (now + cap, plus jitter) far inside what datetime, APScheduler and OpenClaw's
# JavaScript Date can hold.
MAX_SECONDS = 365 * 86400.0


def parse_duration(text: str, *, maximum: float = MAX_SECONDS) -> float:
    """Return seconds; raise ValueError with the offending text when it is not a duration.

    Units go from the largest to the smallest, each once (`1h30m`, never `30m1h` or `1m1m`),
    the value is a whole number of milliseconds, the resolution every deadline has, and it is
    at most `maximum` seconds (365 days unless the key says less)."""
    s = text.strip()
    if not s:
        raise ValueError("an empty string is not a duration")
    if len(s) > MAX_TEXT:
        raise ValueError(f"{s[:20]!r}... ({len(s)} characters) is not a duration ({_FORMS})")
    pos = 0
    total = 0.0
    last = -1
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        rank = _ORDER.index(m.group(2))
        if rank <= last:
            raise ValueError(f"{text!r}: units must go from largest to smallest, each once")
        last = rank
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError(f"{text!r} is not a duration ({_FORMS})")
    if not math.isfinite(total) or total > maximum:
        raise ValueError(f"{text!r} is longer than the {format_duration(maximum)} allowed here")
    ms = total * 1000
    if abs(ms - round(ms)) > 1e-6:
        raise ValueError(f"{text!r} is finer than a millisecond")
    return total


def format_duration(seconds: float) -> str:
    """The shortest string parse_duration reads back as the same value (to the millisecond)."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    if ms % 1000:
        return f"{ms}ms"
    rest = ms // 1000
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out)


def humanize(seconds: float) -> str:
    """Short, rounded, for tables and STATUS=: 45s, 4m12s, 3h05m, 2d4h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"
