"""Interrupted work, dying workers, overwrites, absurd work, and the reproducibility check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from gatesim.errors import GatesimError
from gatesim.experiments import run as experiment
from gatesim.experiments.checkpoint import Checkpoint, checkpoint_key
from gatesim.experiments.guard import MAX_RECORDED, check_work, records_mode
from gatesim.scenario.loader import load_scenario
from tests.conftest import ROOT, SMALL_GATE
from tests.test_run import gatesim

CLI = [sys.executable, "-m", "gatesim.cli"]


def stored(pattern: str, where: Path) -> int:
    return len(list(where.glob(pattern))) if where.exists() else 0


def interrupt_when(args: list[str], where: Path, pattern: str, count: int, sig: int) -> int:
    """Start the CLI, wait until ``count`` files match ``pattern`` under ``where`` (finished
    work on disk), then send ``sig``; return the exit status."""
    p = subprocess.Popen([*CLI, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    deadline = time.monotonic() + 300
    while stored(pattern, where) < count:
        assert p.poll() is None, f"finished before it could be interrupted: {p.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    assert "Traceback" not in err
    assert "interrupted" in err
    return p.returncode


@pytest.mark.parametrize("sig, code, workers", [(signal.SIGTERM, 143, "1"),
                                                (signal.SIGINT, 130, "2")])
def test_interrupted_run_leaves_nothing_complete_and_resumes(tmp_path, sig, code, workers):
    args = ["run", str(SMALL_GATE), "-r", "12", "--seed", "3", "-w", workers, "--no-report",
            "-q"]
    whole = tmp_path / "whole"
    assert gatesim(*args, "--out", str(whole)).returncode == 0
    out = tmp_path / "resumed"
    partial = tmp_path / ".resumed.partial"
    status = interrupt_when([*args, "--out", str(out)], partial, "*/replication-*.npz", 3,
                            sig)
    assert status == code
    assert not out.exists()  # nothing that looks like finished results
    kept = stored("*/replication-*.npz", partial)
    assert 3 <= kept < 12
    if workers == "2":  # the workers were stopped too: nothing more appears
        time.sleep(1.0)
        assert stored("*/replication-*.npz", partial) == kept
    p = gatesim(*args[:-1], "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert f"resuming: {kept} finished replications" in p.stdout
    assert not partial.exists()
    for name in ("summary.csv", "replications.csv", "timeseries.parquet"):
        assert (out / name).read_bytes() == (whole / name).read_bytes()


def test_interrupted_sweep_keeps_points_and_resumes(tmp_path):
    args = ["sweep", str(SMALL_GATE), "--param", "yards.front.slots=8:40:4", "-r", "2", "-w",
            "1", "--no-report", "-q"]
    whole = tmp_path / "whole"
    assert gatesim(*args, "--out", str(whole)).returncode == 0
    out = tmp_path / "resumed"
    finished = "[!.]*/summary.csv"  # not a point's staging directory (hidden name)
    status = interrupt_when([*args, "--out", str(out)], out / "points", finished, 3,
                            signal.SIGTERM)
    assert status == 143
    assert not (out / "sweep.csv").exists()
    assert 3 <= stored(finished, out / "points") < 9
    assert not list(out.glob("points/.*"))  # no half-written point left behind
    assert gatesim(*args, "--out", str(out)).returncode == 0
    assert (out / "sweep.csv").read_bytes() == (whole / "sweep.csv").read_bytes()


REAL_ONE = experiment._one
KEPT: list[Checkpoint] = []


def dies_on_replication_2(job):
    """A replication job whose worker is killed (like an out-of-memory kill) on replication 2,
    once replications 0 and 1 are safely on disk."""
    if job[2] == 2:
        while KEPT[0].done() < 2:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGKILL)
    return REAL_ONE(job)


def test_dead_worker_is_named_and_finished_replications_kept(tmp_path, monkeypatch):
    s = load_scenario(SMALL_GATE)
    cp = Checkpoint(tmp_path / "out", checkpoint_key(s.model_dump(mode="json"), 5, "all"))
    monkeypatch.setattr(sys.modules[__name__], "KEPT", [cp])
    real = experiment._one
    monkeypatch.setattr(experiment, "_one", dies_on_replication_2)  # inherited by fork
    with pytest.raises(GatesimError, match=r"replication 2 \(seed 5\) failed: a worker"):
        experiment.run(s, replications=3, seed=5, workers=2, checkpoint=cp)
    assert cp.done() == 2
    monkeypatch.setattr(experiment, "_one", real)
    resumed = experiment.run(s, replications=3, seed=5, workers=2, checkpoint=cp)
    fresh = experiment.run(s, replications=3, seed=5, workers=1)
    pd.testing.assert_frame_equal(resumed.summary, fresh.summary)


def test_existing_results_are_never_overwritten_silently(tmp_path):
    out = tmp_path / "res"
    args = ("run", str(SMALL_GATE), "-r", "1", "--out", str(out), "-q", "--no-report")
    assert gatesim(*args).returncode == 0
    before = (out / "summary.json").read_bytes()
    p = gatesim(*args)
    assert p.returncode == 2 and "already holds results" in p.stderr and "--force" in p.stderr
    assert (out / "summary.json").read_bytes() == before
    assert gatesim(*args, "--force", "--seed", "9").returncode == 0
    assert (out / "summary.json").read_bytes() != before


@pytest.mark.parametrize("overrides, words", [
    (["clock.horizon_days=36500"], "trucks over 10 replications of 36500 days"),
    (["arrivals.import_general.rate_per_day=1000000", "clock.horizon_days=100"], "--allow-large"),
])
def test_absurd_work_is_refused_up_front(tmp_path, overrides, words):
    sets = [x for o in overrides for x in ("--set", o)]
    t0 = time.monotonic()
    p = gatesim("run", str(SMALL_GATE), *sets, "--out", str(tmp_path / "x"))
    assert time.monotonic() - t0 < 30
    assert p.returncode == 2 and words in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "x").exists()


def test_unstable_system_is_not_refused():
    s = load_scenario(SMALL_GATE, ["lanes.main.export.daily_cap.total=5"])
    assert check_work([s], 10, allow_large=False) < 50_000_000


def test_records_fall_back_when_they_would_not_fit():
    assert records_mode("all", 1000) == ("all", None)
    mode, note = records_mode("all", MAX_RECORDED * 5)
    assert mode == "sample" and "every tenth" in note
    assert records_mode("all", MAX_RECORDED * 50)[0] == "none"
    assert records_mode("none", MAX_RECORDED * 50) == ("none", None)


def test_check_confirms_a_reproducible_run_and_catches_a_changed_one(tmp_path):
    out = tmp_path / "res"
    assert gatesim("run", str(SMALL_GATE), "-r", "2", "--out", str(out), "-q",
                   "--no-report").returncode == 0
    p = gatesim("run", "--check", str(out))
    assert p.returncode == 0 and "reproduced exactly" in p.stdout
    reps = pd.read_csv(out / "replications.csv")
    reps.loc[(reps.replication == 0) & (reps.metric == "wait_h") & (reps.scope == "system")
             & (reps.stat == "mean"), "value"] += 1.0
    reps.to_csv(out / "replications.csv", index=False)
    p = gatesim("run", "--check", str(out))
    assert p.returncode == 1 and "wait_h/system/mean" in p.stderr


def test_checkpoint_from_moved_classes_is_rerun_with_one_warning(tmp_path, capsys):
    """A checkpoint written before the subpackage move names ``gatesim.records``, which no
    longer exists: it is discarded and its replication run again, never a traceback."""
    s = load_scenario(SMALL_GATE)
    cp = Checkpoint(tmp_path / "out", checkpoint_key(s.model_dump(mode="json"), 5, "all"))
    cp.dir.mkdir(parents=True)
    for r in range(2):
        cp._path(r).write_bytes(b"\x80\x04cgatesim.records\nReplicationOutput\n.")
    resumed = experiment.run(s, replications=2, seed=5, workers=1, checkpoint=cp)
    fresh = experiment.run(s, replications=2, seed=5, workers=1)
    pd.testing.assert_frame_equal(resumed.summary, fresh.summary)
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "discarded unreadable checkpoint" in warnings[0]
