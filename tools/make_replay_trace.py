"""Generate ``gatesim/validation/cases/replay_trace.csv``: the trace of the replay_trace case.

100 trucks, Poisson arrivals (mean gap 0.6 h, so over about 0–60 h) and exponential service
times (mean 1.2 h): a queue builds under 1 server (0–15 h), partly drains under 3 (15–30 h),
builds again under 1 (30–50 h) and drains under 10 (from 50 h). Every time is a multiple of
2^-12 h (under a second) written out exactly in decimal, so the file reads back as exactly the
numbers generated and every sum of them is exact in floating point.

The script refuses a trace that would not test what the case is for: it must have no
simultaneous events (two arrivals, an arrival or departure and a server change, an arrival
and a departure, two departures), and each server change must matter (trucks waiting at 15
and 50 h, more trucks in service than servers right after 30 h). The checks use the case's
own reference recursion (gatesim.validation.trace.fifo_departures).

Run from the repository root: ``.venv/bin/python tools/make_replay_trace.py`` (``--check``
only compares with the committed file). The output depends only on SEED and numpy's PCG64.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from gatesim.validation.trace import CASES_DIR, SCHEDULE, STAGE, TRUCKS, fifo_departures

SEED = 7
MEAN_GAP_H = 0.6
MEAN_SERVICE_H = 1.2
HORIZON_H = 120.0
"""The case's horizon (clock.horizon_days = 5): every truck must have left by then."""
GRID = 4096
"""Times are whole multiples of 1/GRID hours (2^-12 h = 0.88 s)."""
OUT = CASES_DIR / "replay_trace.csv"


def exact(k: int) -> str:
    """k / GRID hours as the exact decimal it is (GRID = 2^12, so 12 decimals suffice)."""
    whole, frac = divmod(k * 5**12, 10**12)  # k / 2^12 = k * 5^12 / 10^12
    return f"{whole}.{frac:012d}".rstrip("0").rstrip(".")


def generate(seed: int = SEED) -> tuple[list[int], list[int]]:
    """(arrivals, services) in units of 1/GRID h."""
    gen = np.random.default_rng(seed)
    arrivals = np.rint(np.cumsum(gen.exponential(MEAN_GAP_H, TRUCKS)) * GRID).astype(int)
    services = np.maximum(1, np.rint(gen.exponential(MEAN_SERVICE_H, TRUCKS) * GRID)).astype(int)
    return arrivals.tolist(), services.tolist()


def problems(arrivals: list[float], services: list[float]) -> list[str]:
    """Why this trace would make a weak or ambiguous case (nothing when it is fine)."""
    departures = fifo_departures(arrivals, services, SCHEDULE)
    starts = [d - s for d, s in zip(departures, services, strict=True)]
    changes = [t for t, _ in SCHEDULE[1:]]
    out = []
    if any(b <= a for a, b in zip(arrivals, arrivals[1:], strict=False)):
        out.append("arrival times are not strictly increasing")
    events = arrivals + departures + changes
    if len(set(events)) != len(events):
        out.append("two events (arrivals, departures, server changes) coincide")
    if max(departures) >= HORIZON_H:
        out.append(f"a truck leaves at {max(departures):g} h, not before the horizon")

    def waiting(t: float) -> int:  # arrived before t, not started before t
        return sum(a < t <= s for a, s in zip(arrivals, starts, strict=True))

    def serving(t: float) -> int:  # in service just after t
        return sum(s <= t < d for s, d in zip(starts, departures, strict=True))

    if starts.count(15.0) < 2 or waiting(15.0) < 3:
        out.append("fewer than 3 trucks wait at 15 h (2 start when 3 servers come on duty)")
    if serving(30.0) < 2 or waiting(30.0) < 1:
        out.append("at 30 h no off-duty server is still serving while trucks wait")
    if starts.count(50.0) < 9:
        out.append("fewer than 9 trucks start at 50 h when 10 servers come on duty")
    return out


def csv_text(arrivals: list[int], services: list[int]) -> str:
    lines = [f"hours,service:{STAGE}"]
    lines += [f"{exact(a)},{exact(s)}" for a, s in zip(arrivals, services, strict=True)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed file instead of writing it")
    args = parser.parse_args(argv)
    arrivals, services = generate(args.seed)
    hours = [a / GRID for a in arrivals]
    times = [s / GRID for s in services]
    assert [float(exact(k)) for k in arrivals + services] == hours + times  # exact round trip
    bad = problems(hours, times)
    if bad:
        print(f"seed {args.seed}: " + "; ".join(bad), file=sys.stderr)
        return 1
    text = csv_text(arrivals, services)
    if args.check:
        same = OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'up to date' if same else 'DIFFERS from the generated trace'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    departures = fifo_departures(hours, times, SCHEDULE)
    print(f"wrote {OUT}: {TRUCKS} trucks arriving {hours[0]:.3f}–{hours[-1]:.3f} h, "
          f"mean service {np.mean(times):.3f} h, last departure {max(departures):.3f} h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
