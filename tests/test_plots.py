"""Plots from result files: each writes PNG and SVG, is labelled and draws the right series."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer

import gatesim
from gatesim.output import plots, reader
from gatesim.output.writer import write_run
from tests.conftest import SMALL_GATE

KEYS = reader.primary(gatesim.load_scenario(SMALL_GATE))
"""The small gate's summary block: six system figures, each road's queue mean and p95."""

SWEEP_PARAM = "yards.front.slots"
SWEEP_VALUES = [4, 8, 12, 16, 20]
TARGET = {"metric": "road_queue", "scope": "system", "stat": "p95", "op": "<=", "value": 4.0}


def write_small_run(out: Path, overrides: tuple[str, ...] = (), records: bool = True) -> Path:
    """Three replications of the small gate, written as a run directory."""
    s = gatesim.load_scenario(SMALL_GATE, overrides=list(overrides))
    return write_run(gatesim.run(s, replications=3, seed=1), out, records=records)


def write_comparison(out: Path, baseline: str, other: str) -> pd.DataFrame:
    """A well-formed comparison.csv/.json of two run directories under ``out``: real estimates,
    synthetic CIs and p-values (every other summary-block figure significant), with the
    estimate of the baseline in ``baseline_estimate`` so that diff = estimate - baseline."""
    summaries = {n: pd.read_csv(out / n / "summary.csv").set_index(["metric", "scope", "stat"])
                 for n in (baseline, other)}
    rows = []
    for k, key in enumerate(KEYS):
        b, e = summaries[baseline].loc[key, "estimate"], summaries[other].loc[key, "estimate"]
        diff, half, significant = e - b, 0.2 * abs(e - b) + 0.05, k % 2 == 0
        p = 0.001 if significant else 0.4
        rows.append((*key, other, baseline, e, diff, diff - half / 2, diff + half / 2, 3, p,
                     min(1, 8 * p), significant, b, True, diff - half, diff + half, significant))
    df = pd.DataFrame(rows, columns=["metric", "scope", "stat", "scenario", "baseline",
                                     "estimate", "diff", "ci_low", "ci_high", "n", "p_value",
                                     "p_adj", "significant", "baseline_estimate", "in_block",
                                     "ci_low_block", "ci_high_block", "significant_block"])
    df.to_csv(out / "comparison.csv", index=False)
    meta = json.loads((out / baseline / "summary.json").read_text(encoding="utf-8"))
    doc = {"baseline": baseline, "scenarios": [baseline, other], "seed": 1, "replications": 3,
           **{k: meta[k] for k in ("stream_layout_version", "versions", "runtime_s", "workers")}}
    (out / "comparison.json").write_text(json.dumps(doc), encoding="utf-8")
    return df


def write_sweep(out: Path, target: dict | None = TARGET) -> tuple[pd.DataFrame, dict]:
    """A well-formed sweep.csv/.json over front-yard slots (synthetic, monotone estimates)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in SWEEP_VALUES:
        for metric, stat, est in (("time_in_system_h", "mean", 2 + 10 / s),
                                  ("road_queue", "p95", 40 / s)):
            rows.append((s, metric, "system", stat, est, 0.8 * est, 1.2 * est, 3, ""))
    df = pd.DataFrame(rows, columns=[SWEEP_PARAM, "metric", "scope", "stat", "estimate",
                                     "ci_low", "ci_high", "n", "note"])
    df.to_csv(out / "sweep.csv", index=False)
    best = None
    if target:
        ok = df[(df.metric == target["metric"]) & (df.stat == target["stat"])
                & (df.ci_high <= target["value"])]
        best = {SWEEP_PARAM: int(ok[SWEEP_PARAM].min())}
    spec = {"params": [SWEEP_PARAM], "target": target, "best": best, "seed": 1,
            "replications": 3, "versions": {"gatesim": "0.1.0"}, "runtime_s": 1.0}
    (out / "sweep.json").write_text(json.dumps(spec), encoding="utf-8")
    return df, spec


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> reader.RunFiles:
    return reader.read_run(write_small_run(tmp_path_factory.mktemp("plots") / "run"))


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("cmp")
    write_small_run(out / "small_gate")
    write_small_run(out / "more_staff", ("name=more_staff", "stages.documents.servers=4"))
    return write_comparison(out, "small_gate", "more_staff")


def labelled(fig) -> None:
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()
    assert all(ax.get_title() or ax.get_title(loc="left") for ax in fig.axes)


def written(png: Path) -> None:
    assert png.suffix == ".png" and png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.with_suffix(".svg").stat().st_size > 1000


def bars(ax) -> int:
    return sum(len(c) for c in ax.containers if isinstance(c, BarContainer))


@pytest.mark.parametrize("metric", reader.LEVELS)
def test_levels_one_line_and_band_per_scope(run, metric, tmp_path):
    fig = plots.figure_levels(run, metric)
    labelled(fig)
    (ax,) = fig.axes
    scopes = run.timeseries.loc[run.timeseries.metric == metric, "scope"].unique()
    assert len(ax.get_lines()) == len(scopes) == len(ax.collections)
    labels = ax.get_legend_handles_labels()[1]
    assert any(label.startswith("warm-up") for label in labels)
    assert any("open (gate_export)" in label for label in labels)
    written(plots.save(fig, tmp_path, metric))


def test_levels_band_is_the_t_interval_across_replications(run):
    ts = run.timeseries
    one = ts[(ts.metric == "in_system") & (ts.hour == 50)]["value"].to_numpy()
    b = reader.band(ts[ts.metric == "in_system"], ["scope", "hour"]).set_index("hour").loc[50]
    half = 4.302653 * one.std(ddof=1) / np.sqrt(3)
    assert b["mean"] == pytest.approx(one.mean())
    assert (b["low"], b["high"]) == pytest.approx((one.mean() - half, one.mean() + half))


def test_typical_day_profiles_queues_yards_and_waits(run, tmp_path):
    fig = plots.figure_typical_day(run)
    labelled(fig)
    queues, yards, waits = fig.axes
    assert len(queues.get_lines()) == 2 + 2          # in system, all roads, two peak markers
    assert len(yards.get_lines()) == len(run.scenario.yards)
    classes = {f"{d} {c}" for d, c in zip(run.trucks.direction, run.trucks.cargo, strict=True)}
    assert len(waits.get_lines()) == len(classes)
    assert "peaks in the system at" in queues.get_title()
    assert queues.get_xlim() == (0, 24)
    written(plots.save(fig, tmp_path, "typical_day"))


def test_typical_day_without_records_shows_queues_and_yards(run):
    fig = plots.figure_typical_day(dataclasses.replace(run, trucks=None, visits=None))
    labelled(fig)
    assert len(fig.axes) == 2


def test_distributions_ecdf_per_class_and_station(run, tmp_path):
    fig = plots.figure_distributions(run)
    labelled(fig)
    top, bottom = fig.axes
    assert len(top.get_lines()) == 3          # export fresh, export general, import general
    assert len(bottom.get_lines()) == run.visits.station.nunique()
    for line in top.get_lines():
        y = line.get_ydata()
        assert y.min() >= 0 and y.max() == pytest.approx(1) and np.all(np.diff(y) >= 0)
    written(plots.save(fig, tmp_path, "distributions"))


def test_throughput_bars_per_day_and_lane_side(run, tmp_path):
    fig = plots.figure_throughput(run)
    labelled(fig)
    (ax,) = fig.axes
    containers = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(containers) == 3               # main.export, main.import, smart.export
    assert all(len(c) == run.scenario.clock.horizon_days for c in containers)
    ts = run.timeseries
    dep = ts[(ts.metric == "departures") & (ts.scope == "main.import") & (ts.hour > 72)
             & (ts.hour <= 96)]
    day3 = dep.groupby("replication")["value"].sum().mean()
    main_import = next(c for c in containers if c.get_label() == "main import")
    assert main_import[3].get_height() == pytest.approx(day3)
    written(plots.save(fig, tmp_path, "throughput"))


def test_utilisation_one_bar_per_station(run, tmp_path):
    fig = plots.figure_utilisation(run)
    labelled(fig)
    (ax,) = fig.axes
    assert bars(ax) == len(run.scenario.stages) + 3
    written(plots.save(fig, tmp_path, "utilisation"))


def test_comparison_highlights_significant_rows(comparison, tmp_path):
    fig = plots.figure_comparison(comparison, "small_gate", KEYS)
    labelled(fig)
    assert sum(bars(ax) for ax in fig.axes) == len(comparison) == len(KEYS) == 10
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "ql1a" in titles and "cn_road" in titles  # each road apart, never summed
    colours = {}
    for ax, (_, row) in zip(fig.axes, comparison.iterrows(), strict=True):
        (bar,) = next(c for c in ax.containers if isinstance(c, BarContainer))
        colours.setdefault(bool(row.significant), set()).add(bar.get_facecolor())
    assert colours[True].isdisjoint(colours[False])
    written(plots.plot_comparison(comparison, "small_gate", KEYS, tmp_path))


def test_sweep_marks_smallest_capacity_meeting_target(tmp_path):
    df, spec = write_sweep(tmp_path / "sweep")
    assert spec["best"] == {SWEEP_PARAM: 12}
    fig = plots.figure_sweep(df, spec, plots.sweep_keys(spec)[0])
    labelled(fig)
    (ax,) = fig.axes
    assert len(ax.collections) == 1
    labels = ax.get_legend_handles_labels()[1]
    assert "smallest meeting it: 12" in labels and any(x.startswith("target ≤ 4") for x in labels)
    written(plots.plot_sweep(df, spec, tmp_path, plots.sweep_keys(spec)[0]))


def test_sweep_without_target_plots_default_metrics(tmp_path):
    df, spec = write_sweep(tmp_path / "sweep", target=None)
    keys = plots.sweep_keys(spec)
    assert keys == [("time_in_system_h", "system", "mean"), ("road_queue", "system", "p95")]
    for key in keys:
        fig = plots.figure_sweep(df, spec, key)
        labelled(fig)
        assert not any("smallest" in x for x in fig.axes[0].get_legend_handles_labels()[1])


def test_sweep_over_two_parameters_draws_one_line_per_setting(tmp_path):
    df, spec = write_sweep(tmp_path / "sweep")
    two = pd.concat([df.assign(**{"stages.documents.servers": k}) for k in (2, 3)])
    two = two[["stages.documents.servers", *df.columns]]
    spec = {**spec, "params": [SWEEP_PARAM, "stages.documents.servers"]}
    fig = plots.figure_sweep(two, spec, plots.sweep_keys(spec)[0])
    assert len(fig.axes[0].collections) == 2


def test_run_figures_skip_record_plots_without_records(run):
    stems = ["in_system", "yard_occupancy", "road_queue", "typical_day", "distributions",
             "throughput", "utilisation"]
    assert list(plots.run_figures(run)) == stems
    bare = dataclasses.replace(run, trucks=None, visits=None)
    assert list(plots.run_figures(bare)) == [s for s in stems if s != "distributions"]
