"""Where one replication of the default scenario spends its time: cProfile, and py-spy.

    python -m benchmarks.profile_default            # the scenario's own horizon
    python -m benchmarks.profile_default --days 7   # shorter (what --quick uses)
    python -m benchmarks.profile_default --quick

cProfile is deterministic but inflates the cost of small functions (its per-call overhead);
py-spy (if installed: ``pip install py-spy``) samples the unmodified interpreter, so its
shares are the ones to trust. Only the replication itself is profiled (not the imports).
Writes benchmarks/results/profile_default.txt and .json (profile_default-quick.* with --quick).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/<name>.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from typing import Any

from benchmarks.common import (
    DEFAULT_SCENARIO,
    RESULTS,
    ROOT,
    loadavg,
    machine,
    table,
    versions,
    write_result,
)

CATEGORIES = [  # (category, test on "file:function")
    ("simpy core (event loop, events, processes)", lambda k: "simpy/" in k),
    ("gatesim journey (the truck's generator)", lambda k: "journey.py" in k),
    ("gatesim pools and places (network.py)", lambda k: "network.py" in k),
    ("gatesim monitors (levels, integrals, tallies)", lambda k: "monitors.py" in k),
    ("gatesim accounts (per-truck statistics)", lambda k: "accounts.py" in k),
    ("gatesim observer (hourly snapshots, summaries)", lambda k: "observe.py" in k),
    ("gatesim model (trucks, routes, bookkeeping)", lambda k: "model.py" in k),
    ("gatesim draws and arrivals (rng, arrivals)", lambda k: "rng.py" in k or "arrivals.py" in k),
    ("gatesim records (rows to arrays)", lambda k: "records.py" in k),
    ("numpy / scipy", lambda k: "numpy" in k or "scipy" in k),
]


def category(key: str) -> str:
    for name, test in CATEGORIES:
        if test(key):
            return name
    return "other (builtins, gatesim other)"


def load(scenario: str, days: float | None):
    from benchmarks.child import huu_nghi_overrides
    from gatesim.scenario.loader import load_scenario

    return load_scenario(scenario, huu_nghi_overrides(scenario, "default", days))


def short(path: str) -> str:
    for marker in ("/site-packages/", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def run_cprofile(scenario: str, days: float | None, top: int) -> dict[str, Any]:
    from gatesim.engine.model import run_replication

    s = load(scenario, days)
    prof = cProfile.Profile()
    t0 = time.process_time()
    prof.enable()
    o = run_replication(s, 1, 0)
    prof.disable()
    cpu = time.process_time() - t0
    st = pstats.Stats(prof)
    total = sum(v[2] for v in st.stats.values())  # tottime
    rows = []
    cats: Counter[str] = Counter()
    for (file, line, fn), (_cc, nc, tt, ct, _) in st.stats.items():
        key = f"{short(file)}:{line}({fn})"
        rows.append({"function": key, "calls": nc, "tottime": tt, "cumtime": ct})
        cats[category(f"{file}:{fn}")] += tt
    rows.sort(key=lambda r: -r["tottime"])
    by_cum = sorted((r for r in rows if "gatesim/" in r["function"]),
                    key=lambda r: -r["cumtime"])
    n = getattr(o, "n_arrived", None) or len(o.trucks["id"])
    return {"profiled_cpu_s": cpu, "trucks": int(n), "total_tottime": total,
            "top_self": rows[:top], "top_cumulative_gatesim": by_cum[:top],
            "categories": {k: v / total for k, v in cats.most_common()}}


def run_pyspy(scenario: str, days: float | None, top: int) -> dict[str, Any] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "raw.txt"
        cmd = [exe, "record", "-r", "250", "-f", "raw", "-o", str(out), "--", sys.executable,
               "-m", "benchmarks.profile_default", "--worker", "--scenario", scenario]
        if days is not None:
            cmd += ["--days", str(days)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            return {"error": (proc.stderr or proc.stdout)[-2000:]}
        lines = out.read_text().splitlines()
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    cats: Counter[str] = Counter()
    total = 0
    for ln in lines:
        stack, _, count = ln.rpartition(" ")
        if "run_replication" not in stack:
            continue  # imports, scenario loading
        c = int(count)
        total += c
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        frames = frames[next(i for i, f in enumerate(frames) if "run_replication" in f):]
        self_c[frames[-1]] += c
        cats[category(frames[-1].replace("(", ":", 1))] += c
        for f in set(frames):
            incl[f] += c
    return {"samples": total, "rate_hz": 250,
            "top_self": [{"function": f, "share": c / total} for f, c in self_c.most_common(top)],
            "top_inclusive_gatesim": [{"function": f, "share": c / total}
                                      for f, c in incl.most_common()
                                      if "gatesim/" in f][:top],
            "categories": {k: v / total for k, v in cats.most_common()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    ap.add_argument("--days", type=float)
    ap.add_argument("--quick", action="store_true", help="7 days")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--no-pyspy", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    days = a.days if a.days is not None else (7.0 if a.quick else None)
    if a.worker:  # the process py-spy samples
        from gatesim.engine.model import run_replication
        run_replication(load(a.scenario, days), 1, 0)
        return 0
    m = machine()
    cp = run_cprofile(a.scenario, days, a.top)
    spy = None if a.no_pyspy else run_pyspy(a.scenario, days, a.top)
    m["loadavg_at_end"] = loadavg()
    buf = io.StringIO()
    say = lambda *x: print(*x, file=buf)  # noqa: E731
    say(f"Scenario {a.scenario}, horizon {days or 'as shipped'} days, seed 1, "
        f"replication 0: {cp['trucks']:,} trucks, {cp['profiled_cpu_s']:.2f} CPU s under cProfile")
    if spy and "error" not in spy:
        say(f"\npy-spy ({spy['samples']:,} samples at {spy['rate_hz']} Hz), share of the "
            "replication's samples by category (leaf frame):")
        say(table(["category", "share"], [[k, f"{v:.1%}"] for k, v in spy["categories"].items()]))
        say("\npy-spy top self (leaf) frames:")
        say(table(["function", "self share"],
                  [[r["function"], f"{r['share']:.1%}"] for r in spy["top_self"]]))
        say("\npy-spy top inclusive gatesim functions:")
        say(table(["function", "inclusive share"],
                  [[r["function"], f"{r['share']:.1%}"] for r in spy["top_inclusive_gatesim"]]))
    elif spy:
        say(f"\npy-spy failed: {spy['error']}")
    else:
        say("\npy-spy not installed: cProfile only")
    say("\ncProfile, share of total self time by category:")
    say(table(["category", "share"], [[k, f"{v:.1%}"] for k, v in cp["categories"].items()]))
    say("\ncProfile top self time:")
    say(table(["function", "calls", "tottime s", "cumtime s"],
              [[r["function"], f"{r['calls']:,}", f"{r['tottime']:.3f}", f"{r['cumtime']:.3f}"]
               for r in cp["top_self"]]))
    say("\ncProfile top cumulative (gatesim functions):")
    say(table(["function", "calls", "tottime s", "cumtime s"],
              [[r["function"], f"{r['calls']:,}", f"{r['tottime']:.3f}", f"{r['cumtime']:.3f}"]
               for r in cp["top_cumulative_gatesim"]]))
    text = buf.getvalue()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "profile_default-quick" if a.quick else "profile_default"
    (RESULTS / f"{name}.txt").write_text(text)
    path = write_result(name, {
        "benchmark": "profile_default", "machine": m, "versions": versions(),
        "config": {"scenario": a.scenario, "days": days, "pid": os.getpid()},
        "cprofile": cp, "pyspy": spy})
    print(f"wrote {path} and {RESULTS / (name + '.txt')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
