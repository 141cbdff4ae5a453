"""What one replication leaves behind: flat per-truck and per-visit arrays, level summaries.

No live SimPy objects survive a replication; everything here is plain numpy or Python data
that pickles cheaply between processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gatesim.engine.accounts import Accounts

TRUCK_FIELDS = ("id", "stream", "cls", "arrival", "exit", "road_time", "lane", "turned_away",
                "turned_back")
VISIT_FIELDS = ("truck", "station", "ready", "start", "end", "left")


class Recorder:
    """Appends rows during the run (cheap tuples), turns them into arrays at the end."""

    def __init__(self) -> None:
        self.trucks: list[tuple] = []
        self.visits: list[tuple] = []

    def truck(self, row: tuple) -> None:
        self.trucks.append(row)

    def arrays(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        t = np.array(self.trucks, dtype=float).reshape(-1, len(TRUCK_FIELDS))
        v = np.array(self.visits, dtype=float).reshape(-1, len(VISIT_FIELDS))
        return ({f: t[:, i] for i, f in enumerate(TRUCK_FIELDS)},
                {f: v[:, i] for i, f in enumerate(VISIT_FIELDS)})


@dataclass
class LevelSummary:
    """Time-weighted statistics of one level monitor after warm-up."""

    mean: float
    p50: float
    p90: float
    p95: float
    max: float


@dataclass
class ReplicationOutput:
    """Everything statistics need from one replication."""

    replication: int
    seed: int
    trucks: dict[str, np.ndarray]
    visits: dict[str, np.ndarray]
    levels: dict[tuple[str, str], LevelSummary]
    utilisation: dict[str, float]
    timeseries: Any
    """observe.HourlySeries: hourly snapshots by column; iterate for (hour, rows)."""
    accounts: Accounts
    n_arrived: int
    inside: int
    """Trucks still in the system at the horizon."""
    crossed: list[int]
    """Crossings completed per station within [warm-up, horizon] (0 for stages)."""
    names: dict = field(default_factory=dict)
    daily_in_system: list[float] = field(default_factory=list)
    """Time-average of trucks in the system in each whole day from t = 0 (warm-up included)."""
    warmup_h: float = 0.0
    horizon_h: float = 0.0
    runtime_s: float = 0.0
    events: int = 0
    stopped_h: dict[str, float] = field(default_factory=dict)
    """Hours each resource a stoppage names was stopped within [warm-up, horizon]."""
    daily_caps: dict[str, list[int]] = field(default_factory=dict)
    """The other side's total cap on each cap day (day 0 holds t = 0), where it varies."""
    daily_factors: dict[str, list[float]] = field(default_factory=dict)
    """Every day-to-day factor series drawn, by its stream name (``factor:<name>``)."""

    @property
    def arrivals(self) -> np.ndarray:
        """Arrival times of the recorded trucks in id order (all of them in records 'all')."""
        order = np.argsort(self.trucks["id"], kind="stable")
        return self.trucks["arrival"][order]

    @property
    def inside_arrivals(self) -> np.ndarray:
        """Arrival times of recorded trucks still inside at the horizon, in id order."""
        still = np.isnan(self.trucks["exit"])
        order = np.argsort(self.trucks["id"][still], kind="stable")
        return self.trucks["arrival"][still][order]
