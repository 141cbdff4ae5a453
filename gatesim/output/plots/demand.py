"""Demand beside throughput: trucks arriving per day and direction, and where that number
comes from — the summary's ``arrivals_per_day`` when the run wrote it, else the run's truck
records (a sample scaled up), else the scenario's arrival rates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gatesim.i18n import _
from gatesim.output.reader import RunFiles
from gatesim.scenario.schema import WEEKDAYS, Scenario

SAMPLE_EVERY = 10
"""Records mode 'sample' keeps every tenth truck (the engine's SAMPLE_EVERY)."""


@dataclass(frozen=True)
class Demand:
    """Trucks arriving per simulated day (24 h from the start hour), by direction."""

    per_day: pd.DataFrame
    """Columns direction, day, value (mean over replications)."""
    source: str
    """Where the numbers come from, in words of the current language."""


def from_summary(run: RunFiles) -> Demand | None:
    """The summary's ``arrivals_per_day`` (mean over the measured days) per direction."""
    s = run.summary
    rows = s[(s["metric"] == "arrivals_per_day") & (s["stat"] == "mean")
             & s["scope"].isin(["export", "import"])]
    if rows.empty:
        return None
    days = range(int(np.floor(run.warmup_h / 24)), int(np.ceil(run.horizon_h / 24)))
    per_day = pd.DataFrame([(r.scope, d, float(r.estimate)) for r in rows.itertuples()
                            for d in days], columns=["direction", "day", "value"])
    return Demand(per_day, _("mean over the days measured (summary)"))


def from_records(run: RunFiles) -> Demand | None:
    """Trucks counted by arrival day in the run's records, mean of the replications."""
    t = run.trucks
    if t is None or t.empty:
        return None
    scale = SAMPLE_EVERY if run.meta.get("records") == "sample" else 1
    days = int(np.ceil(run.horizon_h / 24))
    t = t[t["arrival"] < run.horizon_h].assign(day=(t["arrival"] // 24).astype(int))
    counts = t.groupby(["direction", "replication", "day"]).size().rename("value")
    full = pd.MultiIndex.from_product(
        [sorted(t["direction"].unique()), sorted(t["replication"].unique()), range(days)],
        names=["direction", "replication", "day"])
    counts = counts.reindex(full, fill_value=0).reset_index()
    per_day = counts.groupby(["direction", "day"], as_index=False)["value"].mean()
    per_day["value"] *= scale
    source = (_("counted in the truck records (every tenth truck, times ten)") if scale > 1
              else _("counted in the truck records"))
    return Demand(per_day, source)


def from_scenario(s: Scenario) -> Demand:
    """Expected arrivals per day from the streams' rates and weekday and date multipliers
    (the day-to-day factors have mean 1); replayed streams are left out."""
    days = int(np.ceil(s.clock.horizon_days))
    rows: dict[tuple[str, int], float] = {}
    replayed = False
    for stream in s.arrivals.values():
        if stream.replay is not None:
            replayed = True
            continue
        rate = (stream.rate_per_day if stream.rate_per_day is not None
                else 24 / stream.interarrival.mean_h() if stream.interarrival else 0.0)
        for k in range(days):
            day = (s.clock.start + dt.timedelta(days=k)).date()
            factor = stream.weekday_multipliers.get(WEEKDAYS[day.weekday()], 1.0)
            for m in stream.date_multipliers:
                if m.start <= day <= m.end:
                    factor *= m.factor
            key = (stream.direction, k)
            rows[key] = rows.get(key, 0.0) + rate * factor
    per_day = pd.DataFrame([(d, k, v) for (d, k), v in rows.items()],
                           columns=["direction", "day", "value"])
    source = (_("expected from the scenario's arrival rates (replayed streams left out)")
              if replayed else _("expected from the scenario's arrival rates"))
    return Demand(per_day, source)


def demand(run: RunFiles) -> Demand:
    """Trucks arriving per day and direction, from the best source the run has."""
    return from_summary(run) or from_records(run) or from_scenario(run.scenario)
