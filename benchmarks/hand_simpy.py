"""The plain SimPy baselines, written the idiomatic way (one process per customer).

``mmc`` and ``tandem`` are EXACTLY the "simpy-idiomatic" models of
../shared/reference/engine-speed-anchors.md: a source process creates one process per
customer; ``with res.request() as req: yield req; yield env.timeout(rng.expovariate(mu))``;
``random.Random(1)``; ``env.run(until=done_event)`` where ``done`` fires when the n-th
customer leaves. Wq is the mean total time in queue of the n customers that left.

``huu_nghi`` is a plain SimPy model of the stages of a gatesim scenario (the default Hữu Nghị
one), with every number read from the loaded scenario at run time: one process per truck,
one ``simpy.Resource`` per stage with the stage's server count, one ``simpy.Resource(1)`` per
lane side held for the admission headway (1 / capacity_per_hour) and then a crossing-time
timeout, the same service distributions (drawn with numpy in blocks), the same arrival rates
with their hourly profiles and weekday / date multipliers (non-homogeneous Poisson, hour by
hour), the same routes with the same branch probabilities, and the scenario's initial trucks.
It IGNORES calendars (every stage and lane is open 24 h with its nominal servers), yards'
finite slots (no blocking, no overflow road, no turn-away), the other side's daily caps, the
warm-up, and all statistics except the mean time in system.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import simpy

# --- the anchors' models ----------------------------------------------------------------------
MMC_C, MMC_LAM, MMC_MU = 4, 3.6, 1.0
TANDEM_LAM = 1.0
TANDEM_C = (2, 3, 2, 4)
TANDEM_MU = (0.625, 0.47619, 0.55556, 0.29412)
WQ_THEORY = {"mmc": 1.96938, "tandem": 15.57306}


def mmc(n: int, seed: int = 1) -> tuple[int, float]:
    """M/M/4, λ = 3.6, μ = 1; until n customers have left. Returns (n, mean Wq)."""
    rng = random.Random(seed)
    env = simpy.Environment()
    res = simpy.Resource(env, MMC_C)
    done = env.event()
    state = {"left": 0, "wq": 0.0}

    def customer():
        arrive = env.now
        with res.request() as req:
            yield req
            wait = env.now - arrive
            yield env.timeout(rng.expovariate(MMC_MU))
        state["wq"] += wait
        state["left"] += 1
        if state["left"] == n:
            done.succeed()

    def source():
        while True:
            yield env.timeout(rng.expovariate(MMC_LAM))
            env.process(customer())

    env.process(source())
    env.run(until=done)
    return n, state["wq"] / n


def tandem(n: int, seed: int = 1) -> tuple[int, float]:
    """4 M/M/c stations in series; until n customers have left. Returns (n, mean total Wq)."""
    rng = random.Random(seed)
    env = simpy.Environment()
    stations = [(simpy.Resource(env, c), mu) for c, mu in zip(TANDEM_C, TANDEM_MU, strict=True)]
    done = env.event()
    state = {"left": 0, "wq": 0.0}

    def customer():
        wait = 0.0
        for res, mu in stations:
            ready = env.now
            with res.request() as req:
                yield req
                wait += env.now - ready
                yield env.timeout(rng.expovariate(mu))
        state["wq"] += wait
        state["left"] += 1
        if state["left"] == n:
            done.succeed()

    def source():
        while True:
            yield env.timeout(rng.expovariate(TANDEM_LAM))
            env.process(customer())

    env.process(source())
    env.run(until=done)
    return n, state["wq"] / n


# --- a plain SimPy model of a gatesim scenario's stages (Hữu Nghị) ----------------------------
UNIT_HOURS = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BLOCK = 512


def _draws(d, g):
    """An endless iterator of draws (hours) of distribution spec ``d``, numpy in blocks."""
    scale = UNIT_HOURS[d.unit]
    kind = d.dist
    if kind == "constant":
        while True:
            yield d.value * scale
    if kind == "exponential":
        def block():
            return g.exponential(d.mean * scale, BLOCK)
    elif kind == "lognormal":
        s2 = math.log1p(d.cv ** 2)
        mu, sigma = math.log(d.mean * scale) - s2 / 2, math.sqrt(s2)

        def block():
            return g.lognormal(mu, sigma, BLOCK)
    elif kind == "gamma":
        shape = 1 / d.cv ** 2

        def block():
            return g.gamma(shape, d.mean * scale / shape, BLOCK)
    elif kind == "uniform":
        def block():
            return g.uniform(d.low * scale, d.high * scale, BLOCK)
    elif kind == "triangular":
        def block():
            return g.triangular(d.low * scale, d.mode * scale, d.high * scale, BLOCK)
    elif kind == "empirical":
        values = [v * scale for v in d.values]

        def block():
            return g.choice(values, BLOCK)
    else:  # pragma: no cover - a distribution added to gatesim later
        raise NotImplementedError(f"hand SimPy model: no sampler for dist {kind!r}")
    while True:
        yield from block().tolist()


def huu_nghi(s, seed: int = 1) -> dict[str, float]:
    """Run the plain SimPy model of scenario ``s`` (a validated gatesim Scenario) to its
    horizon. Returns arrived / left counts and the mean time in system (h) of those that left.
    """
    import numpy as np

    env = simpy.Environment()
    py = random.Random(seed)
    npg = np.random.default_rng(seed)
    horizon = s.clock.horizon_days * 24
    start = s.clock.start

    stages = {name: ("stage", simpy.Resource(env, st.servers), _draws(st.service, npg))
              for name, st in s.stages.items()}
    lanes = {}
    for name, lane in s.lanes.items():
        crossing = _draws(lane.crossing_time, npg)
        for direction in ("export", "import"):
            side = lane.side(direction)
            if side is not None:
                lanes[(name, direction)] = (simpy.Resource(env, 1), 1 / side.capacity_per_hour,
                                            crossing, dict(lane.eligible))
    state = {"arrived": 0, "left": 0, "tis": 0.0}

    def compile_steps(steps, direction):
        """Route steps as plain tuples (kind, data, when), built once per route."""
        out = []
        for step in steps:
            when = tuple(step.when.items())
            if getattr(step, "stage", None) is not None:
                out.append(("stage", stages[step.stage], when))
            elif getattr(step, "lane", None) is not None:
                names = [step.lane] if isinstance(step.lane, str) else step.lane
                out.append(("lane", [lanes[(n, direction)] for n in names], when))
            elif getattr(step, "exit", None) is not None:
                out.append(("exit", None, when))
            else:  # choose: cumulative shares, option names, their compiled steps
                acc, options = 0.0, []
                for name, option in step.options.items():
                    acc += option.p
                    options.append((acc, name, compile_steps(option.steps, direction)))
                out.append(("choose", (step.choose, options), when))
        return out

    routes = {(r.direction, r.cargo, r.site): compile_steps(r.steps, r.direction)
              for r in s.routes.values()}
    shares = {id(spec): list({**s.attributes, **spec.attributes}.items())
              for spec in s.arrivals.values()}

    def expand(steps, values, out) -> bool:
        """Append this truck's stations; True when an exit step ends the route early."""
        for kind, data, when in steps:
            if when and any(values.get(k) != v for k, v in when):
                continue
            if kind == "stage":
                out.append(data)
            elif kind == "lane":
                options = [o for o in data if all(values.get(k) == v for k, v in o[3].items())]
                out.append(("lane", options))
            elif kind == "exit":
                out.append(("exit",))
                return True
            else:
                choose, options = data
                u = py.random()
                chosen = next((o for o in options if u < o[0]), options[-1])
                values[choose] = chosen[1]
                if expand(chosen[2], values, out):
                    return True
        return False

    def truck(spec, site):
        arrive = env.now
        values = {"direction": spec.direction, "cargo": spec.cargo, "site": site}
        for k, p in shares[id(spec)]:
            values[k] = py.random() < p
        path = []
        expand(routes[(spec.direction, spec.cargo, site)], values, path)
        for step in path:
            kind = step[0]
            if kind == "stage":
                with step[1].request() as req:
                    yield req
                    yield env.timeout(next(step[2]))
            elif kind == "lane":
                options = step[1]
                res, headway, crossing, _ = (options[0] if len(options) == 1 else
                                             min(options, key=lambda o: len(o[0].queue)))
                with res.request() as req:
                    yield req
                    yield env.timeout(headway)
                yield env.timeout(next(crossing))
            else:  # exit: sent back part-way
                break
        state["left"] += 1
        state["tis"] += env.now - arrive

    def site_of(spec):
        site = spec.site
        if isinstance(site, dict):
            u, acc = py.random(), 0.0
            for name, p in site.items():
                acc += p
                if u < acc:
                    return name
            return name
        return site

    def new_truck(spec):
        state["arrived"] += 1
        env.process(truck(spec, site_of(spec)))

    def source(spec):
        if spec.interarrival is not None:
            gaps = _draws(spec.interarrival, npg)
            while True:
                yield env.timeout(next(gaps))
                if env.now >= horizon:
                    return
                new_truck(spec)
        profile = spec.hourly_profile or [1.0] * 24
        base = spec.rate_per_day / 24 / (sum(profile) / 24)
        hour = 0
        while hour < horizon:  # Poisson within each hour at that hour's rate (memoryless)
            t = start + dt.timedelta(hours=hour)
            rate = base * profile[t.hour] * spec.weekday_multipliers.get(WEEKDAYS[t.weekday()],
                                                                         1.0)
            for m in spec.date_multipliers:
                if m.start <= t.date() <= m.end:
                    rate *= m.factor
            end = min(hour + 1, horizon)
            if rate > 0:
                while (nxt := env.now + py.expovariate(rate)) < end:
                    yield env.timeout(nxt - env.now)
                    new_truck(spec)
            if end > env.now:
                yield env.timeout(end - env.now)
            hour += 1

    for spec in s.arrivals.values():
        env.process(source(spec))
    for init in s.initial_state:
        for _ in range(init.count):
            new_truck(s.arrivals[init.stream])
    env.run(until=horizon)
    left = state["left"]
    return {"arrived": state["arrived"], "left": left,
            "time_in_system_h": state["tis"] / left if left else math.nan}
