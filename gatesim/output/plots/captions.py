"""The caption under each figure, by file stem, in the current language."""

from __future__ import annotations

from gatesim.i18n import _

LEVEL_STEMS = ("in_system", "yard_occupancy", "road_queue")


def _level_note() -> str:
    return _(" Line: mean of the replications; band: 95 %% confidence interval across "
             "replications. Shaded: opening hours of the first lane; hatched: warm-up, "
             "excluded from every statistic.") % {}


def _slots_note() -> str:
    return _(" A slot holds one truck, or one container where a yard stacks containers (the "
             "smart gate's yards); a truck being served keeps its slot.")


def _captions() -> dict[str, str]:
    """Stem → caption; built on each call so that every text is in the current language."""
    demand = _(" Dashed stair: trucks arriving per day in that direction — from the run's "
               "arrivals_per_day where it wrote one, else counted in the truck records (a "
               "sample of every tenth truck counted ten times), else expected from the "
               "scenario's arrival rates; the legend says which. Bars above the stair clear a "
               "backlog, bars below build one.")
    closure = _(" Days on which a calendar in use had a date override (a closure, or hours "
                "for some trucks only) or a dated stoppage are left out of the profile and "
                "named in the title; their backlog is drawn apart (dotted). Random stoppages "
                "stay in.")
    return {
        "in_system": _("Trucks in the system (from arrival to leaving), hourly.") + _level_note(),
        "yard_occupancy": _("Slots taken in each yard, hourly, against its number of slots "
                            "(dotted); a panel per yard when there are many.") + _slots_note()
        + _level_note(),
        "road_queue": _("Trucks queuing on the approach roads, hourly; a panel per road when "
                        "there are many.") + _level_note(),
        "typical_day": _("The days after the warm-up folded onto one: when queues build up "
                         "and when the backlog peaks, how full the yards with a number of "
                         "slots get (share of their slots), and how long a truck arriving at "
                         "each hour waits in total.") + closure,
        "distributions": _("Share of trucks whose time in the system was at most the value "
                           "on the axis, by truck class. Trucks that arrived after the warm-up "
                           "and left before the end; those still inside appear in the key "
                           "figures as 'time so far'."),
        "waits": _("The wait before each stage's service or each lane's crossing: mean (bar, "
                   "with its 95 %% interval across replications) and 90th percentile (diamond), "
                   "a panel per site and direction. Trucks that arrived after the warm-up and "
                   "left before the end.") % {},
        "throughput": _("Trucks crossing per simulated day in each direction, stacked by "
                        "lane (mean of the replications; error bar: 95 %% interval of the "
                        "day's total).") % {} + demand,
        "utilisation": _("Share of on-duty time each stage's servers (or each lane) were busy; "
                         "near 100 %% means the stage is a bottleneck.") % {},
        "comparison": _("Difference of each key figure from the baseline, paired over "
                        "replications with common random numbers. The intervals hold "
                        "together for all the figures shown (Bonferroni): green/red when an "
                        "interval lies wholly above or below 0 (significantly better/worse); "
                        "grey: not significant."),
        "sweep": _("The figure against the swept parameter (values at their true positions, "
                   "dots: the values tried), with its 95 %% confidence band; a panel per "
                   "setting of the other swept parameters when there are many. The smallest "
                   "value meeting the target is judged on the cautious end of the band.") % {},
        "overlay_in_system": _("Trucks in the system by hour, every scenario on the same "
                               "axes (same colours in every comparison chart).")
        + _level_note(),
        "overlay_yard_occupancy": _("Slots taken in each yard by hour, a panel per yard with "
                                    "every scenario on it; all panels on the same scale. "
                                    "Dotted: each scenario's number of slots; a yard only one "
                                    "scenario has shows one line.") + _slots_note(),
        "overlay_road_queue": _("Trucks queuing on each approach road by hour, a panel per "
                                "road with every scenario on it; all panels on the same "
                                "scale."),
        "overlay_typical_day": _("The typical day of each scenario on the same axes: trucks "
                                 "in the system and on the roads by hour of day, and the wait "
                                 "by hour of arrival.") + closure,
        "overlay_throughput": _("Crossings per day in each direction, all lanes together, a "
                                "line per scenario (mean, 95 %% band).") % {} + demand,
        "overlay_distributions": _("Share of trucks of each direction out of the system "
                                   "within the time on the axis, a line per scenario: a line "
                                   "further left and higher is faster."),
        "overlay_utilisation": _("Utilisation of the stages and lanes busiest in any "
                                 "scenario, a bar per scenario with its 95 %% interval; near "
                                 "100 %% is a bottleneck.") % {},
        "tornado": _("What moves the answer: each uncertain number at its low and its high "
                     "end, the others at their values; error bars are 95 %% intervals of the "
                     "change (common random numbers).") % {},
        "morris": _("Morris screening: μ* is the mean absolute change of the answer across a "
                    "parameter's range (bar: 95 %% interval); σ high against μ* means the "
                    "effect depends on the other parameters.") % {},
    }


def caption(stem: str) -> str:
    """The caption of a figure file stem ('sweep_…' shares the sweep's); '' when unknown."""
    if stem.startswith("sweep_"):
        stem = "sweep"
    return _captions().get(stem, "")
