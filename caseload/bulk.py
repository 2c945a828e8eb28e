"""Helpers for work on thousands of rows in one process (imports).

``gc_paused``: Python's cyclic garbage collector runs whenever enough new objects have been made,
and each run walks every young object still alive. A bulk task keeps tens of thousands of new
objects alive on purpose (rows, model instances, audit events), so the collector ran again and
again over them for nothing: a quarter of a 10,000-row client import's time. Those objects are
freed by reference counting when the task is done; the collector is only paused meanwhile, and
only where it was running.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (or decorated function), then restore it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
