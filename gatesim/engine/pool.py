"""Servers a truck waits for: a stage's officers or bays, a lane side's admission, or an
acceptance several lanes share.

A pool's servers follow its timetable (calendar windows, each day's capacity factor, the other
side's daily cap) and its stoppages. Waiting trucks are kept in one FIFO per truck class (and
per lane side, at a shared acceptance), so a class that a window, a cap or a closed lane side
excludes does not hold up the others; the next truck served is the first in line of the most
urgent class (``priority``), first come first served within it.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from typing import TYPE_CHECKING, Protocol

import simpy

from gatesim.engine.monitors import Integral, Level
from gatesim.scenario.calendar import Interval

if TYPE_CHECKING:
    from gatesim.engine.trucks import Truck, TruckClass

Only = tuple[tuple[str, bool | str], ...]
URGENCY = 1 << 48
"""Dispatch orders waiting trucks by rank × URGENCY + arrival sequence number: a class ranked
higher always goes first, FIFO within it (fewer than 2⁴⁸ requests in any run)."""


class Place(Protocol):
    """The yard a truck leaves (or keeps its slot in) when a server is its."""

    def keep_slot(self, now: float) -> None: ...

    def leave(self, now: float) -> None: ...


class Stops:
    """A resource's stoppages in force (several may overlap) and the hours it was stopped."""

    __slots__ = ("active", "since", "spans")

    def __init__(self) -> None:
        self.active: list[float] = []
        self.since = 0.0
        self.spans: list[tuple[float, float]] = []

    @property
    def fraction(self) -> float:
        """The share of capacity lost now (the largest stoppage in force; 0 when up)."""
        return max(self.active) if self.active else 0.0

    def start(self, fraction: float, now: float) -> None:
        if not self.active:
            self.since = now
        self.active.append(fraction)

    def end(self, fraction: float, now: float) -> None:
        self.active.remove(fraction)
        if not self.active:
            self.spans.append((self.since, now))

    def hours(self, lo: float, hi: float) -> float:
        """Hours stopped within [lo, hi] (a stoppage still in force ends at ``hi``)."""
        spans = self.spans + ([(self.since, hi)] if self.active else [])
        return sum(max(0.0, min(e, hi) - max(s, lo)) for s, e in spans)


class Door:
    """One lane side at a shared acceptance: its own calendar decides which of its trucks the
    acceptance may take now; its queue is the trucks waiting for this side."""

    __slots__ = ("index", "pool", "intervals", "_ends", "open", "only", "stops", "queue",
                 "_eligible")

    def __init__(self, index: int, pool: Pool, intervals: list[Interval]) -> None:
        self.index, self.pool, self.intervals = index, pool, intervals
        self._ends = [iv.end for iv in intervals]
        self.open = False
        self.only: Only = ()
        self.stops = Stops()
        self.queue = Level()
        self._eligible: dict[int, bool] = {}

    def allows(self, cls: TruckClass) -> bool:
        if not self.open or self.stops.active:
            return False
        ok = self._eligible.get(cls.index)
        if ok is None:
            ok = self._eligible[cls.index] = cls.satisfies(self.only)
        return ok

    def set_calendar(self, servers: int, only: Only) -> None:
        self.open = servers > 0
        if only != self.only:
            self.only = only
            self._eligible.clear()
        self.pool.dispatch()

    def stop(self, fraction: float, now: float) -> None:
        self.stops.start(fraction, now)

    def resume(self, fraction: float, now: float) -> None:
        self.stops.end(fraction, now)
        self.pool.dispatch()

    def wait_to_open(self, cls: TruckClass, now: float) -> float:
        """Hours from ``now`` until this side's calendar lets ``cls`` in (inf if never)."""
        for i in range(bisect_right(self._ends, now), len(self.intervals)):
            iv = self.intervals[i]
            if not iv.only or cls.satisfies(iv.only):
                return max(iv.start, now) - now
        return math.inf


class Pool:
    """Servers on a timetable, with a daily cap, stoppages and priorities (see the module)."""

    def __init__(self, env: simpy.Environment, name: str, intervals: list[Interval],
                 daily_cap: dict[str, int], headway: float = 0.0,
                 priority: tuple[dict, ...] = (), cap_varies: bool = False) -> None:
        self.env, self.name = env, name
        self.headway = self._base_headway = headway
        """Admission time of one truck (a lane or an acceptance); 0 for a stage's servers."""
        self.capacity = self._base = 0
        self.only: Only = ()
        self.busy = 0
        """Servers holding a truck (serving it, or held by a full yard downstream)."""
        self.intervals = intervals
        """Calendar windows with servers on duty (days without servers left out)."""
        self._ends = [iv.end for iv in intervals]
        self.on_duty = Integral()
        self.queue = Level()
        self.used = Integral()
        """Busy servers while on duty, min(busy, on duty); utilisation = its area / on_duty's."""
        self.stops = Stops()
        self.queues: dict[object, deque[tuple[int, simpy.Event, Truck, Place, bool]]] = {}
        self._lines: list[tuple[deque, Door | None, int]] = []
        """Each queue with its door and its class's urgency (rank × URGENCY), for dispatch."""
        self._seq = 0
        self._eligible: dict[int, bool] = {}
        self.priority = priority
        self._rank: dict[int, int] = {}
        self.cap_total = daily_cap.get("total")
        self.cap_cargo = {k: v for k, v in daily_cap.items() if k != "total"}
        self.has_cap = bool(daily_cap)
        self.cap_varies = cap_varies
        self.open_to_all = not self.has_cap
        """No window restriction and no cap: every truck may start when a server is free."""
        self.served_today: dict[str, int] = {}
        self.served_total_today = 0
        self.next_cap_day = math.inf
        """When the other side's next cap day starts (set by the timetable)."""

    # --- the timetable, the daily cap, stoppages ------------------------------------------
    def set_calendar(self, servers: int, only: Only) -> None:
        self._base = servers
        if only != self.only:
            self.only = only
            self._eligible.clear()
        self.open_to_all = not only and not self.has_cap
        self._apply()

    def set_headway(self, headway: float) -> None:
        self._base_headway = headway
        self._apply()

    def new_cap_day(self, next_day: float, caps: dict[str, int] | None = None) -> None:
        """A new day of the other side's cap (with that day's caps when they vary)."""
        self.served_today = {}
        self.served_total_today = 0
        self.next_cap_day = next_day
        if caps is not None:
            self.cap_total = caps.get("total")
            self.cap_cargo = {k: v for k, v in caps.items() if k != "total"}
        self.dispatch()

    def stop(self, fraction: float, now: float) -> None:
        self.stops.start(fraction, now)
        self._apply()

    def resume(self, fraction: float, now: float) -> None:
        self.stops.end(fraction, now)
        self._apply()

    def _apply(self) -> None:
        """Servers and headway now, from the timetable's and the stoppages' settings: a
        partial stoppage keeps ⌊servers·(1 − f)⌋ of a stage's servers, and slows a lane's or
        an acceptance's admission to (1 − f) of its rate."""
        f = self.stops.fraction
        capacity, headway = self._base, self._base_headway
        if f >= 1 or headway == math.inf:  # stopped, or a day whose factor is 0
            capacity = 0
        elif f > 0:
            if headway > 0:
                headway = headway / (1 - f)
            else:
                capacity = math.floor(capacity * (1 - f))
        self.headway = headway
        if capacity != self.capacity:
            now = self.env.now
            self.on_duty.add(capacity - self.capacity, now)
            self.capacity = capacity
            used = min(self.busy, capacity)
            if used != self.used.value:
                self.used.add(used - self.used.value, now)
        self.dispatch()

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

    def wait_to_open(self, cls: TruckClass, now: float, door: Door | None = None) -> float:
        """Hours from ``now`` until this pool may start a truck of ``cls`` (servers aside):
        0 while a window open to the truck runs and today's cap has room; else until the next
        such window (from the next cap day when today's cap is used up); inf if none is left.
        Computed only when a truck chooses between lanes."""
        t = now + (door.wait_to_open(cls, now) if door is not None else 0.0)
        if self.has_cap and not self._cap_has_room(cls):
            if not self.cap_varies and (self.cap_total == 0 or self.cap_cargo.get(cls.cargo) == 0):
                return math.inf
            t = max(t, self.next_cap_day)
        intervals = self.intervals
        for i in range(bisect_right(self._ends, t), len(intervals)):
            iv = intervals[i]
            if not iv.only or cls.satisfies(iv.only):
                return max(iv.start, t) - now
        return math.inf

    # --- requests -------------------------------------------------------------------------
    def request(self, truck: Truck, place: Place, keep_slot: bool = False,
                door: Door | None = None) -> simpy.Event | None:
        """Take a server for the truck, which then leaves ``place`` (keeping its slot there
        when ``keep_slot``). None when a server was free (nothing to wait for), else an event
        that fires when one is the truck's."""
        cls = truck.cls
        if self.busy < self.capacity and (self.open_to_all or self.admits(cls)) and (
                door is None or door.allows(cls)):
            self._grant(truck, place, keep_slot)
            return None
        ev = self.env.event()
        now = self.env.now
        self.queue.add(1, now)
        key: object = cls.index
        if door is not None:
            door.queue.add(1, now)
            key = (door.index, cls.index)
        self._seq += 1
        q = self.queues.get(key)
        if q is None:
            q = self.queues[key] = deque()
            self._lines.append((q, door, self.rank(cls) * URGENCY))
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
            self.dispatch()

    def rank(self, cls: TruckClass) -> int:
        """The class's place in ``priority`` (0 first); classes matching none come last."""
        r = self._rank.get(cls.index)
        if r is None:
            r = next((i for i, c in enumerate(self.priority) if cls.satisfies(c)),
                     len(self.priority))
            self._rank[cls.index] = r
        return r

    def dispatch(self) -> None:
        """Start waiting trucks while servers are free: of the queues whose first truck may
        start, the most urgent class's, the earliest arrival first."""
        while self.busy < self.capacity and self.queue.value:
            best = best_door = None
            best_order = math.inf
            for q, door, urgency in self._lines:
                if q:
                    head = q[0]
                    order = urgency + head[0]
                    if order < best_order and (self.open_to_all or self.admits(head[2].cls)) and (
                            door is None or door.allows(head[2].cls)):
                        best, best_door, best_order = q, door, order
            if best is None:
                return
            _, ev, truck, place, keep_slot = best.popleft()
            now = self.env.now
            self.queue.add(-1, now)
            if best_door is not None:
                best_door.queue.add(-1, now)
            self._grant(truck, place, keep_slot)
            ev.succeed()
