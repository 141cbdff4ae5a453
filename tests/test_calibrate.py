"""Calibration: a known answer, validation kept out of the fit, refusals, resume, the files."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

import gatesim
from gatesim import cli
from gatesim.errors import GatesimError, ScenarioError
from gatesim.experiments.calibrate import CALIBRATION_COLUMNS, calibrate, prepare
from gatesim.experiments.checkpoint import MeasureStore
from gatesim.experiments.targets import load_targets, measure
from gatesim.output.calibration import write_calibration
from gatesim.scenario.loader import load_scenario

# Two desks in a row; the first has 2 officers near saturation at its true service mean of
# 10 min (ρ = 0.83), whose range 5–15 min reaches past saturation (ρ = 1.25: unstable).
DESK = """\
name: desk
clock: {start: 2024-01-01 00:00, horizon_days: 10, warmup_days: 1}
calendars:
  office: {weekly: [{windows: [{open: "06:00", close: {value: 22, low: 20, high: 24,
                                                          name: closing}}]}]}
yards: {y: {}}
stages:
  desk: {servers: 2, yard: y, service: {dist: exponential, unit: min,
         mean: {value: 8, low: 5, high: 15, name: desk_minutes}}}
  after: {servers: 1, yard: y, calendar: office, service: {dist: exponential, unit: min,
          mean: {value: 1, low: 0.5, high: 2, name: after_minutes}}}
arrivals: {c: {direction: import, cargo: general, rate_per_day: 240}}
routes: {only: {direction: import, cargo: general, steps: [{stage: desk}, {stage: after}]}}
"""
TRUE_MINUTES, DATA_SEED = 10.0, 999


def _data(path) -> dict[str, tuple[float, float]]:
    """'Reported' figures made by gatesim at the true value with another seed: the mean of
    10 replications, and its 95 % half-width as the half-band."""
    s = load_scenario(path, [f"stages.desk.service.mean={TRUE_MINUTES}"])
    summary = gatesim.run(s, 10, DATA_SEED, records="none").summary.set_index(
        ["metric", "scope", "stat"])
    out = {}
    for key in (("utilisation", "desk", "mean"), ("wait_h", "desk", "mean")):
        row = summary.loc[key]
        out["/".join(key)] = (float(row.estimate), float(row.ci_high - row.estimate))
    return out


def _targets(path, data, extra: dict | None = None, fit=("desk_minutes",)) -> None:
    targets = {
        f"t{i}": {"measure": "summary", "metric": key, "reported": value, "half_band": half,
                  "source": f"gatesim, seed {DATA_SEED}", "use": "calibration"}
        for i, (key, (value, half)) in enumerate(data.items())}
    targets.update(extra or {})
    path.write_text(yaml.safe_dump({"fit": list(fit), "targets": targets}), encoding="utf-8")


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibrate")
    scenario = root / "desk.yaml"
    scenario.write_text(DESK, encoding="utf-8")
    data = _data(scenario)
    targets = root / "targets.yaml"
    _targets(targets, data)
    result = calibrate(scenario, targets, replications=5, seed=1)
    return scenario, targets, data, result


def test_calibration_recovers_the_parameter_that_made_the_data(known):
    *_, result = known
    row = result.fit.set_index("parameter").loc["desk_minutes"]
    assert abs(row.fitted - TRUE_MINUTES) <= 0.10 * TRUE_MINUTES
    assert row.interval_low <= TRUE_MINUTES <= row.interval_high
    assert row.interval_low < row.fitted < row.interval_high
    assert row.interval_note == ""  # the interval closes inside the range
    assert result.table.in_band.all()
    assert not result.table.start_in_band.any()  # 8 min was far off


def test_a_candidate_whose_backlog_grows_is_refused_not_fitted(known):
    *_, result = known
    trials = result.trials
    assert trials.unstable.any()  # 15 min: ρ = 1.25
    assert not trials.loc[trials.unstable, "desk_minutes"].lt(11).any()
    assert not result.meta["unstable"]
    prof = result.profile
    inside = prof[prof.value.between(*result.fit.loc[0, ["interval_low", "interval_high"]])]
    assert not inside.unstable.any()


def test_validation_figures_are_measured_never_fitted(known, tmp_path):
    scenario, _, data, result = known
    wild = {"far_off": {"measure": "waiting", "places": ["y"], "at": "2024-01-05 12:00",
                        "reported": 1e6, "half_band": 1, "source": "nowhere",
                        "use": "validation"}}
    targets = tmp_path / "targets.yaml"
    _targets(targets, data, wild)
    again = calibrate(scenario, targets, replications=5, seed=1)
    assert again.fit.fitted.tolist() == result.fit.fitted.tolist()
    row = again.table.set_index("target").loc["far_off"]
    assert row.set == "validation" and not row.in_band
    assert list(again.table.columns) == CALIBRATION_COLUMNS


def test_measures_are_read_exactly_from_the_hourly_series(known):
    scenario, *_ = known
    s = load_scenario(scenario)
    r = gatesim.run(s, 2, 5, records="none")
    spec = load_targets_from({
        "w": {"measure": "waiting", "places": ["y"], "at": "2024-01-03 07:00"},
        "c": {"measure": "summary", "metric": "throughput_per_day/system/mean"}})
    ts = r.timeseries
    for out in r.outputs:
        rep = ts[ts.replication == out.replication]
        want = rep[(rep.time == "2024-01-03T07:00") & (rep.scope == "y")].value.sum()
        assert measure(spec.targets["w"], r.scenario, out) == want
    per_rep = r.replications
    want = per_rep[(per_rep.metric == "throughput_per_day") & (per_rep.scope == "system")]
    got = [measure(spec.targets["c"], r.scenario, o) for o in r.outputs]
    assert got == want.sort_values("replication").value.tolist()


def load_targets_from(targets: dict):
    import tempfile
    from pathlib import Path

    base = {"reported": 1, "half_band": 1, "source": "s", "use": "calibration"}
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.yaml"
        p.write_text(yaml.safe_dump({"fit": ["desk_minutes"], "targets": {
            k: {**base, **v} for k, v in targets.items()}}), encoding="utf-8")
        return load_targets(p)


def test_growth_is_the_least_squares_slope_of_daily_snapshots(known):
    scenario, *_ = known
    s = load_scenario(scenario, ["stages.desk.service.mean=14"])  # unstable: it grows
    r = gatesim.run(s, 2, 5, records="none")
    spec = load_targets_from({"g": {"measure": "growth", "places": ["y"],
                                    "from": "2024-01-03 12:00", "to": "2024-01-09 12:00"}})
    ts = r.timeseries
    for out in r.outputs:
        rep = ts[(ts.replication == out.replication) & (ts.scope == "y")]
        days = [f"2024-01-{d:02d}T12:00" for d in range(3, 10)]
        y = [rep[rep.time == t].value.sum() for t in days]
        want = np.polyfit(np.arange(7), y, 1)[0]
        assert measure(spec.targets["g"], r.scenario, out) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(("change", "words"), [
    ({"fit": ["desk_minuts"]},
     "no ranged parameter 'desk_minuts' in desk; did you mean 'desk_minutes'"),
    ({"targets": {"t": {"measure": "waiting", "places": ["yy"], "at": "2024-01-05 12:00"}}},
     "no yard or road 'yy'"),
    ({"targets": {"t": {"measure": "waiting", "places": ["y"], "at": "2024-03-05 12:00"}}},
     "within desk's run"),
    ({"targets": {"t": {"measure": "waiting", "places": ["y"], "at": "2024-01-05 12:30"}}},
     "a time on the hour"),
    ({"targets": {"t": {"measure": "cleared", "sides": ["gate.export"], "date": "2024-01-05"}}},
     "no lane side 'gate.export'"),
    ({"targets": {"t": {"measure": "summary", "metric": "wait_h/desks/mean"}}},
     "has no scope 'desks'"),
    ({"targets": {"t": {"measure": "queue", "metric": "x"}}}, "targets.t"),
    ({"targets": {"t": {"measure": "summary", "metric": "wait_h/desk/mean", "half_band": 0}}},
     "targets.t.half_band"),
    ({"targets": {"t": {"measure": "summary", "metric": "wait_h/desk/mean",
                        "use": "validation"}}}, "at least one target with use: calibration"),
])
def test_bad_targets_are_refused_in_one_line_before_any_run(known, tmp_path, monkeypatch,
                                                            change, words):
    scenario, *_ = known
    base = {"reported": 1, "half_band": 1, "source": "s", "use": "calibration"}
    doc = {"fit": ["desk_minutes"], "targets": {}}
    doc.update({k: v for k, v in change.items() if k == "fit"})
    for name, t in change.get("targets", {"t": {"measure": "summary",
                                                "metric": "wait_h/desk/mean"}}).items():
        doc["targets"][name] = {**base, **t}
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump(doc), encoding="utf-8")
    monkeypatch.setattr(gatesim.experiments.calibration_plan, "run",
                        lambda *a, **k: pytest.fail("ran before refusing"))
    with pytest.raises((GatesimError, ScenarioError)) as err:
        prepare(scenario, targets, 5)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_cli_refuses_with_exit_2_and_one_line(known, tmp_path, capsys):
    scenario, *_ = known
    targets = tmp_path / "t.yaml"
    targets.write_text("fit: [nope]\ntargets: {}\n", encoding="utf-8")
    code = cli.main(["calibrate", str(scenario), "--targets", str(targets), "--out",
                     str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "targets" in err


def test_same_seed_same_fit_whatever_the_workers_and_an_interrupted_run_resumes(known,
                                                                                tmp_path):
    scenario, targets, _, result = known
    store = MeasureStore(tmp_path / "out")
    two = calibrate(scenario, targets, replications=5, seed=1, workers=2, store=store)
    pd.testing.assert_frame_equal(two.fit, result.fit)
    pd.testing.assert_frame_equal(two.table, result.table)
    assert store.done() > 0
    again = calibrate(scenario, targets, replications=5, seed=1, store=store)
    assert again.meta["runs"] == 0  # every candidate read back from the store
    pd.testing.assert_frame_equal(again.fit, result.fit)


def test_the_variant_file_runs_with_the_fitted_values_and_keeps_the_ranges(tmp_path):
    scenario = tmp_path / "desk.yaml"
    scenario.write_text(DESK, encoding="utf-8")
    s = load_scenario(scenario, ["stages.desk.service.mean=10", "calendars.office.weekly.0."
                                 "windows.0.close=21"])
    r = gatesim.run(s, 6, DATA_SEED, records="none")
    busy = r.summary.set_index(["metric", "scope", "stat"]).loc[
        ("utilisation", "after", "mean")]
    targets = tmp_path / "t.yaml"
    _targets(targets, {"utilisation/after/mean": (float(busy.estimate), 0.01)},
             fit=("desk_minutes", "closing"))
    result = calibrate(scenario, targets, replications=3, seed=1, budget=6, profile_points=3)
    out = write_calibration(result, tmp_path / "out")
    assert {p.name for p in out.iterdir()} >= {"calibration.csv", "calibration.json",
                                                 "fit.csv", "profile.csv", "trials.csv",
                                                 "calibrated.yaml", "plots"}
    fitted = result.fit.set_index("parameter").fitted
    variant = load_scenario(out / "calibrated.yaml")
    assert variant.stages["desk"].service.mean == pytest.approx(fitted["desk_minutes"],
                                                                rel=1e-5)
    close = dt.time.fromisoformat(variant.calendars["office"].weekly[0].windows[0].close)
    assert abs(close.hour + close.minute / 60 - fitted["closing"]) <= 1 / 60
    assert set(variant.uncertain) == {"desk_minutes", "closing", "after_minutes"}
    assert variant.uncertain["closing"].low == 20 and variant.uncertain["closing"].high == 24
    assert "calibrated" in variant.uncertain["desk_minutes"].note


def test_a_profile_that_dips_back_under_the_level_widens_the_interval_and_says_so():
    from gatesim.experiments.profile import interval

    prof = pd.DataFrame({"value": [20, 21, 22, 23, 24], "profile": [7.0, 30.0, 11.0, 6.0, 5.0]})
    lo, hi, note = interval(prof, 24.0, 5.0)
    assert (lo, hi) == (20, 24)
    assert "not one piece" in note and "21" in note and "low end" in note
    quadratic = pd.DataFrame({"value": [8.0, 9.0, 10.0, 11.0, 12.0],
                              "profile": [4.0 * (v - 10) ** 2 for v in (8, 9, 10, 11, 12)]})
    lo, hi, note = interval(quadratic, 10.0, 0.0)  # S = 4 (x − 10)²: 3.84 at 10 ± 0.98
    assert lo == pytest.approx(10 - 3.841458820694124 ** 0.5 / 2)
    assert hi == pytest.approx(10 + 3.841458820694124 ** 0.5 / 2) and note == ""
