"""The sweep's axis: numbers at their true positions, named in words with the unit; many
settings of the other parameters as small multiples."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gatesim.i18n import using
from gatesim.output import plots
from tests.test_plots import SWEEP_PARAM, write_small_run, write_sweep

UNEVEN = [2, 3, 5, 10, 40]


@pytest.fixture(scope="module")
def scenario_doc(tmp_path_factory) -> dict:
    """The small gate's resolved scenario (as sweep.json keeps it), the front yard labelled."""
    run = write_small_run(tmp_path_factory.mktemp("doc") / "run", records=False)
    doc = json.loads((run / "summary.json").read_text(encoding="utf-8"))["scenario"]
    doc["yards"]["front"]["label"] = {"en": "Front yard", "vi": "Bãi trước cổng"}
    return doc


def uneven(df: pd.DataFrame) -> pd.DataFrame:
    """The synthetic sweep with its five points moved to uneven values."""
    return df.assign(**{SWEEP_PARAM: df[SWEEP_PARAM].map(dict(zip([4, 8, 12, 16, 20], UNEVEN,
                                                                  strict=True)))})


def test_x_data_are_the_numeric_values_at_their_positions(tmp_path, scenario_doc):
    df, spec = write_sweep(tmp_path / "sweep", target=None)
    spec = {**spec, "scenario": scenario_doc}
    df = uneven(df)
    df[SWEEP_PARAM] = df[SWEEP_PARAM].astype(str)    # as a CSV of mixed columns may read
    fig = plots.figure_sweep(df, spec, plots.sweep_keys(spec)[0])
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert np.asarray(line.get_xdata(), dtype=float).tolist() == UNEVEN
    assert ax.get_xlim()[0] < 2 and ax.get_xlim()[1] > 40
    assert ax.get_xlabel() == "Front yard — slots"
    fig.canvas.draw()
    ticks = [float(t) for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks != UNEVEN     # crowded values: the axis' own ticks, the values as dots
    assert line.get_marker() == "o"


def test_x_label_in_vietnamese(tmp_path, scenario_doc):
    df, spec = write_sweep(tmp_path / "sweep", target=None)
    with using("vi"):
        fig = plots.figure_sweep(df, {**spec, "scenario": scenario_doc},
                                 plots.sweep_keys(spec)[0])
    assert fig.axes[0].get_xlabel().startswith("Bãi trước cổng — ")


@pytest.mark.parametrize(("path", "words"), [
    ("yards.front.slots", "front — slots"),
    ("stages.documents.servers", "documents — servers"),
    ("stages.documents.service.mean", "documents — service time, mean (min)"),
    ("lanes.main.export.capacity_per_hour", "main, export — admission (trucks/h)"),
    ("lanes.main.crossing_time.high", "main — crossing time, high (min)"),
    ("lanes.main.export.daily_cap.fresh", "main, export — daily cap, fresh (trucks/day)"),
    ("arrivals.export_fresh.rate_per_day", "export_fresh — arrivals (trucks/day)"),
    ("attributes.predeclared", "predeclared — share of trucks"),
    ("yards.front.cost_per_slot_year", "front — cost per slot and year (VND)"),
    ("clock.horizon_days", "horizon (days)"),
    ("something.else", "something.else"),
])
def test_parameter_in_words_with_its_unit(path, words, scenario_doc):
    doc = {**scenario_doc, "yards": {**scenario_doc["yards"], "front": {
        k: v for k, v in scenario_doc["yards"]["front"].items() if k != "label"}}}
    assert plots.parameter(path, doc) == words


def test_many_settings_of_a_second_parameter_are_small_multiples(tmp_path):
    df, spec = write_sweep(tmp_path / "sweep")
    servers = [1, 2, 3, 4, 6, 9]
    grid = pd.concat([df.assign(**{"stages.documents.servers": k}) for k in servers])
    spec = {**spec, "params": [SWEEP_PARAM, "stages.documents.servers"],
            "best": {SWEEP_PARAM: 12, "stages.documents.servers": 3}}
    fig = plots.figure_sweep(grid, spec, plots.sweep_keys(spec)[0])
    assert len(fig.axes) == len(servers)
    assert all(len(ax.collections) == 1 for ax in fig.axes)       # one band each
    assert [ax.get_title(loc="left").replace("\n", " ") for ax in fig.axes] == [
        f"documents — servers = {k}" for k in servers]   # no labels: the code names
    assert len({ax.get_ylim() for ax in fig.axes}) == 1
    best = [ax for ax in fig.axes
            if any(line.get_label().startswith("smallest") for line in ax.get_lines())]
    assert best == [fig.axes[2]]
    assert all(ax.get_xlabel() == "front — slots" for ax in fig.axes[-3:])


def test_the_best_of_a_setting_drawn_as_lines_is_a_star_on_its_line(tmp_path):
    df, spec = write_sweep(tmp_path / "sweep")
    two = pd.concat([df.assign(**{"stages.documents.servers": k}) for k in (2, 3)])
    spec = {**spec, "params": [SWEEP_PARAM, "stages.documents.servers"],
            "best": {SWEEP_PARAM: 12, "stages.documents.servers": 3}}
    fig = plots.figure_sweep(two, spec, plots.sweep_keys(spec)[0])
    (ax,) = fig.axes
    (star,) = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert star.get_label() == "smallest meeting it: 12"
    assert list(star.get_xdata()) == [12]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["2", "3"]
    assert fig.legends[0].get_title().get_text() == "documents — servers"
    assert not [line for line in ax.get_lines() if line.get_linestyle() == "-"
                and len(set(line.get_xdata())) == 1]          # no vertical line for all


def test_values_that_are_words_are_evenly_spaced_in_the_order_tried(tmp_path):
    df, spec = write_sweep(tmp_path / "sweep", target=None)
    words = dict(zip([4, 8, 12, 16, 20], ["ql1a", "turn_away", "ql4a", "cn_road", "x"],
                     strict=True))
    df = df.assign(**{SWEEP_PARAM: df[SWEEP_PARAM].map(words)})
    fig = plots.figure_sweep(df, spec, plots.sweep_keys(spec)[0])
    (ax,) = fig.axes
    assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2, 3, 4]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(words.values())
