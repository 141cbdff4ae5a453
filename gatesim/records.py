"""What one replication leaves behind: flat per-truck and per-visit arrays, level summaries.

No live SimPy objects survive a replication; everything here is plain numpy or Python data
that pickles cheaply between processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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

    def visit(self, row: tuple) -> None:
        self.visits.append(row)

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
    timeseries: list[tuple]
    names: dict[str, list[str]] = field(default_factory=dict)
    arrivals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    inside_arrivals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    arrival_classes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    inside: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """Per truck id − 1: still in the system at the horizon."""
    daily_in_system: list[float] = field(default_factory=list)
    """Time-average of trucks in the system in each whole day from t = 0 (warm-up included)."""
    warmup_h: float = 0.0
    horizon_h: float = 0.0
    runtime_s: float = 0.0
    events: int = 0
