"""Every figure reads on an A4 page, in English and in Vietnamese: no text under 9 pt at the
page's width, no title or legend sticking out of its figure (renderer extents, not pixels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

import gatesim
from gatesim.i18n import using
from gatesim.output import plots, reader
from gatesim.output.morris_plot import figure_morris
from gatesim.output.plots.common import A4_WIDTH, MIN_PT
from gatesim.output.tornado import figure_tornado
from gatesim.output.writer import write_run
from tests.conftest import ROOT
from tests.test_plots import KEYS, comparison, run, write_sweep  # noqa: F401  (fixtures)
from tests.test_plots_overlay import runs  # noqa: F401  (fixture)

LANGS = ["en", "vi"]
SMART_GATE = ROOT / "scenarios" / "huu_nghi_smart_gate.yaml"
SLACK = 1.0
"""Pixels a text's box may pass the figure's edge by (anti-aliasing)."""


def texts(fig: Figure) -> list[Text]:
    """The visible, non-empty texts of a figure (titles, labels, ticks, legends)."""
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
            and t.get_figure() is not None]


def check(fig: Figure) -> None:
    """Sizes and extents as on the page: the figure at A4 text width, every text at least
    9 pt there, titles and legends inside the figure."""
    assert fig.get_figwidth() <= A4_WIDTH + 1e-9
    axes = fig.findobj(Axes)   # subfigures' too
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    small = [(t.get_text(), t.get_fontsize()) for t in texts(fig)
             if t.get_fontsize() < MIN_PT * fig.get_figwidth() / A4_WIDTH - 1e-9]
    assert small == []
    titles = [fig._suptitle] if fig._suptitle is not None else []
    titles += [t for ax in axes for t in (ax.title, ax._left_title, ax._right_title)
               if t.get_text()]
    titles += [label for label in (fig._supxlabel, fig._supylabel) if label is not None]
    for t in titles:
        e = t.get_window_extent(renderer)
        assert e.x0 >= box.x0 - SLACK and e.x1 <= box.x1 + SLACK, t.get_text()
        assert e.y0 >= box.y0 - SLACK and e.y1 <= box.y1 + SLACK, t.get_text()
        assert e.width <= box.width
    legends = list(fig.legends) + [ax.get_legend() for ax in axes if ax.get_legend()]
    for legend in legends:
        e = legend.get_window_extent(renderer)
        assert (e.x0 >= box.x0 - SLACK and e.x1 <= box.x1 + SLACK
                and e.y0 >= box.y0 - SLACK and e.y1 <= box.y1 + SLACK), [
            t.get_text() for t in legend.get_texts()]
    for ax in axes:   # tick labels and axis labels on the page too
        e = ax.get_tightbbox(renderer)
        assert e.x0 >= box.x0 - SLACK and e.x1 <= box.x1 + SLACK


@pytest.mark.parametrize("lang", LANGS)
def test_run_figures_read_at_a4(run, lang):  # noqa: F811
    with using(lang):
        for stem, build in plots.run_figures(run).items():
            fig = build()
            try:
                check(fig)
            except AssertionError as exc:
                raise AssertionError(f"{stem}: {exc}") from None


@pytest.fixture(scope="module")
def smart_gate(tmp_path_factory) -> reader.RunFiles:
    """The shipped smart gate (labelled, 33 stations, 11 yards) for six days, two
    replications, records of every tenth truck."""
    s = gatesim.load_scenario(SMART_GATE, overrides=["clock.horizon_days=6"])
    out = tmp_path_factory.mktemp("smart") / "run"
    return reader.read_run(write_run(gatesim.run(s, replications=2, seed=5, records="sample"),
                                     out, xlsx=False))


@pytest.mark.parametrize("lang", LANGS)
def test_a_shipped_scenario_reads_at_a4(smart_gate, lang):
    """Long display names, many yards and stations: nothing sticks out of the page."""
    with using(lang):
        for stem, build in plots.run_figures(smart_gate).items():
            try:
                check(build())
            except AssertionError as exc:
                raise AssertionError(f"{stem}: {exc}") from None


@pytest.mark.parametrize("lang", LANGS)
def test_overlay_figures_read_at_a4(runs, lang):  # noqa: F811
    with using(lang):
        for stem, build in plots.overlay_figures(runs).items():
            try:
                check(build())
            except AssertionError as exc:
                raise AssertionError(f"{stem}: {exc}") from None


def test_comparison_and_sweep_read_at_a4(comparison, tmp_path):  # noqa: F811
    check(plots.figure_comparison(comparison, "small_gate", KEYS))
    longer = comparison.replace({"more_staff": "more_staff_and_a_second_quarantine_post"})
    with using("vi"):
        check(plots.figure_comparison(longer, "small_gate", KEYS))
    df, spec = write_sweep(tmp_path / "sweep")
    check(plots.figure_sweep(df, spec, plots.sweep_keys(spec)[0]))


def test_a_long_title_is_wrapped_not_cut(run):  # noqa: F811
    from gatesim.output.plots.common import headline, new_figure, title

    fig, axes = new_figure(rows=1, cols=2)
    headline(fig, "A very long headline " * 12)
    title(axes[0], "A long title over a narrow panel of a grid of two " * 2)
    for ax in axes:
        ax.set_xlabel("x")
    check(fig)
    assert fig.get_suptitle().count("\n") >= 2


def sensitivity_table(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    swing = np.sort(rng.uniform(0.1, 5, n))[::-1]
    return pd.DataFrame({
        "parameter": [f"stages.hn_export_documents.service.mean_{k}" if k % 3 == 0 else
                      f"a_rather_long_parameter_name_{k}" for k in range(n)],
        "low": rng.uniform(1, 10, n), "high": rng.uniform(10, 100, n), "swing": swing,
        "base": 8.0, "at_low": 8 - swing / 2, "at_high": 8 + swing / 2,
        "diff_low_ci_low": -swing / 2 - 0.3, "diff_low_ci_high": -swing / 2 + 0.3,
        "diff_high_ci_low": swing / 2 - 0.3, "diff_high_ci_high": swing / 2 + 0.3,
        "effect_shown": [k % 4 != 3 for k in range(n)], "metric": "time_in_system_h",
        "stat": "mean", "scope": "system", "mu_star": swing, "mu_star_ci_low": swing * 0.8,
        "mu_star_ci_high": swing * 1.2, "sigma": swing * rng.uniform(0.2, 1.5, n)})


@pytest.mark.parametrize("lang", LANGS)
def test_tornado_and_morris_read_at_a4(lang):
    table = sensitivity_table()
    meta = {"metric": {"metric": "time_in_system_h", "stat": "mean", "scope": "system"},
            "replications": 5, "scenarios": ["huu_nghi", "huu_nghi_smart_gate"],
            "answer": "huu_nghi_smart_gate − huu_nghi", "trajectories": 10, "levels": 4,
            "scenario": {"huu_nghi": {"labels": {"a_rather_long_parameter_name_1": {
                "en": "Customs desk minutes", "vi": "Phút tại bàn hải quan"}}}}}
    with using(lang):
        tornado = figure_tornado(table, meta)
        check(tornado)
        check(figure_morris(table, meta))
    ticks = " ".join(t.get_text() for t in tornado.axes[0].get_yticklabels())
    assert ("Customs desk minutes" if lang == "en" else "Phút tại bàn hải quan") in ticks
    assert lang == "vi" or "hn_export_documents — service time, mean_0 (h)" in ticks
