"""The physical network built from a scenario: places (yards, roads), server pools, stations.

A *place* holds parked trucks (a yard with slots, or an unlimited road). A *pool* is a group of
servers (customs officers, inspection bays, a lane's admission) whose on-duty count follows a
calendar, which may be open only to some trucks, and which may be limited by the other side's
daily acceptance cap. A *station* is where a route step is served: a stage's pool, or one
direction of a lane, with the place its trucks wait in. All are plain Python objects around
SimPy events: the truck's journey (journey.py) asks them for a slot or a server and they
answer in FIFO order.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import simpy

from gatesim.engine.monitors import Integral, Level
from gatesim.errors import GatesimError
from gatesim.scenario.calendar import ALWAYS, Interval

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


class Pool:
    """Servers on a calendar, FIFO among the trucks that may be served now.

    Waiting trucks are kept in one FIFO per truck class, so a class that the window or the
    daily cap excludes does not hold up the others, and eligibility is decided per class.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        index: int,
        servers: int,
        intervals: list[Interval],
        daily_cap: dict[str, int],
        cap_day_start: float,
        horizon: float,
    ) -> None:
        self.env, self.name, self.index = env, name, index
        self.default_servers = servers
        self.capacity = 0
        self.only: tuple[tuple[str, bool | str], ...] = ()
        self.busy = 0
        """Servers holding a truck (serving it, or held by a full yard downstream)."""
        self.intervals = intervals
        self._ends = [iv.end for iv in intervals]
        self.on_duty = Integral()
        self.queue = Level()
        self.used = Integral()
        """Busy servers while on duty, min(busy, on duty); utilisation = its area / on_duty's."""
        self.queues: dict[int, deque[tuple[int, simpy.Event, Truck, Place, bool]]] = {}
        self._seq = 0
        self._eligible: dict[int, bool] = {}
        self.cap_total = daily_cap.get("total")
        self.cap_cargo = {k: v for k, v in daily_cap.items() if k != "total"}
        self.has_cap = bool(daily_cap)
        self.open_to_all = not self.has_cap
        """No window restriction and no cap: every truck may start when a server is free."""
        self.served_today: dict[str, int] = {}
        self.served_total_today = 0
        self.next_cap_day = cap_day_start if cap_day_start > 0 else cap_day_start + 24.0
        """When the other side's next cap day starts (the first one at t = 0 is not a change)."""
        env.process(self._timetable(intervals, cap_day_start, horizon))

    # --- the calendar and the daily cap -------------------------------------------------------
    def _timetable(self, intervals: list[Interval], cap_day: float, horizon: float):
        # (time, order, change): a new cap day comes before a window opening at the same time.
        changes: list[tuple[float, int, Callable[[], None]]] = []
        for iv in intervals:
            servers = iv.servers or self.default_servers
            changes.append((iv.start, 1, lambda s=servers, o=iv.only: self._set(s, o)))
            if iv.end < ALWAYS:
                changes.append((iv.end, 1, lambda: self._set(0, ())))
        if self.has_cap:
            day = cap_day
            while day < horizon:
                if day > 0:
                    changes.append((day, 0, self._new_cap_day))
                day += 24.0
        changes.sort(key=lambda c: (c[0], c[1]))
        for t, _, change in changes:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            change()
            self._dispatch()

    def _set(self, capacity: int, only: tuple[tuple[str, bool | str], ...]) -> None:
        now = self.env.now
        self.on_duty.add(capacity - self.capacity, now)
        self.capacity = capacity
        used = min(self.busy, capacity)
        if used != self.used.value:
            self.used.add(used - self.used.value, now)
        if only != self.only:
            self.only = only
            self._eligible.clear()
        self.open_to_all = not only and not self.has_cap

    def _new_cap_day(self) -> None:
        self.served_today = {}
        self.served_total_today = 0
        self.next_cap_day = self.env.now + 24.0

    def admits(self, cls: TruckClass) -> bool:
        """May a truck of this class start service now (window restriction and daily cap)?"""
        ok = self._eligible.get(cls.index)
        if ok is None:
            ok = self._eligible[cls.index] = cls.satisfies(self.only)
        if ok and self.has_cap:
            return self._cap_has_room(cls)
        return ok

    def _cap_has_room(self, cls: TruckClass) -> bool:
        if self.cap_total is not None and self.served_total_today >= self.cap_total:
            return False
        cap = self.cap_cargo.get(cls.cargo)
        return cap is None or self.served_today.get(cls.cargo, 0) < cap

    def wait_to_open(self, cls: TruckClass, now: float) -> float:
        """Hours from ``now`` until this pool may start a truck of ``cls`` (servers aside):
        0 while a window open to the truck runs and today's cap has room; else until the next
        such window (from the next cap day when today's cap is used up); inf if none is left.
        Computed only when a truck chooses between lanes."""
        t = now
        if self.has_cap and not self._cap_has_room(cls):
            if self.cap_total == 0 or self.cap_cargo.get(cls.cargo) == 0:
                return math.inf
            t = max(now, self.next_cap_day)
        intervals = self.intervals
        for i in range(bisect_right(self._ends, t), len(intervals)):
            iv = intervals[i]
            if not iv.only or cls.satisfies(iv.only):
                return max(iv.start, t) - now
        return math.inf

    # --- requests -----------------------------------------------------------------------------
    def request(self, truck: Truck, place: Place, keep_slot: bool = False
                ) -> simpy.Event | None:
        """Take a server for the truck, which then leaves ``place`` (keeping its slot there
        when ``keep_slot``). None when a server was free (nothing to wait for), else an event
        that fires when one is the truck's."""
        cls = truck.cls
        if self.busy < self.capacity and (self.open_to_all or self.admits(cls)):
            self._grant(truck, place, keep_slot)
            return None
        ev = self.env.event()
        self.queue.add(1, self.env.now)
        self._seq += 1
        q = self.queues.get(cls.index)
        if q is None:
            q = self.queues[cls.index] = deque()
        q.append((self._seq, ev, truck, place, keep_slot))
        return ev

    def _grant(self, truck: Truck, place: Place, keep_slot: bool) -> None:
        now = self.env.now
        self.busy += 1
        self.used.add(1, now)  # granted only while busy < capacity: on duty
        if keep_slot:
            place.keep_slot(now)
        else:
            place.leave(now)
            truck.at = None
        if self.has_cap:
            cls = truck.cls
            self.served_total_today += 1
            self.served_today[cls.cargo] = self.served_today.get(cls.cargo, 0) + 1

    def release(self) -> None:
        if self.busy <= self.capacity:  # otherwise this server was on overtime
            self.used.add(-1, self.env.now)
        self.busy -= 1
        if self.queue.value:
            self._dispatch()

    def _dispatch(self) -> None:
        while self.busy < self.capacity:
            best = None
            for q in self.queues.values():
                if q and (best is None or q[0][0] < best[0][0]) and self.admits(q[0][2].cls):
                    best = q
            if best is None:
                return
            _, ev, truck, place, keep_slot = best.popleft()
            self.queue.add(-1, self.env.now)
            self._grant(truck, place, keep_slot)
            ev.succeed()


class Station:
    """Where a step is served: a stage's servers, or one direction of a lane."""

    __slots__ = ("scope", "index", "place", "pool", "col", "transit_col", "headway",
                 "is_lane", "lane", "eligible", "crossing", "crossed")

    def __init__(self, scope: str, index: int, place: Place, pool: Pool, col: int,
                 is_lane: bool = False, lane: str = "", headway: float = 0.0,
                 transit_col: int = -1, eligible: dict | None = None) -> None:
        """``scope``: the station's name in results (a stage, or ``<lane>.<direction>``)."""
        self.scope, self.index, self.place, self.pool = scope, index, place, pool
        self.col, self.transit_col, self.headway = col, transit_col, headway
        self.is_lane, self.lane, self.eligible = is_lane, lane, eligible or {}
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
        closed = st.pool.wait_to_open(cls, now)
        key = (closed > 0, closed + st.pool.queue.value * st.headway)
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
