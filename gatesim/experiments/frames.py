"""Replication outputs → the tables of the results contract (pandas here, not in the model)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gatesim.engine.model import local_time
from gatesim.engine.records import ReplicationOutput
from gatesim.experiments.metrics import replication_rows
from gatesim.scenario.schema import Scenario


def truck_frame(out: ReplicationOutput) -> pd.DataFrame:
    """Per-truck records with names instead of indices: stream, class, attributes, lane."""
    names = out.names
    t = pd.DataFrame(out.trucks)
    t["id"] = t["id"].astype("int64")
    t.insert(0, "replication", out.replication)
    cls = t["cls"].astype(int)
    for k, col in enumerate(("direction", "cargo", "site")):
        t[col] = [names["classes"][c][k] for c in cls]
    for attr in names["class_attributes"][0] if names["class_attributes"] else ():
        if t.empty:
            break
        t[attr] = [names["class_attributes"][c][attr] for c in cls]
    t["stream"] = [names["streams"][int(i)] for i in t["stream"]]
    t["lane"] = ["" if i < 0 else names["station_lane"][int(i)] for i in t["lane"]]
    t["turned_away"] = ["" if i < 0 else names["places"][int(i)] for i in t["turned_away"]]
    t["turned_back"] = t["turned_back"].astype(bool)
    return t.drop(columns="cls")


def visit_frame(out: ReplicationOutput) -> pd.DataFrame:
    vis = pd.DataFrame(out.visits)
    vis["truck"] = vis["truck"].astype("int64")
    vis.insert(0, "replication", out.replication)
    vis["station"] = [out.names["stations"][int(i)] for i in vis["station"]]
    vis["wait"] = vis["start"] - vis["ready"]
    return vis


def series_frame(s: Scenario, out: ReplicationOutput) -> pd.DataFrame:
    """The hourly snapshots of one replication, one row per hour and series."""
    ts = out.timeseries
    n, hours = len(ts.keys), np.asarray(ts.hours, dtype=float)
    clocks = [local_time(s.clock.start, h).isoformat(timespec="minutes") for h in hours]
    return pd.DataFrame({
        "replication": out.replication,
        "hour": np.repeat(hours, n),
        "time": np.repeat(np.asarray(clocks, dtype=object), n),
        "metric": np.tile(np.asarray([k[0] for k in ts.keys], dtype=object), len(hours)),
        "scope": np.tile(np.asarray([k[1] for k in ts.keys], dtype=object), len(hours)),
        "value": np.asarray(ts.values, dtype=np.int64),
    })


def replications_frame(outs: list[ReplicationOutput]) -> pd.DataFrame:
    """One row per replication × metric × scope × stat."""
    reps = [(out.replication, *row) for out in outs for row in replication_rows(out)]
    return pd.DataFrame(reps, columns=["replication", "metric", "scope", "stat", "value"])


def run_frames(s: Scenario, outs: list[ReplicationOutput]) -> dict[str, pd.DataFrame]:
    """replications, timeseries, trucks and visits tables of a list of replications."""
    return {
        "replications": replications_frame(outs),
        "timeseries": pd.concat([series_frame(s, o) for o in outs], ignore_index=True),
        "trucks": pd.concat([truck_frame(o) for o in outs], ignore_index=True),
        "visits": pd.concat([visit_frame(o) for o in outs], ignore_index=True),
    }
