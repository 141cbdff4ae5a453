"""Stability in words, the same wherever results are shown (terminal, report, CSV columns).

A run whose backlog keeps growing (``unstable``) has waits and queues that depend on how long
it ran: they describe this horizon only. A run that could not be judged (one replication, or
too few days after the warm-up) says so rather than passing for stable.
"""

from __future__ import annotations

import math
from typing import Any

from gatesim.i18n import _, number


def growth(stability: dict[str, Any]) -> float:
    g = stability.get("growth_per_day")
    return math.nan if g is None else float(g)


def describe(name: str, stability: dict[str, Any]) -> str | None:
    """One sentence for a run that is unstable or could not be judged; None when stable."""
    unstable = stability.get("unstable")
    g = growth(stability)
    if unstable:
        return _("%(name)s is UNSTABLE: its backlog grows by %(growth)s trucks a day, so its "
                 "waits and queues hold for this horizon only (a longer run gives larger "
                 "ones)") % {"name": name, "growth": number(g, 1)}
    if unstable is None:
        text = _("%(name)s: stability could not be judged: %(note)s") % {
            "name": name, "note": stability.get("note", "")}
        if math.isfinite(g):
            text += _(" (the backlog changed by %(growth)s trucks a day)") % {
                "growth": ("+" if g > 0 else "") + number(g, 1)}
        return text
    return None
