"""A truck's journey through the border: one SimPy generator a planner can follow.

arrive → park in the first yard (or queue on the road, or be turned away) → for each step of
its route: move to the step's yard, wait for a server (or a lane), be served (or cross) →
leave. A truck always takes its next place before it frees the one it holds, so a full yard
downstream holds the truck at its server upstream, as it does at the real gate. A truck whose
next step waits in the same yard keeps its slot while it is served (it parks back in it), so
consecutive steps that share a yard cannot deadlock. A choice of lanes is made once, when the
truck reaches that step (at arrival for a first step: the yard it then parks in, or queues on
the road for, is the chosen lane's).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from gatesim.engine.network import Place, Station
from gatesim.engine.trucks import TURN_BACK, Truck

if TYPE_CHECKING:
    from gatesim.engine.accounts import Accounts
    from gatesim.engine.records import Recorder


class Border(Protocol):
    """What a truck's journey asks of the replication it runs in (the model)."""

    default_road: Place
    rec: Recorder
    acc: Accounts

    def arrived(self, truck: Truck) -> None: ...

    def left(self, truck: Truck, turned_back: bool = False) -> None: ...

    def turned_away(self, truck: Truck, place: Place) -> None: ...

    def choose_station(self, step: Station | tuple[Station, ...], truck: Truck) -> Station: ...


def journey(env: simpy.Environment, truck: Truck, m: Border, road: Place | None = None
            ) -> Generator[simpy.Event, Any, None]:
    """The life of one truck, from arrival at the border to leaving it."""
    m.arrived(truck)
    path = truck.path
    first = path[0] if isinstance(path[0], Station) else m.choose_station(path[0], truck)
    held = first.place
    if held.has_room():
        held.enter(env.now)
        truck.at = held
    else:
        held = yield from park_on_arrival(env, truck, first.place, road, m)
        if held is None:
            return m.turned_away(truck, first.place)
    visits = m.rec.visits if truck.record else None
    waits = m.acc.station_wait
    ready = truck.arrival
    last_visit = None
    kept: Place | None = None  # the yard whose slot the truck keeps while it is served
    last = len(path) - 1
    for i, step in enumerate(path):
        if step is TURN_BACK:  # sent back part-way: it leaves from wherever it is
            held.vacate(env.now)
            if visits is not None:
                visits.append((*last_visit, env.now))
            return m.left(truck, turned_back=True)
        if i == 0:
            station = first  # a choice of lanes was made once, on arrival
            place = station.place
        else:  # move on from the last server (or lane) into this step's yard
            station = step if isinstance(step, Station) else m.choose_station(step, truck)
            place = station.place
            now = env.now
            if kept is not None:
                kept.return_to_slot(now)
                held.vacate(now)
            elif place.has_room():
                place.enter(now)
                truck.at = place
                held.vacate(now)
            else:
                yield from move(env, truck, place, held)
            if visits is not None:
                visits.append((*last_visit, env.now))
        kept = place if i < last and waits_in(path[i + 1], place) else None
        wait = station.pool.request(truck, place, kept is not None, station.door)
        if wait is not None:
            yield wait
        start = env.now
        truck.wait += start - ready
        if truck.counted:
            waits[station.index].add(start - ready)
        if station.is_lane:  # admitted onto the lane, then across it
            yield env.timeout(station.pool.headway)
            station.pool.release()
            station.crossing.add(1, env.now)
            yield env.timeout(truck.draws[station.transit_col])
            station.crossed += 1
            truck.lane = station.index
        else:
            yield env.timeout(truck.draws[station.col])
        end = env.now
        held = station
        last_visit = (truck.id, station.index, ready, start, end)
        ready = end
    held.vacate(env.now)
    if visits is not None:
        visits.append((*last_visit, env.now))
    m.left(truck)


def waits_in(step: Station | tuple[Station, ...], place: Place) -> bool:
    """Does this step (every lane alternative of it) wait in ``place``?"""
    if isinstance(step, Station):
        return step.place is place and place.slots is not None
    if isinstance(step, tuple):
        return all(st.place is place for st in step) and place.slots is not None
    return False


def park_on_arrival(env: simpy.Environment, truck: Truck, place: Place, road: Place | None,
                    m: Border) -> Generator[simpy.Event, Any, Place | None]:
    """The first yard is full: queue on the road for it, or be turned away (None)."""
    if place.overflow is None and place.turn_away:
        return None
    road = road or place.overflow or m.default_road
    road.enter(env.now)
    truck.at = road
    yield place.wait_for_slot(env, road, truck)
    truck.road_time += env.now - truck.arrival
    return place


def move(env: simpy.Environment, truck: Truck, place: Place, held: Place | Station
         ) -> Generator[simpy.Event, Any, None]:
    """``place`` is full: wait for a slot on its overflow road, or where the truck is (held
    at its server), then take it.

    The slot is taken and what the truck held freed in one step (see
    ``Place.wait_for_slot``), so the truck is in exactly one place at every instant.
    """
    road = place.overflow
    if road is None:
        yield place.wait_for_slot(env, held, truck)
        return
    road.enter(env.now)
    truck.at = road
    held.vacate(env.now)
    t = env.now
    yield place.wait_for_slot(env, road, truck)
    truck.road_time += env.now - t
