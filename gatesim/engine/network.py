"""The physical network built from a scenario: places (yards, roads) and stations.

A *place* holds parked trucks (a yard with slots, or an unlimited road). A *station* is where a
route step is served: a stage's pool of servers, or one direction of a lane (its own admission
pool, or a door onto an acceptance it shares with other lanes; see pool.py), with the place its
trucks wait in. All are plain Python objects around SimPy events: the truck's journey
(journey.py) asks them for a slot or a server and they answer in FIFO order.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Protocol

import simpy

from gatesim.engine.monitors import Level
from gatesim.engine.pool import Door, Pool
from gatesim.errors import GatesimError

if TYPE_CHECKING:
    from gatesim.engine.trucks import Truck, TruckClass


class Holding(Protocol):
    """Anything a truck occupies and frees when it moves on (a place, a server, a lane)."""

    def vacate(self, now: float) -> None: ...


class Place:
    """A yard with ``slots`` places (None = unlimited, e.g. a road).

    ``level`` counts the slots taken: trucks parked here and trucks in service that keep their
    slot here (``reserved`` of them, coming straight back), so it is the yard's physical
    occupancy and never exceeds ``slots``. Trucks parked = ``level - reserved``.
    """

    __slots__ = ("name", "index", "slots", "level", "waiters", "overflow", "turn_away", "is_road",
                 "reserved")

    def __init__(self, name: str, index: int, slots: int | None, is_road: bool) -> None:
        self.name, self.index, self.slots, self.is_road = name, index, slots, is_road
        self.level = Level()
        self.waiters: deque[tuple[simpy.Event, Holding, Truck]] = deque()
        self.overflow: Place | None = None
        """The road where a truck that finds this yard full waits; None: it waits where it is
        (an arriving truck then waits on the first road, unless ``turn_away``)."""
        self.turn_away = False
        self.reserved = 0
        """Slots kept by trucks in service that will come straight back to this yard."""

    def has_room(self) -> bool:
        return self.slots is None or (self.level.value < self.slots and not self.waiters)

    def keep_slot(self, now: float) -> None:
        """The truck goes to service but its slot stays taken (it comes back here next)."""
        self.reserved += 1

    def return_to_slot(self, now: float) -> None:
        self.reserved -= 1

    def enter(self, now: float) -> None:
        self.level.add(1, now)

    def wait_for_slot(self, env: simpy.Environment, held: Holding, truck: Truck
                      ) -> simpy.Event:
        """An event that fires when a slot is this truck's (FIFO).

        The hand-over is one atomic move: the slot passes to the waiter and what the waiter
        held (its place on the road, or its server) is freed at the same instant.
        """
        ev = env.event()
        self.waiters.append((ev, held, truck))
        return ev

    def leave(self, now: float) -> None:
        """Free a slot, handing it straight to the first waiter (the count does not drop)."""
        if self.waiters:
            ev, held, truck = self.waiters.popleft()
            held.vacate(now)
            truck.at = self
            ev.succeed()
        else:
            self.level.add(-1, now)

    vacate = leave


class Road(Place):
    """An unlimited waiting line; every road also counts towards the total on all roads."""

    __slots__ = ("total",)

    def __init__(self, name: str, index: int, total: Level) -> None:
        super().__init__(name, index, None, True)
        self.total = total

    def enter(self, now: float) -> None:
        self.level.add(1, now)
        self.total.add(1, now)

    def leave(self, now: float) -> None:
        self.level.add(-1, now)
        self.total.add(-1, now)

    vacate = leave


class Station:
    """Where a step is served: a stage's servers, or one direction of a lane."""

    __slots__ = ("scope", "index", "place", "pool", "door", "col", "transit_col",
                 "is_lane", "lane", "eligible", "crossing", "crossed", "queue")

    def __init__(self, scope: str, index: int, place: Place, pool: Pool, col: int,
                 is_lane: bool = False, lane: str = "", transit_col: int = -1,
                 eligible: dict | None = None, door: Door | None = None) -> None:
        """``scope``: the station's name in results (a stage, or ``<lane>.<direction>``);
        ``door``: the lane side's way onto a shared acceptance (``pool``), else None."""
        self.scope, self.index, self.place, self.pool = scope, index, place, pool
        self.col, self.transit_col, self.door = col, transit_col, door
        self.is_lane, self.lane, self.eligible = is_lane, lane, eligible or {}
        self.queue = pool.queue if door is None else door.queue
        """Trucks waiting for this station (at a shared acceptance: for this lane side)."""
        self.crossing = Level()
        self.crossed = 0

    def vacate(self, now: float) -> None:
        """The truck leaves the server (a stage) or the far end of the lane."""
        if self.is_lane:
            self.crossing.add(-1, now)
        else:
            self.pool.release()


def choose_lane(options: tuple[Station, ...], cls: TruckClass, now: float, u: float) -> Station:
    """Of a choice of lanes, the one open to ``cls`` with the least expected delay: the wait
    until it opens to the truck with room in the other side's daily cap, plus the trucks
    waiting for it over its rate. A lane open now beats one that is not, whatever their
    queues; a tie goes to ``u``, the truck's own uniform draw (common random numbers)."""
    best: list[Station] = []
    best_key = (True, math.inf)
    for st in options:
        if not cls.satisfies(st.eligible):
            continue
        closed = st.pool.wait_to_open(cls, now, st.door)
        key = (closed > 0, closed + st.pool.queue.value * st.pool.headway)
        if not best or key < best_key:
            best, best_key = [st], key
        elif key == best_key:
            best.append(st)
    if not best:
        names = ", ".join(st.lane for st in options)
        raise GatesimError(f"no lane of [{names}] admits trucks with {cls.values}")
    return best[0] if len(best) == 1 else best[int(u * len(best))]


def waiting_in(step: Station | tuple[Station, ...], yard: Place
               ) -> Station | tuple[Station, ...] | None:
    """The part of a path step that waits in ``yard`` (of a choice of lanes, the lanes that
    do), or None when no part of it does."""
    options = (step,) if isinstance(step, Station) else step
    here = tuple(st for st in options if st.place is yard)
    if not here:
        return None
    return here[0] if len(here) == 1 else here


def places_of(step: Station | tuple[Station, ...]) -> str:
    """The names of the places a path step waits in, for messages."""
    options = (step,) if isinstance(step, Station) else step
    return ", ".join(sorted({st.place.name for st in options}))
