"""Shared helpers: machine and version info, fresh-subprocess runs, tables, result files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
SCENARIOS = BENCH / "scenarios"
DEFAULT_SCENARIO = ROOT / "scenarios" / "huu_nghi.yaml"

PACKAGES = ("gatesim", "simpy", "numpy", "scipy", "pandas", "pydantic", "ciw", "dask",
            "distributed")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "mem_total_gb": mem_total_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "loadavg_at_start": loadavg(),
    }


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def loaded_note(m: dict[str, Any]) -> str:
    """A warning line when the machine was busy (1-min load ≥ 0.5 at start or end)."""
    la0, la1 = m.get("loadavg_at_start"), m.get("loadavg_at_end")
    worst = max((la0 or [0])[0], (la1 or [0])[0])
    if worst >= 0.5:
        return (f"NOTE: machine was loaded (1-min load average {la0 and la0[0]} at start, "
                f"{la1 and la1[0]} at end, on {m['cpu_count']} cores): wall times are noisy; "
                "compare CPU times and the pairwise ratios.")
    return ""


class ChildError(RuntimeError):
    pass


def run_child(task: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    """Run one task in a fresh interpreter (``python -m benchmarks.child``); its result dict.

    The child prints one JSON line, the last line of its stdout. ``parent_wall_s`` adds the
    whole subprocess wall time (interpreter start-up and imports included).
    """
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.child", json.dumps(task)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise ChildError(f"task {task} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    out = json.loads(lines[-1])
    out["parent_wall_s"] = round(wall, 4)
    return out


def fmt(x: Any, spec: str = "") -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and x != x:
        return "nan"
    try:
        return format(x, spec)
    except (TypeError, ValueError):
        return str(x)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table (pastes straight into the README)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells]
    return "\n".join(out)


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)
    return path


def met(ok: bool | None) -> str:
    return "–" if ok is None else ("MET" if ok else "NOT MET")
