"""Scales of the plots: mean lines with their bands, dates and hours on the x axis, counts
on whole numbers, and the replications said in words."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from gatesim import i18n
from gatesim.output.plots.common import MIN_PT, cell_width, text_width


def line_band(ax: Axes, x: Any, g: pd.DataFrame, label: str, **line: Any) -> Line2D:
    """A mean line and its 95 % band (clipped at 0: every quantity plotted is non-negative)."""
    (drawn,) = ax.plot(x, g["mean"], label=label, **{"lw": 1.5, **line})
    ax.fill_between(x, np.maximum(g["low"], 0), g["high"], color=drawn.get_color(), alpha=0.15,
                    lw=0)
    return drawn


def replications(n: int) -> str:
    """'mean of 3 replications, 95 % band' in the current language."""
    if n == 1:
        return i18n._("one replication")
    return i18n._("mean of %(n)s replications, 95 %% band") % {"n": n}


def short_date(d: dt.date) -> str:
    """A date without its year as the current language writes it (29 Jul / 29/07)."""
    return i18n.date(d).replace(str(d.year), "").strip(" /.-,")


def date_ticks(ax: Axes, start: dt.datetime, horizon_h: float) -> None:
    """x ticks at local midnights labelled with their dates (no year), as many as fit the
    width of the axes' grid cell."""
    fig = ax.figure
    assert isinstance(fig, Figure)
    label = text_width(fig, short_date(start.date()), MIN_PT) + 0.3
    fit = max(2, int((0.85 * cell_width(ax) - 0.5) // label))
    first = (24 - start.hour) % 24
    days = max(1.0, (horizon_h - first) / 24)
    step = 24 * max(1, math.ceil(days / fit))
    ticks = np.arange(first, horizon_h - 0.05 * horizon_h, step)  # none on the right edge
    ax.set_xticks(ticks, [short_date((start + dt.timedelta(hours=float(h))).date())
                          for h in ticks])


def time_label(start: dt.datetime, horizon_h: float) -> str:
    """'local time (Hanoi), 2024' for an axis with date ticks ('2024–2025' across a new
    year)."""
    end = (start + dt.timedelta(hours=horizon_h)).year
    years = str(start.year) if end == start.year else f"{start.year}–{end}"
    return i18n._("local time (Hanoi), %(year)s") % {"year": years}


def hour_ticks(ax: Axes) -> None:
    """x from 00:00 to 24:00, ticks every three hours."""
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])


def integer_ticks(axis: Axis) -> None:
    """Ticks on whole numbers only (counts)."""
    axis.set_major_locator(MaxNLocator(integer=True))
