"""Pausing Python's cyclic garbage collector around work that allocates a great deal that lives on.

The collector runs when allocations outnumber deallocations by a threshold, and each of its
full passes walks every tracked object. Reading 100,000 profiles allocates millions of objects
that all stay alive (the daemon's parsed stores, `status`'s rows), so those passes found nothing
to free and cost a quarter of the daemon's start-up scan and a seventh of `probed status`. That
work makes no reference cycles worth collecting early; a pass after it (the daemon's, before
`gc.freeze()`) or the process's exit (a command) cleans up.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside; as it was before afterwards (an embedder that runs
    without the collector keeps it off)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
