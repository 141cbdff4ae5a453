"""Build one replication's SimPy model from a scenario, run it, return what it counted.

Places, pools and stations come from the scenario's mappings (never one copy per lane);
routes are expanded into a station list per truck at its arrival, from the truck's own draws.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import time
from collections.abc import Callable
from typing import Any

import simpy

from gatesim.engine.accounts import SAMPLE_EVERY, Accounts, CargoAccount
from gatesim.engine.arrivals import ArrivalClock
from gatesim.engine.journey import journey
from gatesim.engine.monitors import Level
from gatesim.engine.network import Place, Road, Station, choose_lane, places_of, waiting_in
from gatesim.engine.observe import Observer
from gatesim.engine.records import Recorder, ReplicationOutput
from gatesim.engine.replayed import replayed
from gatesim.engine.resources import Resources
from gatesim.engine.rng import TruckDraws
from gatesim.engine.routes import (
    branch_names,
    choose_steps,
    cumulative,
    has_lane_choice,
    option_index,
    pick,
)
from gatesim.engine.trucks import TURN_BACK, Truck, TruckClass
from gatesim.errors import GatesimError
from gatesim.scenario.replay import Kind, replay_of
from gatesim.scenario.schema import (
    TURN_AWAY,
    ExitStep,
    LaneStep,
    Scenario,
    StageStep,
    Step,
)

Audit = Callable[["Model"], None]
RECORDS = {"all": 1, "sample": SAMPLE_EVERY, "none": 0}


class Model:
    """One replication: the SimPy environment and everything built in it."""

    def __init__(self, s: Scenario, seed: int, replication: int, records: str = "all") -> None:
        self.s, self.seed, self.replication = s, seed, replication
        if records not in RECORDS:
            raise ValueError(f"records: got {records!r}; expected one of {sorted(RECORDS)}")
        self.record_every = RECORDS[records]
        self.env = env = simpy.Environment()
        self.horizon = s.clock.horizon_days * 24
        if s.clock.warmup_days == "auto":
            raise ValueError("resolve warmup_days='auto' before building a model (experiments.run)")
        self.warmup = s.clock.warmup_days * 24
        self.rec = Recorder()
        self.system = Level()
        self.all_roads = Level()
        self.n_arrived = self.n_left = self.n_turned = self.n_back = 0
        self._ids = 0
        self.live: dict[int, Truck] = {}
        """Trucks in the system now, by id."""
        self._build_places()
        self._build_stations()
        cargo = {k: CargoAccount(c.time_budget_h) for k, c in s.cargo.items()}
        self.acc = Accounts(self.warmup, self.horizon, cargo, len(self.stations))
        self._build_draws()
        for index, name in enumerate(s.arrivals):
            env.process(self._source(index, name))
        self._initial_trucks()
        self.observer = Observer(self)

    # --- building -------------------------------------------------------------------------
    def _build_places(self) -> None:
        s = self.s
        self.places: dict[str, Place] = {}
        for name in s.roads:
            self.places[name] = Road(name, len(self.places), self.all_roads)
        for name, yard in s.yards.items():
            self.places[name] = Place(name, len(self.places), yard.slots, False)
        for name, yard in s.yards.items():
            place = self.places[name]
            place.turn_away = yard.overflow == TURN_AWAY
            if yard.overflow not in (None, TURN_AWAY):
                place.overflow = self.places[yard.overflow]
        self.default_road = self.places[s.roads[0]]
        self.roads = [self.places[r] for r in s.roads]

    def _build_stations(self) -> None:
        s = self.s
        self.stations: list[Station] = []
        self.by_stage: dict[str, Station] = {}
        self.by_lane: dict[tuple[str, str], Station] = {}
        self.purposes: list[tuple[str, Callable]] = []
        res = self.resources = Resources(s, self.env, self.seed, self.replication, self.horizon)
        for name, stage in s.stages.items():
            col = self._purpose(f"service:{name}", stage.service.ppf_h)
            st = Station(name, len(self.stations), self.places[stage.yard],
                         res.stage(name, stage), col)
            self.stations.append(st)
            self.by_stage[name] = st
        for name, lane in s.lanes.items():
            transit = self._purpose(f"crossing:{name}", lane.crossing_time.ppf_h)
            for direction in ("export", "import"):
                side = lane.side(direction)
                if side is None:
                    continue
                pool, door = res.lane_side(name, direction, side, lane.cap_clock_offset_h)
                st = Station(f"{name}.{direction}", len(self.stations), self.places[side.yard],
                             pool, -1, is_lane=True, lane=name, transit_col=transit,
                             eligible=lane.eligible, door=door)
                self.stations.append(st)
                self.by_lane[(name, direction)] = st
        res.start_stoppages()

    def _purpose(self, name: str, transform: Callable) -> int:
        self.purposes.append((name, transform))
        return len(self.purposes) - 1

    def _build_draws(self) -> None:
        """Per-stream purpose columns after the shared service/crossing ones."""
        s = self.s
        identity: Callable = lambda u: u  # noqa: E731
        self.branch_cols: dict[str, int] = {}
        for name in sorted({b for r in s.routes.values() for b in branch_names(r.steps)}):
            self.branch_cols[name] = self._purpose(f"branch:{name}", identity)
        self.attr_cols: dict[str, int] = {}
        names = sorted(set(s.attributes) | {k for a in s.arrivals.values() for k in a.attributes})
        for name in names:
            self.attr_cols[name] = self._purpose(f"attr:{name}", identity)
        self.site_col = self._purpose("site", identity)
        self.lane_col = -1
        """The truck's draw that breaks a tie between lanes (only when a route offers a choice)."""
        if any(has_lane_choice(r.steps) for r in s.routes.values()):
            self.lane_col = self._purpose("lane_choice", identity)
        self.routes = {(r.direction, r.cargo, r.site): r for r in s.routes.values()}
        self._stream_specs: list[tuple] = []
        for spec in s.arrivals.values():
            shares = {**s.attributes, **spec.attributes}
            cols = [(c, shares.get(k, 0.0)) for k, c in self.attr_cols.items()]
            self._stream_specs.append((spec, cols, None))
        self.classes: dict[tuple, TruckClass] = {}
        for i, (spec, cols, _) in enumerate(self._stream_specs):
            if not isinstance(spec.site, dict) and all(p in (0.0, 1.0) for _, p in cols):
                # nothing random decides this stream's class: build it once
                self._stream_specs[i] = (spec, cols, self._truck_class(i, [0.5] * len(
                    self.purposes)))
        self._paths: dict[tuple, list] = {}
        """Paths already expanded, by (class, option taken at each branch of its route)."""
        self._route_branches = {
            key: [(self.branch_cols[step.choose], cumulative(step))
                  for step in choose_steps(r.steps)]
            for key, r in self.routes.items()}

    # --- trucks ---------------------------------------------------------------------------
    def _truck_class(self, stream: int, draws: list[float], kind: Kind | None = None
                     ) -> TruckClass:
        """The class of a truck of ``stream``: its site and attributes from its own draws,
        or as a replayed row gives them (``kind``: what the row says; the rest is drawn)."""
        spec, shares, fixed = self._stream_specs[stream]
        if fixed is not None and kind is None:
            return fixed
        direction, cargo, site = spec.direction, spec.cargo, spec.site
        if kind is None:
            attrs = tuple([draws[c] < p for c, p in shares])
        else:
            direction, cargo, site, given = kind.direction, kind.cargo, kind.site, dict(
                kind.attributes)
            attrs = tuple([given[n] if n in given else draws[c] < p
                           for n, (c, p) in zip(self.attr_cols, shares, strict=True)])
        if isinstance(site, dict):
            site = pick(site, draws[self.site_col])
        key = (stream, direction, cargo, site, attrs)
        cls = self.classes.get(key)
        if cls is None:
            values = {"direction": direction, "cargo": cargo, "site": site,
                      **dict(zip(self.attr_cols, attrs, strict=True))}
            cls = self.classes[key] = TruckClass(len(self.classes), direction, cargo, site,
                                                 values)
            self.acc.new_class()
        return cls

    def _expand(self, steps: list[Step], cls: TruckClass, draws: list[float], out: list,
                outcomes: dict[str, str]) -> bool:
        """Append the stations (or lane alternatives) this truck will visit; True once the
        route ends early (an exit step). ``outcomes`` records the branches taken so far, which
        later ``when:`` conditions may ask about."""
        for step in steps:
            if step.when and not all(outcomes.get(k, cls.values.get(k)) == v
                                     for k, v in step.when.items()):
                continue
            if isinstance(step, StageStep):
                out.append(self.by_stage[step.stage])
            elif isinstance(step, LaneStep):
                lanes = [step.lane] if isinstance(step.lane, str) else step.lane
                options = tuple(self.by_lane[(lane, cls.direction)] for lane in lanes)
                out.append(options[0] if len(options) == 1 else options)
            elif isinstance(step, ExitStep):
                out.append(TURN_BACK)
                return True
            else:
                name = pick({k: o.p for k, o in step.options.items()},
                            draws[self.branch_cols[step.choose]])
                outcomes[step.choose] = name
                if self._expand(step.options[name].steps, cls, draws, out, outcomes):
                    return True
        return False

    def new_truck(self, stream: int, draws: list[float], kind: Kind | None = None) -> Truck:
        """Truck *k* of ``stream`` with its row of draws (and a replayed row's ``kind``)."""
        cls = self._truck_class(stream, draws, kind)
        route_key = (cls.direction, cls.cargo, cls.site)
        # the path depends only on the class and the option each branch takes
        key = (cls.index, *[option_index(cum, draws[col])
                            for col, cum in self._route_branches[route_key]])
        path = self._paths.get(key)
        if path is None:
            path = []
            self._expand(self.routes[route_key].steps, cls, draws, path, {})
            if not path or path[0] is TURN_BACK:
                raise GatesimError(f"a truck of {list(self.s.arrivals)[stream]} with "
                                   f"{cls.values} has no step on its route before it leaves")
            self._paths[key] = path
        self._ids += 1
        now = self.env.now
        every = self.record_every
        return Truck(self._ids, stream, cls, now, path, draws, now >= self.warmup,
                     every > 0 and self._ids % every == 0)

    def choose_station(self, step: Station | tuple[Station, ...], truck: Truck) -> Station:
        """A fixed station, or the lane of a choice with the least expected delay (ties go to
        the truck's own draw; see ``network.choose_lane``)."""
        if isinstance(step, Station):
            return step
        return choose_lane(step, truck.cls, self.env.now, truck.draws[self.lane_col])

    def _source(self, index: int, name: str):
        s = self.s
        spec = s.arrivals[name]
        if spec.replay is not None:
            yield from replayed(self, index, name, replay_of(s, name))
            return
        factor = None if spec.daily_factor is None else self.resources.factors.series(
            spec.daily_factor, f"arrivals.{name}.daily_factor")
        clock = ArrivalClock(spec, name, s.clock.start, self.horizon, self.seed,
                             self.replication, factor)
        draws = self.draws_for(name)
        env = self.env
        while (t := clock.next()) < math.inf:
            yield env.timeout(t - env.now)
            truck = self.new_truck(index, draws.next_row())
            env.process(journey(env, truck, self))

    def draws_for(self, owner: str) -> TruckDraws:
        return TruckDraws(self.seed, self.replication, owner, self.purposes)

    def _initial_trucks(self) -> None:
        """Trucks already waiting at t = 0, with draws of their own (``<stream>/initial``):
        on a road (they queue there for their first yard), or in the yard named, which must be
        where their route's first step waits."""
        names = list(self.s.arrivals)
        for i, init in enumerate(self.s.initial_state):
            draws = self.draws_for(f"{init.stream}/initial")
            at = self.places[init.at]
            for _ in range(init.count):
                truck = self.new_truck(names.index(init.stream), draws.next_row())
                if not at.is_road:
                    first = waiting_in(truck.path[0], at)
                    if first is None:
                        raise GatesimError(
                            f"initial_state[{i}].at: got {init.at}; expected a road, or the "
                            f"yard where the route of {init.stream} trucks with "
                            f"{truck.cls.values} starts ({places_of(truck.path[0])})")
                    if first is not truck.path[0]:  # only some lanes of a choice wait here
                        truck.path = [first, *truck.path[1:]]
                self.env.process(journey(self.env, truck, self, at if at.is_road else None))

    # --- bookkeeping called by the journey ----------------------------------------------
    def arrived(self, truck: Truck) -> None:
        self.n_arrived += 1
        self.live[truck.id] = truck
        self.system.add(1, self.env.now)

    def _record(self, truck: Truck, exit: float, turned_away: int, turned_back: bool) -> None:
        self.rec.truck((truck.id, truck.stream, truck.cls.index, truck.arrival, exit,
                        truck.road_time, truck.lane, turned_away, int(turned_back)))

    def turned_away(self, truck: Truck, place: Place) -> None:
        self.n_turned += 1
        del self.live[truck.id]
        self.system.add(-1, self.env.now)
        self.acc.refused(truck, place.index)
        if truck.record:
            self._record(truck, self.env.now, place.index, False)

    def left(self, truck: Truck, turned_back: bool = False) -> None:
        """The truck leaves the system: its route done, or sent back part-way."""
        now = self.env.now
        if turned_back:
            self.n_back += 1
        else:
            self.n_left += 1
        del self.live[truck.id]
        self.system.add(-1, now)
        self.acc.left(truck, now, turned_back)
        if truck.record:
            self._record(truck, now, -1, turned_back)

    # --- running --------------------------------------------------------------------------
    def run(self, audit: Audit | None = None) -> ReplicationOutput:
        t0 = time.perf_counter()
        env, events = self.env, 0
        thresholds = gc.get_threshold()
        gc.set_threshold(100_000, 50, 100)  # trucks make many short-lived objects, few cycles
        try:
            if audit is None:
                env.run(until=self.horizon)
            else:
                while env.peek() < self.horizon:
                    env.step()
                    events += 1
                    audit(self)
                env.run(until=self.horizon)
        finally:
            gc.set_threshold(*thresholds)
        levels, utilisation = self.observer.finish()
        if self.n_arrived != self.n_left + self.n_back + self.n_turned + self.system.value:
            raise RuntimeError("truck conservation violated: arrived != left + turned + inside")
        inside = list(self.live.values())
        self.acc.still_inside(inside)
        for truck in inside:
            if truck.record:
                self._record(truck, math.nan, -1, False)
        trucks, visits = self.rec.arrays()
        crossed = [st.crossed - c0 for st, c0 in zip(self.stations,
                                                      self.observer.crossed_at_warmup, strict=True)]
        return ReplicationOutput(
            replication=self.replication, seed=self.seed, trucks=trucks, visits=visits,
            levels=levels, utilisation=utilisation, timeseries=self.observer.timeseries,
            names=self.names(), warmup_h=self.warmup, horizon_h=self.horizon,
            accounts=self.acc, n_arrived=self.n_arrived, inside=len(inside), crossed=crossed,
            daily_in_system=self.observer.daily_in_system,
            runtime_s=time.perf_counter() - t0, events=events,
            stopped_h=self.resources.stopped_hours(self.warmup, self.horizon),
            daily_caps=self.resources.daily_caps, daily_factors=self.resources.factors.drawn)

    def names(self) -> dict[str, Any]:
        return {
            "streams": list(self.s.arrivals),
            "stations": [st.scope for st in self.stations],
            "station_is_lane": [st.is_lane for st in self.stations],
            "station_lane": [st.lane for st in self.stations],
            "places": list(self.places),
            "classes": [(c.direction, c.cargo, c.site) for c in self.classes.values()],
            "class_attributes": [
                {k: c.values[k] for k in self.attr_cols} for c in self.classes.values()],
            "start": self.s.clock.start.isoformat(),
            "cargo": {k: c.model_dump() for k, c in self.s.cargo.items()},
            "capacity_cost_per_day": sum(
                (y.slots or 0) * y.cost_per_slot_year for y in self.s.yards.values()) / 365,
        }


def run_replication(s: Scenario, seed: int, replication: int, audit: Audit | None = None,
                    records: str = "all") -> ReplicationOutput:
    """Build and run one replication; ``audit`` (tests) is called after every event.

    ``records``: keep per-truck and per-visit records of ``all`` trucks, a ``sample`` (every
    tenth) or ``none``; the statistics are the same in every mode."""
    return Model(s, seed, replication, records).run(audit)


def local_time(start: dt.datetime, hour: float) -> dt.datetime:
    """Local (Hanoi) clock time of simulation hour ``hour``."""
    return start + dt.timedelta(hours=hour)
