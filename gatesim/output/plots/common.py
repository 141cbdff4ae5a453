"""What every plot shares: a style readable on an A4 page, figures and their files, colours,
titles and legends that fit, numbers in the current language.

Figures are drawn at the width of an A4 page's text (170 mm), so a figure placed across the
page keeps its sizes: no text below 9 pt. matplotlib's object API on the Agg canvas, no
pyplot: importing this leaves the caller's backend alone and no figure lingers in a registry.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ParamSpec

import matplotlib as mpl
from cycler import cycler
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from gatesim import i18n

A4_WIDTH = 6.7
"""Inches: the text width of an A4 page with 20 mm margins, the width of every figure."""
MIN_PT = 9.0
"""The smallest text on a figure, in points at A4 width."""
TITLE_PT, HEAD_PT, TEXT_PT = 10.5, 11.5, 9.5
WIDE, TALL = (A4_WIDTH, 3.9), (A4_WIDTH, 6.8)
DPI = 200
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
CYCLE = cycler(linestyle=["-", "--"]) * cycler(color=COLOURS)
BETTER, WORSE, NEUTRAL = "#2e7d32", "#c62828", "#9e9e9e"
OPEN, RESTRICTED, WARMUP = "#fff3c4", "#d8b64a", "#cfcfcf"
DEMAND = "#222222"
STYLE = {"font.size": TEXT_PT, "axes.titlesize": TITLE_PT, "axes.labelsize": TEXT_PT,
         "xtick.labelsize": MIN_PT, "ytick.labelsize": MIN_PT, "legend.fontsize": MIN_PT,
         "legend.title_fontsize": MIN_PT, "figure.titlesize": HEAD_PT,
         "hatch.linewidth": 0.6, "svg.fonttype": "none", "axes.titlelocation": "center"}
"""rcParams while a figure is built and saved: every size at least MIN_PT."""

P = ParamSpec("P")


def a4(build: Callable[P, Figure]) -> Callable[P, Figure]:
    """Build the figure in the A4 style (``STYLE``)."""
    @functools.wraps(build)
    def styled(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with mpl.rc_context(STYLE):
            fig = build(*args, **kwargs)
            fit_labels(fig)
            return fig
    return styled


def fit_labels(fig: Figure) -> None:
    """Break each axis label into lines no longer than its axes' grid cell is wide (x) or
    high (y), so that neighbouring panels' labels never run into each other."""
    for ax in fig.findobj(Axes):
        spec = ax.get_subplotspec()
        if spec is None:
            continue
        box = spec.get_position(ax.figure)
        size = ax.figure.bbox.size / fig.dpi  # type: ignore[union-attr]
        for label, room in ((ax.xaxis.label, box.width * size[0]),
                            (ax.yaxis.label, box.height * size[1])):
            if label.get_text():
                label.set_text(wrap(fig, label.get_text(), 0.95 * room, label.get_fontsize()))
    engine = fig.get_layout_engine()
    if engine is None:
        return
    engine.execute(fig)   # where the axes end up: a title or x label no wider than its axes
    for ax in fig.findobj(Axes):
        width = ax.get_window_extent().width / fig.dpi
        for t in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label):
            text = t.get_text()
            if text and max(text_width(fig, line, t.get_fontsize())
                            for line in text.split("\n")) > width:
                t.set_text(wrap(fig, text.replace("\n", " "), width, t.get_fontsize()))


def new_figure(size: tuple[float, float] = WIDE, rows: int = 1, cols: int = 1,
               **subplots: Any) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure on the Agg canvas with a grid of styled axes (numbers on
    the y axes in the current language)."""
    fig = blank(size)
    axes = list(fig.subplots(rows, cols, squeeze=False, **subplots).ravel())
    for ax in axes:
        style(ax)
    return fig, axes


def floor_at_zero(axes: list[Axes]) -> None:
    """Counts start at 0. Called once every panel is drawn: setting a limit stops autoscaling,
    so on axes sharing a scale an earlier call cut off the larger values drawn after it."""
    for ax in axes:
        ax.set_ylim(bottom=0)


def blank(size: tuple[float, float]) -> Figure:
    """An empty constrained-layout figure on the Agg canvas."""
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def style(ax: Axes) -> Axes:
    """Colours and line styles, a light grid, ticks at MIN_PT, y numbers in the language."""
    ax.set_prop_cycle(CYCLE)
    ax.grid(True, color="#e6e6e6", lw=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=MIN_PT)
    numbers(ax.yaxis)
    return ax


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """Rows and columns of small multiples for ``n`` panels (two columns, three from seven
    panels on)."""
    cols = max(1, min(cols or (2 if n <= 6 else 3), n))
    return math.ceil(n / cols), cols


def drop_unused(fig: Figure, axes: Sequence[Axes], used: int, cols: int) -> None:
    """Remove the panels of a grid beyond the first ``used``; the panels above the gap show
    their x tick labels (a shared x axis hides them)."""
    for ax in axes[used:]:
        fig.delaxes(ax)
    for ax in bottom_row(axes, used, cols):
        ax.xaxis.set_tick_params(labelbottom=True)


def bottom_row(axes: Sequence[Axes], used: int, cols: int) -> list[Axes]:
    """The panels of a grid with no panel below them."""
    return [ax for k, ax in enumerate(axes[:used]) if k + cols >= used]


def save(fig: Figure, out_dir: Path, stem: str) -> Path:
    """Write ``<stem>.png`` (200 dpi) and ``<stem>.svg`` into ``out_dir``; return the PNG."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{stem}.png"
    with mpl.rc_context(STYLE):
        fig.savefig(png, dpi=DPI, metadata={"Software": None})
        fig.set_layout_engine("none")     # keep the PNG's layout; saves recomputing it
        fig.savefig(out_dir / f"{stem}.svg", metadata={"Date": None})
    return png


# --- text that fits --------------------------------------------------------------------------
def text_width(fig: Figure, text: str, size: float, weight: str = "normal") -> float:
    """Width of one line of ``text`` at ``size`` points, in inches."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    w, _, _ = renderer.get_text_width_height_descent(
        text, FontProperties(size=size, weight=weight), ismath=False)
    return w / fig.dpi


def wrap(fig: Figure, text: str, width: float, size: float, weight: str = "normal") -> str:
    """``text`` broken between words into lines at most ``width`` inches wide."""
    lines = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}" if line else word
            if line and text_width(fig, trial, size, weight) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return "\n".join(lines)


def cell_width(ax: Axes) -> float:
    """Inches of the grid cell an axes sits in (its title may use them)."""
    spec = ax.get_subplotspec()
    assert spec is not None
    fig = ax.figure
    assert fig is not None
    return spec.get_position(fig).width * fig.bbox.width / fig.dpi


def title(ax: Axes, text: str, size: float = TITLE_PT, loc: str = "center",
          **kwargs: Any) -> Text:
    """An axes title wrapped to its grid cell."""
    fig = ax.figure
    assert isinstance(fig, Figure)
    return ax.set_title(wrap(fig, text, 0.9 * cell_width(ax), size), fontsize=size, loc=loc,
                        **kwargs)


def headline(fig: Figure, text: str, size: float = HEAD_PT) -> Text:
    """The figure's title, wrapped to its width."""
    return fig.suptitle(wrap(fig, text, 0.96 * fig.get_figwidth(), size), fontsize=size)


def legend_below(fig: Figure, handles: Sequence[Artist], labels: Sequence[str],
                 size: float = MIN_PT, title: str | None = None) -> None:
    """One legend under the axes, in as many columns as fit the figure's width (two at
    least from four entries, their labels wrapped), under ``title`` if given."""
    if not labels:
        return
    width = 0.96 * fig.get_figwidth()
    pad = 4.8 * size / 72                 # the handle, its padding and the column spacing

    def widest(texts: Sequence[str]) -> float:
        return max(text_width(fig, ln, size) for t in texts for ln in t.split("\n"))

    cols = max(1, min(len(labels), int(width // (widest(labels) + pad))))
    if cols == 1 and len(labels) >= 4:
        cols = 2
    labels = [wrap(fig, label, width / cols - pad, size) for label in labels]
    fig.legend(handles, labels, loc="outside lower center", ncols=cols, fontsize=size,
               frameon=False, title=wrap(fig, title, width, size) if title else None,
               title_fontsize=size)


def legend_right(ax: Axes, width: float = 1.9, size: float = MIN_PT) -> None:
    """The axes' legend to its right, labels wrapped to ``width`` inches."""
    handles, labels = unique_handles(ax)
    if not labels:
        return
    fig = ax.figure
    assert isinstance(fig, Figure)
    ax.legend(handles, [wrap(fig, label, width, size) for label in labels], loc="upper left",
              bbox_to_anchor=(1.01, 1.0), fontsize=size, frameon=False)


def unique_handles(*axes: Axes) -> tuple[list[Artist], list[str]]:
    """The legend entries of ``axes``, each label once (first handle kept)."""
    seen: dict[str, Artist] = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        for h, label in zip(handles, labels, strict=True):
            if not label.startswith("_"):
                seen.setdefault(label, h)
    return list(seen.values()), list(seen)


def capital(text: str) -> str:
    """``text`` with its first letter in capitals."""
    return text[:1].upper() + text[1:]


# --- numbers, lines, dates ----------------------------------------------------------------------
def tick(x: float) -> str:
    """A tick value in the current language: as many decimals as it has, at most three
    ('–' when missing)."""
    if not math.isfinite(x):
        return i18n.number(None)
    r = round(float(x), 6) + 0.0  # no '-0'
    decimals = f"{abs(r):.6f}".rstrip("0").split(".")[1]
    return i18n.number(r, min(len(decimals), 3))


def numbers(axis: Axis, percent: bool = False) -> None:
    """Format an axis' ticks in the language current now (saved later, they stay in it)."""
    lang = i18n.language()

    def fmt(x: float, _pos: Any = None) -> str:
        with i18n.using(lang):
            return i18n.percent(x) if percent else tick(x)

    axis.set_major_formatter(FuncFormatter(fmt))
