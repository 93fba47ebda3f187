"""Pausing the cyclic garbage collector while a big result is built (items, imported labels, a store read).

Loading 100,000 items or a million labels makes millions of small containers with no reference cycles; their
allocation keeps triggering full collections that traverse the whole heap (up to half of the load time).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC for the block; afterwards, move what it made to the oldest generation."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _promote_young_objects()
            gc.enable()


def _promote_young_objects() -> None:
    """Move the objects made while the GC was paused to the oldest generation, without traversing them.

    Otherwise the first allocation after ``gc.enable()`` runs a young-generation collection over all of them
    (0.19 s after reading 1,000,000 labels: ~4M lists, none garbage). freeze() + unfreeze() splices the
    generation lists in O(1). Skipped if the program froze objects itself (unfreeze would release them).
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
