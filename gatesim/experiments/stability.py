"""Stability in words, the same wherever results are shown (terminal, report, CSV columns).

A run whose backlog keeps growing (``unstable``) has waits and queues that depend on how long
it ran: they describe this horizon only. A run that could not be judged (one replication, or
too few days after the warm-up) says so rather than passing for stable.
"""

from __future__ import annotations

import math
from typing import Any


def growth(stability: dict[str, Any]) -> float:
    g = stability.get("growth_per_day")
    return math.nan if g is None else float(g)


def describe(name: str, stability: dict[str, Any]) -> str | None:
    """One sentence for a run that is unstable or could not be judged; None when stable."""
    unstable = stability.get("unstable")
    g = growth(stability)
    if unstable:
        return (f"{name} is UNSTABLE: its backlog grows by {g:,.1f} trucks a day, so its waits "
                "and queues hold for this horizon only (a longer run gives larger ones)")
    if unstable is None:
        rate = f" (the backlog changed by {g:+,.1f} trucks a day)" if math.isfinite(g) else ""
        return f"{name}: stability could not be judged: {stability.get('note', '')}{rate}"
    return None
