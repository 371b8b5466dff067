"""Keeping the garbage collector's full passes short in the server process.

After the model is loaded the process holds ~350,000 long-lived objects (the model, pandas, scikit-learn,
MLflow, FastAPI); a full collection walks all of them and takes ~150 ms, during which no request
progresses: it showed as the benchmark's p99 latency (150-180 ms). Freezing the heap once it is settled
(``gc.freeze``) takes those objects out of the collector's sight; objects made later, per request, are
collected as usual. A reload unfreezes first, so the previous model's cycles are collected before the
new heap is frozen.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect everything collectable now, then freeze what is left (see the module docstring)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
