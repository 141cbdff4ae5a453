"""Plots from result files: each writes PNG and SVG, is labelled and draws the right series."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer
from matplotlib.patches import StepPatch

import gatesim
from gatesim.output import plots, reader
from gatesim.output.writer import write_run
from tests.conftest import SMALL_GATE, TINY

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
    """A headline (or a title on every axes), a y label on every axes (or the figure's), an
    x label on the bottom axes."""
    suptitle = fig.get_suptitle()
    assert suptitle or all(ax.get_title() or ax.get_title(loc="left") for ax in fig.axes)
    assert fig.get_supylabel() or all(ax.get_ylabel() for ax in fig.axes)
    assert any(ax.get_xlabel() for ax in fig.axes)


def written(png: Path) -> None:
    assert png.suffix == ".png" and png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.with_suffix(".svg").stat().st_size > 1000


def bars(ax) -> int:
    return sum(len(c) for c in ax.containers if isinstance(c, BarContainer))


@pytest.mark.parametrize("metric", ["in_system", "road_queue"])
def test_levels_one_line_and_band_per_scope(run, metric, tmp_path):
    fig = plots.figure_levels(run, metric)
    labelled(fig)
    (ax,) = fig.axes
    scopes = run.timeseries.loc[run.timeseries.metric == metric, "scope"].unique()
    assert len(ax.get_lines()) == len(scopes) == len(ax.collections)
    labels = fig.legends[0].get_texts()
    assert any(t.get_text().startswith("warm-up") for t in labels)
    assert any(t.get_text() == "main, export: open" for t in labels)
    written(plots.save(fig, tmp_path, metric))


def test_levels_of_many_yards_are_small_multiples_on_one_scale(run, tmp_path):
    fig = plots.figure_levels(run, "yard_occupancy")
    labelled(fig)
    assert len(fig.axes) == len(run.scenario.yards) == 5
    assert len({ax.get_ylim() for ax in fig.axes}) == 1
    for ax, (name, yard) in zip(fig.axes, run.scenario.yards.items(), strict=True):
        assert ax.get_title(loc="left").replace("\n", " ") == f"{name} ({yard.slots} slots)"
        mean, slots = ax.get_lines()
        assert set(slots.get_ydata()) == {yard.slots}
    assert fig.get_supylabel() == "slots taken"
    written(plots.save(fig, tmp_path, "yard_occupancy"))


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
    closure = [line for line in queues.get_lines() if "closure days" in line.get_label()]
    assert len(closure) == 2                  # in the system and on the roads, 10-11 Feb
    assert len(queues.get_lines()) == 2 + 2 + 2   # two profiles, two peak markers
    assert len(yards.get_lines()) == len(run.scenario.yards)   # every yard has slots
    assert max(line.get_ydata().max() for line in yards.get_lines()) <= 1.0
    classes = {f"{d} {c}" for d, c in zip(run.trucks.direction, run.trucks.cargo, strict=True)}
    assert len(waits.get_lines()) == len(classes)
    assert "peaks in the system at" in queues.get_title()
    assert queues.get_xlim() == (0, 24)
    assert "10 Feb 2024 (closed)" in fig.get_suptitle().replace("\n", " ")
    written(plots.save(fig, tmp_path, "typical_day"))


def test_typical_day_without_records_shows_queues_and_yards(run):
    fig = plots.figure_typical_day(dataclasses.replace(run, trucks=None, visits=None))
    labelled(fig)
    assert len(fig.axes) == 2


def test_distributions_ecdf_per_class(run, tmp_path):
    fig = plots.figure_distributions(run)
    labelled(fig)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 3           # export fresh, export general, import general
    for line in ax.get_lines():
        y = line.get_ydata()
        assert y.min() >= 0 and y.max() == pytest.approx(1) and np.all(np.diff(y) >= 0)
    written(plots.save(fig, tmp_path, "distributions"))


def test_waits_a_panel_per_site_and_direction_a_bar_per_station(run, tmp_path):
    fig = plots.figure_waits(run)
    labelled(fig)
    export, imports = fig.axes                # the small gate has no sites
    assert export.get_title(loc="left") == "export" and imports.get_title(loc="left") == "import"
    stations = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert sorted(stations) == sorted(
        f"{s[:-7]}, {s[-6:]}" if s.endswith(("export", "import")) else s
        for s in run.visits.station.unique())
    assert bars(export) + bars(imports) == run.visits.station.nunique()
    t = reader.truck_waits(run)
    v = run.visits.merge(t[["replication", "id"]], left_on=["replication", "truck"],
                         right_on=["replication", "id"])
    documents = v[v.station == "documents"].groupby("replication")["wait"].mean().mean()
    (first, *_) = next(c for c in export.containers if isinstance(c, BarContainer))
    assert export.get_yticklabels()[0].get_text() == "documents"
    assert first.get_width() == pytest.approx(documents)
    written(plots.save(fig, tmp_path, "waits"))


def test_throughput_stacks_lanes_per_direction_beside_demand(run, tmp_path):
    fig = plots.figure_throughput(run)
    labelled(fig)
    export, imports = fig.axes
    containers = {ax: [c for c in ax.containers if isinstance(c, BarContainer)]
                  for ax in fig.axes}
    assert [c.get_label() for c in containers[export]] == ["main", "smart"]
    assert [c.get_label() for c in containers[imports]] == ["main"]
    assert all(len(c) == run.scenario.clock.horizon_days for cs in containers.values()
               for c in cs)
    ts = run.timeseries
    dep = ts[(ts.metric == "departures") & (ts.scope == "main.import") & (ts.hour > 72)
             & (ts.hour <= 96)]
    day3 = dep.groupby("replication")["value"].sum().mean()
    assert containers[imports][0][3].get_height() == pytest.approx(day3)
    for ax, direction in ((export, "export"), (imports, "import")):
        (stair,) = [p for p in ax.patches if isinstance(p, StepPatch)]
        assert stair.get_label().startswith("trucks arriving per day (counted in the truck "
                                            "records)")
        arrived = run.trucks[(run.trucks.direction == direction) & (run.trucks.arrival >= 72)
                             & (run.trucks.arrival < 96)]
        per_rep = arrived.groupby("replication").size().reindex(range(3), fill_value=0)
        assert stair.get_data().values[3] == pytest.approx(per_rep.mean())
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
             "waits", "throughput", "utilisation"]
    assert list(plots.run_figures(run)) == stems
    bare = dataclasses.replace(run, trucks=None, visits=None)
    assert list(plots.run_figures(bare)) == [s for s in stems
                                             if s not in ("distributions", "waits")]
    assert all(plots.caption(stem) for stem in stems)


def test_a_gate_without_lanes_gets_every_figure_but_throughput(tmp_path):
    """The smallest scenario: one stage, no lane, no calendar (no crossings to count)."""
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    s = gatesim.load_scenario(tmp_path / "tiny.yaml")
    one = reader.read_run(write_run(gatesim.run(s, replications=2, seed=1), tmp_path / "a",
                                    xlsx=False))
    stems = list(plots.run_figures(one))
    assert "throughput" not in stems and "waits" in stems
    written(plots.plot_run(one, tmp_path / "plots")[-1])
    pngs = plots.plot_overlay([one, one], tmp_path / "overlay")
    assert "overlay_throughput" not in [p.stem for p in pngs]
