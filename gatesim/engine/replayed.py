"""A replayed arrival stream: the trucks of a gate log at their logged times.

Each row is one truck: its time, what the row says of it (direction, cargo, site, attributes;
the rest is drawn from the stream's own draws as for any truck), and any service or crossing
times the log gives, which replace that truck's draws.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, Protocol

import simpy

from gatesim.engine.journey import Border, journey
from gatesim.engine.network import Station
from gatesim.engine.rng import TruckDraws
from gatesim.engine.trucks import Truck
from gatesim.scenario.replay import Kind, Replay


class Model(Border, Protocol):
    """What a replayed stream asks of the replication it feeds (the model)."""

    env: simpy.Environment
    horizon: float
    by_stage: dict[str, Station]
    by_lane: dict[tuple[str, str], Station]

    def draws_for(self, owner: str) -> TruckDraws: ...

    def new_truck(self, stream: int, draws: list[float], kind: Kind | None = None
                  ) -> Truck: ...


def _fixed_columns(m: Model, replay: Replay) -> list[tuple[int, list[float]]]:
    """(draw column, value per row) of every service or crossing time the file gives."""
    out = []
    for name, values in replay.fixed.items():
        what, _, target = name.partition(":")
        if what == "service":
            col = m.by_stage[target].col
        else:
            col = next(st.transit_col for (lane, _), st in m.by_lane.items() if lane == target)
        out.append((col, values.tolist()))
    return out


def replayed(m: Model, index: int, name: str, replay: Replay
             ) -> Generator[simpy.Event, Any, None]:
    """The process that brings the rows of ``replay`` as trucks of stream ``index``."""
    env = m.env
    draws = m.draws_for(name)
    fixed = _fixed_columns(m, replay)
    kinds, kind = replay.kinds, replay.kind.tolist()
    for i, t in enumerate(replay.hours.tolist()):
        if t >= m.horizon:
            return
        if t > env.now:
            yield env.timeout(t - env.now)
        row = draws.next_row()
        if fixed:
            row = list(row)
            for col, values in fixed:
                if not math.isnan(values[i]):
                    row[col] = values[i]
        truck = m.new_truck(index, row, kinds[kind[i]])
        env.process(journey(env, truck, m))
