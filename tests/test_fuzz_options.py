"""Property-based fuzzing of the command-line options that decide how much work and where it goes.

The promise for every generated sweep grid, replication count, precision and output path
(and every sweep over a field of day-to-day variability: a factor, a stoppage, a shared
acceptance, a daily factor, a replayed stream's file):
``gatesim`` exits 0 (work done, results written where asked) or 2 (one line, nothing written,
nothing of the user's touched) -- never a traceback, never a hang, never a deleted file. The
simulation itself is replaced by one small precomputed result, so each example costs
milliseconds and the fuzzing is about the options, guards and destinations.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gatesim
from gatesim import cli
from gatesim.experiments import run as run_module
from gatesim.experiments import sweep as sweep_module
from tests.conftest import TINY

VARIED = """\
name: varied
clock: {start: 2024-01-01 00:00, horizon_days: 3, warmup_days: 0}
yards: {queue: {slots: 20}}
stages: {server: {servers: 1, yard: queue, service: {dist: exponential, mean: 10, unit: min}}}
lanes:
  gate:
    crossing_time: {dist: constant, value: 5, unit: min}
    import: {yard: queue, acceptance: other_side}
acceptances:
  other_side: {capacity_per_hour: 10, daily_cap: {total: 200}, cap_factor: shared,
               rate_factor: {law: lognormal, cv: 0.2}, priority: [{cargo: general}]}
factors:
  shared: {cv: 0.3, autocorrelation: 0.5}
stoppages:
  outage: {at: [server, gate.import], rate_per_day: 1,
           duration: {dist: exponential, mean: 1, unit: h}}
  strike: {at: [other_side], dated: [{start: 2024-01-02 06:00, end: 2024-01-02 12:00}],
           fraction: 0.5}
arrivals:
  a: {direction: import, cargo: general, rate_per_day: 100, daily_factor: shared}
  logged: {direction: import, cargo: general, replay: log.csv}
routes: {only: {direction: import, cargo: general, steps: [{stage: server}, {lane: gate}]}}
"""
"""TINY with every field of issue 15: a shared acceptance with a priority list, factors of
both kinds (one shared by a cap and a stream's demand), random and dated stoppages, a replay."""
LOG = "hours\n" + "".join(f"{h / 10:g}\n" for h in range(0, 720, 7))

FUZZ = settings(max_examples=int(60 * float(os.environ.get("GATESIM_FUZZ_SCALE", "1"))),
                deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def result():
    return gatesim.run(_tiny_scenario(), replications=1, seed=1)


def _tiny_scenario():
    import tempfile

    path = Path(tempfile.mkdtemp()) / "tiny.yaml"
    path.write_text(TINY)
    return gatesim.load_scenario(path)


@pytest.fixture
def quick(monkeypatch, result):
    """Every run returns the precomputed result (the options are under test, not the model)."""

    def fake(s, replications=10, seed=12345, *a, **kw):
        return result

    monkeypatch.setattr(run_module, "run", fake)
    monkeypatch.setattr(sweep_module, "run", fake)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A working directory holding the scenario and a file of the user's."""
    work = tmp_path / "work" / "here"
    work.mkdir(parents=True)
    (work / "tiny.yaml").write_text(TINY)
    (work / "varied.yaml").write_text(VARIED)
    (work / "log.csv").write_text(LOG)
    (work / "mine.txt").write_text("keep")
    (tmp_path / "work" / "yours.txt").write_text("keep")
    monkeypatch.chdir(work)
    return work


def survives(home: Path, args: list[str], capsys) -> int:
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
    assert (home / "mine.txt").read_text() == "keep"
    assert (home.parent / "yours.txt").read_text() == "keep"
    assert (home / "tiny.yaml").is_file()
    return code


number = st.one_of(st.integers(-10**13, 10**13), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from(["1e12", "nan", "inf", "-0", "0x10", "1_000", "", "a"]))


@FUZZ
@given(lo=number, hi=number, step=number, listed=st.lists(number, max_size=5),
       as_range=st.booleans())
def test_sweep_grids(home, quick, capsys, lo, hi, step, listed, as_range):
    spec = f"{lo}:{hi}:{step}" if as_range else ",".join(map(str, listed))
    out = home / "sweep_out"
    code = survives(home, ["sweep", "tiny.yaml", f"--param=yards.queue.slots={spec}",
                           "--out", str(out), "--no-report", "-q", "--force", "-w", "1"],
                    capsys)
    if code == 0:
        assert (out / "sweep.csv").is_file()


@FUZZ
@given(r=st.integers(-10**12, 10**12), maxr=st.integers(-10**12, 10**12),
       precision=st.one_of(st.none(), st.floats(-2, 2), st.sampled_from([0.0, 1.0, 1e-300])),
       seed=st.integers(-10**20, 10**20))
def test_replication_counts(home, quick, capsys, r, maxr, precision, seed):
    args = ["run", "tiny.yaml", f"-r={r}", f"--max-replications={maxr}", f"--seed={seed}",
            "--out", str(home / "run_out"), "--no-report", "-q", "--force"]
    if precision is not None:
        args.append(f"--precision={precision!r}")
    survives(home, args, capsys)


path_text = st.lists(st.sampled_from([*"ab.-_ ~/*é\\", "..", "x" * 120]), max_size=12).map(
    "".join)


@FUZZ
@given(name=path_text)
def test_output_paths(home, quick, capsys, name):
    if not name or name.startswith("/") or name == "--":  # argparse drops a "--" value
        name = "." + name
    code = survives(home, ["run", "tiny.yaml", "-r", "1", f"--out={name}", "--no-report", "-q",
                           "--force"], capsys)
    if code == 0:
        assert (Path(name) / "summary.csv").is_file()


VARIED_FIELDS = ["factors.shared.cv", "factors.shared.autocorrelation",
                 "acceptances.other_side.rate_factor.cv",
                 "acceptances.other_side.capacity_per_hour",
                 "acceptances.other_side.daily_cap.total", "stoppages.outage.rate_per_day",
                 "stoppages.outage.fraction", "stoppages.strike.fraction",
                 "stoppages.outage.duration.mean", "clock.horizon_days"]


sane = st.one_of(st.floats(0, 3), st.integers(0, 30), st.sampled_from([0.99, 1, 2, 24, 25]))
"""Values near the fields' own ranges, so that many points load and some grids run."""


@FUZZ
@given(field=st.sampled_from(VARIED_FIELDS), lo=sane | number, hi=sane | number,
       step=sane | number, listed=st.lists(sane | number, max_size=4), as_range=st.booleans())
def test_sweeps_over_variability_fields(home, quick, capsys, field, lo, hi, step, listed,
                                        as_range):
    """Every point is validated and guarded (its factors, stoppages and replayed rows counted)
    before any work."""
    spec = f"{lo}:{hi}:{step}" if as_range else ",".join(map(str, listed))
    out = home / "sweep_out"
    code = survives(home, ["sweep", "varied.yaml", f"--param={field}={spec}", "--out", str(out),
                           "--no-report", "-q", "--force", "-w", "1"], capsys)
    event(f"exit {code}")
    if code == 0:
        assert (out / "sweep.csv").is_file()


@FUZZ
@given(value=st.one_of(st.sampled_from(["log.csv", "./log.csv", "missing.csv", "", ".", "/",
                                        "/dev/null", "varied.yaml", "mine.txt", "log.csv,x",
                                        "[log.csv]", "null", "~"]), path_text),
       r=st.integers(1, 3) | st.integers(-3, 10**7))
def test_replications_of_a_replayed_stream(home, quick, capsys, value, r):
    """A replay file named by --set (anything a finger may type) is read or refused in one
    line; its rows, times the replications, are what the work guard counts."""
    code = survives(home, ["run", "varied.yaml", f"--set=arrivals.logged.replay={value}",
                           f"-r={r}", "--out", str(home / "run_out"), "--no-report", "-q",
                           "--force"], capsys)
    event(f"exit {code}")
