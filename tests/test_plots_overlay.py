"""The comparison drawn as overlays: every scenario on the same axes, one line each, panels of
one figure on one scale, the same colour for a scenario in every figure."""

from __future__ import annotations

import pytest

from gatesim.output import plots, reader
from tests.test_plots import write_small_run, written

NAMES = ["small_gate", "more_staff"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[reader.RunFiles]:
    out = tmp_path_factory.mktemp("overlay")
    write_small_run(out / "small_gate")
    write_small_run(out / "more_staff", ("name=more_staff", "stages.documents.servers=4",
                                         "yards.front.slots=20"))
    return [reader.read_run(out / n) for n in NAMES]


def scenario_lines(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines() if line.get_label() in NAMES]


def colours(fig) -> dict[str, str]:
    return {line.get_label(): line.get_color() for ax in fig.axes for line in ax.get_lines()
            if line.get_label() in NAMES}


@pytest.mark.parametrize("metric", reader.LEVELS)
def test_levels_one_line_per_scenario_on_shared_axes(runs, metric):
    fig = plots.figure_overlay_levels(runs, metric)
    scopes = runs[0].timeseries.query("metric == @metric").scope.unique()
    assert len(fig.axes) == len(scopes)
    for ax in fig.axes:
        assert scenario_lines(ax) == NAMES
    assert len({ax.get_xlim() for ax in fig.axes}) == 1
    assert len({ax.get_ylim() for ax in fig.axes}) == 1
    first = fig.axes[0]
    assert all(first.get_shared_y_axes().joined(first, ax) for ax in fig.axes[1:])
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == NAMES


def test_yard_panels_show_each_scenarios_slots(runs):
    fig = plots.figure_overlay_levels(runs, "yard_occupancy")
    front = next(ax for ax in fig.axes if ax.get_title(loc="left") == "front")
    slots = {line.get_color(): line.get_ydata()[0] for line in front.get_lines()
             if line.get_linestyle() == ":"}
    by_scenario = colours(fig)
    assert slots == {by_scenario["small_gate"]: 12, by_scenario["more_staff"]: 20}


def test_a_scenario_keeps_its_colour_in_every_figure(runs):
    seen = [colours(build()) for stem, build in plots.overlay_figures(runs).items()
            if stem != "overlay_utilisation"]
    assert all(c == seen[0] for c in seen) and len(set(seen[0].values())) == 2


def test_typical_day_and_throughput_carry_one_line_per_scenario(runs):
    day = plots.figure_overlay_typical_day(runs)
    assert len(day.axes) == 3
    for ax in day.axes:
        assert scenario_lines(ax) == NAMES
    flows = plots.figure_overlay_throughput(runs)
    for ax in flows.axes:
        assert scenario_lines(ax) == NAMES
        stairs = [p for p in ax.patches if p.get_label().startswith("trucks arriving")]
        assert len(stairs) == 1   # the same demand in both: one black line
    assert len({ax.get_ylim() for ax in flows.axes}) == 1


def test_distributions_and_utilisation_compare_the_scenarios(runs):
    dist = plots.figure_overlay_distributions(runs)
    assert [ax.get_title(loc="left") for ax in dist.axes] == ["Export: time in the system",
                                                               "Import: time in the system"]
    for ax in dist.axes:
        assert scenario_lines(ax) == NAMES
    util = plots.figure_overlay_utilisation(runs)
    (ax,) = util.axes
    assert [c.get_label() for c in ax.containers if c.get_label() in NAMES] == NAMES


def test_plot_overlay_writes_every_figure(runs, tmp_path):
    pngs = plots.plot_overlay(runs, tmp_path)
    assert [p.stem for p in pngs] == [
        "overlay_in_system", "overlay_yard_occupancy", "overlay_road_queue",
        "overlay_typical_day", "overlay_throughput", "overlay_distributions",
        "overlay_utilisation"]
    for png in pngs:
        written(png)
        assert plots.caption(png.stem)


def out_of_view(fig) -> list[str]:
    """Lines drawn beyond their axes' limits (a limit set before a panel sharing the scale
    drew larger values hid them: the import panel of the default comparison came out empty)."""
    import numpy as np

    hidden = []
    for ax in fig.axes:
        low, high = sorted(ax.get_ylim())  # a bar chart of stations runs top-down
        pad = 1e-9 * max(1.0, abs(high))
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            y = y[np.isfinite(y)]
            if y.size and (y.max() > high + pad or y.min() < low - pad):
                hidden.append(f"{ax.get_title(loc='left') or ax.get_title()}: "
                              f"{line.get_label()} reaches {y.max():g} > {high:g}")
    return hidden


def test_no_line_is_drawn_out_of_view(runs):
    for stem, build in {**plots.overlay_figures(runs), **plots.run_figures(runs[0])}.items():
        assert out_of_view(build()) == [], stem
