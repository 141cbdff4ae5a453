"""Property-based fuzzing of the command-line options that decide how much work and where it goes.

The promise for every generated sweep grid, replication count, precision and output path:
``gatesim`` exits 0 (work done, results written where asked) or 2 (one line, nothing written,
nothing of the user's touched) -- never a traceback, never a hang, never a deleted file. The
simulation itself is replaced by one small precomputed result, so each example costs
milliseconds and the fuzzing is about the options, guards and destinations.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gatesim
from gatesim import cli
from gatesim.experiments import run as run_module
from gatesim.experiments import sweep as sweep_module
from tests.conftest import TINY

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
