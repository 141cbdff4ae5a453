"""What a replication counts while it runs: the statistics, streamed in constant memory.

Per-truck and per-visit records are optional (records mode ``all``, ``sample`` or ``none``);
the summary comes from these accounts in every mode, so it does not depend on the mode and
memory does not grow with the horizon. Tallies take trucks that arrived after the warm-up;
counts take events inside [warm-up, horizon].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gatesim.engine.monitors import Tally

if TYPE_CHECKING:
    from gatesim.engine.trucks import Truck, TruckClass

SAMPLE_EVERY = 10
"""Records mode 'sample' keeps the records of every tenth truck."""


@dataclass
class CargoAccount:
    budget_h: float | None
    truck_hours: float = 0.0
    """Truck-hours in the system within [warm-up, horizon] (for the waiting cost)."""
    judged: int = 0
    over: int = 0


@dataclass
class Accounts:
    """Streaming statistics of one replication (picklable; no SimPy objects)."""

    warmup: float
    horizon: float
    cargo: dict[str, CargoAccount]
    stations: int
    class_exits: list[int] = field(default_factory=list)
    class_sojourn: list[Tally] = field(default_factory=list)
    wait_system: Tally = field(default_factory=Tally)
    road: Tally = field(default_factory=Tally)
    back: Tally = field(default_factory=Tally)
    back_count: int = 0
    back_before: Tally = field(default_factory=Tally)
    """Of ``back``: trucks turned back before crossing (a load caught at inspection)."""
    back_after: Tally = field(default_factory=Tally)
    """Of ``back``: trucks sent back after crossing (a load the other side refused)."""
    censored: Tally = field(default_factory=Tally)
    station_wait: list[Tally] = field(default_factory=list)
    """Waits per station of trucks arrived after the warm-up (added by the journey itself)."""
    turned_away: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.station_wait = [Tally() for _ in range(self.stations)]

    def new_class(self) -> None:
        self.class_exits.append(0)
        self.class_sojourn.append(Tally())

    def _time_in_window(self, cls: TruckClass, arrival: float, end: float) -> float:
        account = self.cargo.get(cls.cargo)
        if account is not None and end > self.warmup:
            account.truck_hours += end - max(arrival, self.warmup)
        return end - arrival

    def _judge(self, cls: TruckClass, elapsed: float) -> None:
        account = self.cargo.get(cls.cargo)
        if account is not None and account.budget_h is not None:
            account.judged += 1
            account.over += elapsed > account.budget_h

    def left(self, truck: Truck, now: float, turned_back: bool) -> None:
        cls = truck.cls
        sojourn = self._time_in_window(cls, truck.arrival, now)
        counted = truck.arrival >= self.warmup
        if turned_back:
            if counted:
                self.back_count += 1
                self.back.add(sojourn)
                (self.back_before if truck.lane < 0 else self.back_after).add(sojourn)
            return
        if now >= self.warmup:
            self.class_exits[cls.index] += 1
        if counted:
            self.class_sojourn[cls.index].add(sojourn)
            self.wait_system.add(truck.wait)
            self.road.add(truck.road_time)
            self._judge(cls, sojourn)

    def refused(self, truck: Truck, place: int) -> None:
        if truck.arrival >= self.warmup:
            self.turned_away[place] = self.turned_away.get(place, 0) + 1

    def still_inside(self, trucks: list[Truck]) -> None:
        """Trucks inside at the horizon: censored time so far, costs, perishability."""
        for truck in trucks:
            elapsed = self._time_in_window(truck.cls, truck.arrival, self.horizon)
            self.censored.add(elapsed)
            if truck.arrival >= self.warmup:
                self._judge(truck.cls, elapsed)
