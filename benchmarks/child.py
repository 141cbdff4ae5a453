"""One timed task in a fresh interpreter: ``python -m benchmarks.child '<json task>'``.

Imports happen before the clock starts (as in the anchors); the timed region is building the
model + running it + computing the mean. Prints one JSON line: CPU time (time.process_time of
this process), wall time (perf_counter), peak RSS (VmHWM, i.e. this process image's
ru_maxrss, imports included), RSS after imports, counts and the statistic. With
``count_events`` the run is an instrumented one: ``simpy.core.Environment.step`` is
wrapped to count events (slower; its times are not used).
"""

from __future__ import annotations

import inspect
import json
import resource
import sys
import time
from typing import Any


def rss_mb() -> float:
    """Peak resident set of this process image (MB = MiB), imports included.

    VmHWM from /proc/self/status, which is ru_maxrss's quantity for this process image:
    Linux keeps ru_maxrss across fork + exec, so a child started by a large parent would
    report the parent's peak instead of its own. Falls back to ru_maxrss elsewhere.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def install_event_counter() -> list[int]:
    import simpy.core

    counter = [0]
    orig = simpy.core.Environment.step

    def step(self):
        counter[0] += 1
        return orig(self)

    simpy.core.Environment.step = step
    return counter


def gatesim_records_kw(fn, mode: str | None) -> dict[str, Any]:
    """``{"records": mode}`` if gatesim's function takes ``records`` (and a mode is asked)."""
    if mode is None:
        return {}
    if "records" in inspect.signature(fn).parameters:
        return {"records": mode}
    return {}


def left_mask(trucks):
    """Trucks that finished (left the system): a finite exit and not turned away. gatesim
    marks ``turned_away`` 0/1 in older versions and −1 / the refusing yard's place index
    (≥ 1: roads come first) in newer ones, and records trucks still inside with exit NaN."""
    import numpy as np

    return np.isfinite(trucks["exit"]) & (trucks["turned_away"] <= 0)


def n_arrived(o) -> int:
    n = getattr(o, "n_arrived", None)
    return int(n) if n is not None else len(o.arrivals)


def like_for_like_overrides(s) -> dict[str, Any]:
    """Overrides that neutralise what the plain SimPy model ignores: calendars (stages and
    lane sides always open), yards' finite slots (unlimited) and the daily caps."""
    out: dict[str, Any] = {}
    for name, st in s.stages.items():
        if st.calendar:
            out[f"stages.{name}.calendar"] = None
    for name, lane in s.lanes.items():
        for direction in ("export", "import"):
            side = lane.side(direction)
            if side is None:
                continue
            if side.calendar:
                out[f"lanes.{name}.{direction}.calendar"] = None
            if side.daily_cap:
                out[f"lanes.{name}.{direction}.daily_cap"] = {}
    for name, yard in s.yards.items():
        if yard.slots is not None:
            out[f"yards.{name}.slots"] = None
    return out


def huu_nghi_overrides(path: str, variant: str, days: float | None) -> dict[str, Any]:
    from pathlib import Path

    from gatesim.scenario.loader import load_scenario, resolve_document

    over: dict[str, Any] = {}
    clock = resolve_document(Path(path))[0].get("clock", {})
    horizon = days if days is not None else clock.get("horizon_days")
    warmup = clock.get("warmup_days", 0)
    if days is not None:
        over["clock.horizon_days"] = days
    if warmup == "auto" or (isinstance(horizon, (int, float)) and warmup >= horizon):
        # a fixed warm-up inside the horizon (the sample path does not depend on it)
        over["clock.warmup_days"] = min(2.0, horizon / 2)
    base = load_scenario(path, over)
    if variant == "like":
        over.update(like_for_like_overrides(base))
    return over


# --- tasks ------------------------------------------------------------------------------------
def anchor(task: dict[str, Any]) -> dict[str, Any]:
    engine, network, n = task["engine"], task["network"], task["n"]
    counter = None
    if engine == "simpy":
        from benchmarks import hand_simpy

        fn = getattr(hand_simpy, network)
        counter = install_event_counter() if task.get("count_events") else None
        r0 = rss_mb()
        c0, w0 = time.process_time(), time.perf_counter()
        customers, wq = fn(n, 1)
        c1, w1 = time.process_time(), time.perf_counter()
        extra: dict[str, Any] = {}
    elif engine == "ciw":
        from benchmarks import ciw_models

        fn = getattr(ciw_models, network)
        r0 = rss_mb()
        c0, w0 = time.process_time(), time.perf_counter()
        customers, wq = fn(n, 1)
        c1, w1 = time.process_time(), time.perf_counter()
        extra = {}
    elif engine == "gatesim":
        import numpy as np

        import gatesim  # noqa: F401  (imports outside the timed region)
        from benchmarks.hand_simpy import MMC_LAM, TANDEM_LAM
        from gatesim.engine.model import run_replication
        from gatesim.scenario.loader import load_scenario

        lam = {"mmc": MMC_LAM, "tandem": TANDEM_LAM}[network]
        path = task["scenario"]
        over = {"clock.horizon_days": n / lam / 24}
        mode = task.get("records", "all")
        kw = gatesim_records_kw(run_replication, mode)
        counter = install_event_counter() if task.get("count_events") else None
        r0 = rss_mb()
        c0, w0 = time.process_time(), time.perf_counter()
        s = load_scenario(path, over)
        o = run_replication(s, 1, 0, **kw)
        if mode == "none":  # no records: the streamed per-truck tally of total wait
            tally = o.accounts.wait_system
            customers, wq = tally.n, tally.mean
        else:  # per-visit records: wait = start - ready, summed per truck that left
            ids = o.trucks["id"][left_mask(o.trucks)]
            v = o.visits
            done = np.isin(v["truck"], ids)
            customers = len(ids)
            wq = float((v["start"][done] - v["ready"][done]).sum() / customers)
        c1, w1 = time.process_time(), time.perf_counter()
        extra = {"arrived": n_arrived(o), "records_kw": kw}
    else:
        raise ValueError(engine)
    return {"cpu_s": c1 - c0, "wall_s": w1 - w0, "customers": customers, "wq": wq,
            "rss_before_mb": r0, "peak_rss_mb": rss_mb(),
            "events": counter[0] if counter else None, **extra}


def huu_nghi(task: dict[str, Any]) -> dict[str, Any]:
    engine, variant, path = task["engine"], task["variant"], task["scenario"]
    import numpy as np

    import gatesim  # noqa: F401
    from gatesim.scenario.loader import load_scenario

    over = huu_nghi_overrides(path, variant, task.get("days"))
    if engine == "simpy":
        from benchmarks.hand_simpy import huu_nghi as hand

        s = load_scenario(path, over)  # reading the numbers is not the model's work
        counter = install_event_counter() if task.get("count_events") else None
        r0 = rss_mb()
        c0, w0 = time.process_time(), time.perf_counter()
        r = hand(s, 1)
        c1, w1 = time.process_time(), time.perf_counter()
        arrived, left, tis = r["arrived"], r["left"], r["time_in_system_h"]
        extra: dict[str, Any] = {}
    else:
        from gatesim.engine.model import run_replication

        mode = task.get("records", "all")
        kw = gatesim_records_kw(run_replication, mode)
        counter = install_event_counter() if task.get("count_events") else None
        r0 = rss_mb()
        c0, w0 = time.process_time(), time.perf_counter()
        s = load_scenario(path, over)
        o = run_replication(s, 1, 0, **kw)
        if mode == "none":  # streamed tallies: trucks that arrived after the warm-up
            tallies = [t for t in o.accounts.class_sojourn if t.n]
            left = sum(t.n for t in tallies)
            tis = sum(t.n * t.mean for t in tallies) / left if left else float("nan")
        else:
            t = o.trucks
            ok = left_mask(t)
            left = int(ok.sum())
            tis = float(np.mean(t["exit"][ok] - t["arrival"][ok])) if left else float("nan")
        c1, w1 = time.process_time(), time.perf_counter()
        arrived = n_arrived(o)
        extra = {"records_kw": kw, "visits": len(o.visits.get("truck", ())) if o.visits else 0}
    return {"cpu_s": c1 - c0, "wall_s": w1 - w0, "arrived": arrived, "left": left,
            "time_in_system_h": tis, "rss_before_mb": r0, "peak_rss_mb": rss_mb(),
            "events": counter[0] if counter else None, "overrides": over,
            "horizon_days": s.clock.horizon_days, **extra}


def scale(task: dict[str, Any]) -> dict[str, Any]:
    """One replication of the default scenario over ``days``: the engine (run_replication)
    or the whole pipeline (gatesim.run, 1 replication, 1 worker)."""
    import gatesim
    from gatesim.engine.model import run_replication
    from gatesim.scenario.loader import load_scenario

    path, days, mode, api = task["scenario"], task["days"], task.get("records"), task["api"]
    over = huu_nghi_overrides(path, "default", days)
    fn = run_replication if api == "engine" else gatesim.run
    kw = gatesim_records_kw(fn, mode)
    r0 = rss_mb()
    c0, w0 = time.process_time(), time.perf_counter()
    s = load_scenario(path, over)
    if api == "engine":
        o = run_replication(s, 12345, 0, **kw)
        arrived = n_arrived(o)
        visits = len(o.visits.get("truck", ())) if o.visits else 0
        trucks = len(o.trucks.get("id", ())) if o.trucks else 0
    else:
        r = gatesim.run(s, replications=1, seed=12345, workers=1, **kw)
        arrived = int(r.meta.get("trucks_arrived", 0))
        visits, trucks = len(r.visits), len(r.trucks)
    c1, w1 = time.process_time(), time.perf_counter()
    return {"cpu_s": c1 - c0, "wall_s": w1 - w0, "arrived": arrived, "truck_rows": trucks,
            "visit_rows": visits, "rss_before_mb": r0, "peak_rss_mb": rss_mb(),
            "records_kw": kw, "overrides": over}


def parallel(task: dict[str, Any]) -> dict[str, Any]:
    """``gatesim.run`` of R replications on an executor; phases timed by wrapping
    ``Runner.outputs`` (the replications) and ``run_frames`` (tables in the parent)."""
    import gatesim
    import gatesim.experiments.run as ex
    from gatesim.experiments.executors import DaskExecutor, LocalExecutor
    from gatesim.scenario.loader import load_scenario

    phases = {"replications_s": 0.0, "frames_s": 0.0}

    def timed(fn, key):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[key] += time.perf_counter() - t
        return wrapper

    ex.Runner.outputs = timed(ex.Runner.outputs, "replications_s")
    ex.run_frames = timed(ex.run_frames, "frames_s")
    over = huu_nghi_overrides(task["scenario"], "default", task["days"])
    s = load_scenario(task["scenario"], over)
    kw = gatesim_records_kw(gatesim.run, task.get("records"))
    cluster = client = None
    setup = 0.0
    if task["executor"] == "dask":
        from distributed import Client, LocalCluster

        t = time.perf_counter()
        cluster = LocalCluster(n_workers=task["workers"], threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        # a long-lived cluster has it imported
        client.run(lambda: __import__("gatesim.engine.model"))
        setup = time.perf_counter() - t
        executor = DaskExecutor(cluster.scheduler_address)
    else:
        executor = LocalExecutor(task["workers"])
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    dask0 = client.run(time.process_time) if client is not None else {}
    c0, w0 = time.process_time(), time.perf_counter()
    r = gatesim.run(s, replications=task["replications"], seed=12345, executor=executor, **kw)
    c1, w1 = time.process_time(), time.perf_counter()
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if client is not None:  # CPU of the dask worker processes during the run
        dask1 = client.run(time.process_time)
        workers_cpu = sum(dask1[w] - dask0.get(w, 0.0) for w in dask1)
        client.close()
        cluster.close()
    else:  # local worker processes, reaped when the pool shuts down at the end of the map
        workers_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    return {"wall_s": w1 - w0, "parent_cpu_s": c1 - c0, "workers_cpu_s": workers_cpu,
            "setup_s": setup, **phases,
            "arrived": int(r.meta.get("trucks_arrived", 0)), "records_kw": kw,
            "replications": task["replications"], "peak_rss_mb": rss_mb()}


TASKS = {"anchor": anchor, "huu_nghi": huu_nghi, "scale": scale, "parallel": parallel}


def main() -> None:
    task = json.loads(sys.argv[1])
    out = TASKS[task["kind"]](task)
    out["ru_maxrss_mb"] = ru_maxrss_mb()  # for reference (may include the parent's, see rss_mb)
    sys.stdout.write("\n" + json.dumps(out, default=str) + "\n")


if __name__ == "__main__":
    main()
