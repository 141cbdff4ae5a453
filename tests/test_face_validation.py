"""Face validation: the shipped scenarios against reported figures KEPT OUT of calibration.

Each check compares one reported figure (lang-son-border-facts.md, section named) with the
same quantity simulated, inside a stated band (±25 % unless the check says otherwise). The
figures used to calibrate are listed in scenarios/README.md and never appear here. A figure
that falls out of band is a finding, recorded in scenarios/README.md and marked
``xfail(strict=True)`` with the numbers: nothing here is tuned to pass.

"Export trucks waiting" is rebuilt from the hourly time series out of the places only export
trucks use: the export yards of both sites and the approach roads QL1A and QL4A. A yard's
occupancy counts the slots taken, so trucks being served at a Vietnamese-side post that keep
their slot (every export step there waits in the same yard) are in it: the reported counts of
trucks "waiting" at the gate do not separate them either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from gatesim import load_scenario, run
from tests.conftest import ROOT

SCENARIOS = ROOT / "scenarios"
REPLICATIONS = 4
SEED = 20240822
EXPORT_PLACES = {"hn_export_yard", "tt_export_yard", "ql1a", "ql4a"}
EXPORT_LANES = {"hn_freight_road.export", "tt_freight_lane.export"}
IMPORT_LANES = {"hn_freight_road.import", "tt_freight_lane.import"}
FRUIT_BAN_2022 = [  # src: §4 fruit trucks barred 16–25 Feb 2022
    f"arrivals.{stream}.date_multipliers="
    "[{start: 2022-02-16, end: 2022-02-25, factor: 0, note: fruit trucks barred}]"
    for stream in ("hn_export_fresh", "tt_export_fresh")
]


@dataclass(frozen=True)
class Band:
    """A reported figure and the band a simulated value must fall in."""

    reported: float
    low: float
    high: float

    @classmethod
    def around(cls, reported: float, share: float = 0.25) -> Band:
        return cls(reported, reported * (1 - share), reported * (1 + share))

    @classmethod
    def range(cls, low: float, high: float, share: float = 0.25) -> Band:
        """A reported range widened by ``share`` on both sides."""
        return cls((low + high) / 2, low * (1 - share), high * (1 + share))

    def check(self, simulated: float, what: str) -> None:
        assert self.low <= simulated <= self.high, (
            f"{what}: simulated {simulated:.0f}, reported {self.reported:.0f}, "
            f"band [{self.low:.0f}, {self.high:.0f}]")


def simulate(name: str, overrides: list[str] | None = None, days: float | None = None):
    extra = [f"clock.horizon_days={days}"] if days else []
    scenario = load_scenario(SCENARIOS / name, [*(overrides or []), *extra])
    return run(scenario, replications=REPLICATIONS, seed=SEED, workers=2)


def export_waiting(result, time: str) -> float:
    """Export trucks waiting at a local clock time, mean over replications."""
    ts = result.timeseries
    sel = ts[(ts.time == time) & ts.scope.isin(EXPORT_PLACES)
             & ts.metric.isin(["yard_occupancy", "road_queue"])]
    assert sel.replication.nunique() == REPLICATIONS, f"no snapshot at {time}"
    return float(sel.groupby("replication").value.sum().mean())


def crossings_on(result, day: str, sides: set[str]) -> float:
    """Trucks that crossed the given lane sides on a local date, mean over replications."""
    ts = result.timeseries
    nxt = str(np.datetime64(day) + np.timedelta64(1, "D"))
    sel = ts[(ts.metric == "departures") & ts.scope.isin(sides)
             & (ts.time > f"{day}T00:00") & (ts.time <= f"{nxt}T00:00")]
    return float(sel.groupby("replication").value.sum().mean())


def throughput(result, scope: str) -> float:
    s = result.summary
    row = s[(s.metric == "throughput_per_day") & (s.scope == scope) & (s.stat == "mean")]
    return float(row.estimate.iloc[0])


# --- August 2024: the default scenario (calibrated to the 22 Aug backlog and the 22 and 29 Aug
# cleared counts: scenarios/targets/huu_nghi_aug_2024.yaml; those figures are not checked here) --


@pytest.fixture(scope="module")
def august():
    return simulate("huu_nghi.yaml")


@pytest.mark.slow
def test_huu_nghi_throughput_against_the_2024_average(august):
    # src: §1b Hữu Nghị processes 700–800 vehicles/day, about 200 of them export (Jan–Oct 2024)
    Band.range(700, 800).check(throughput(august, "hn_freight_road"), "Hữu Nghị vehicles/day")
    Band.around(200).check(throughput(august, "hn_freight_road.export"), "Hữu Nghị exports/day")


@pytest.mark.slow
def test_both_lanes_against_the_yearly_count(august):
    # src: §1b 431,800 vehicles on the Hữu Nghị pair's clearance routes and dedicated roads,
    # 1 Aug 2024 – 25 Jul 2025, 359 days (≈ 1,203/day [D]); the August peak should sit near it
    yearly = 431_800 / 359
    both = throughput(august, "hn_freight_road") + throughput(august, "tt_freight_lane")
    Band.around(yearly).check(both, "both lanes, vehicles/day")


# --- Fruit peak, late May 2025 (demand from the week before 29 May) --------------------------


@pytest.fixture(scope="module")
def fruit_peak():
    return simulate("huu_nghi_fruit_peak.yaml", days=11)  # to 30 May 2025 00:00


def test_exports_cleared_on_29_may_2025(fruit_peak):
    # src: §1a 451 exports on 29 May 2025, province-wide; the two sites carried 694 of 728
    # exports on the two Aug 2024 days (§1b) [D]. Demand exceeds the Aug 2024 acceptance rates
    # here, so this checks capacity, not demand.
    Band.around(451 * 694 / 728).check(crossings_on(fruit_peak, "2025-05-29", EXPORT_LANES),
                                       "exports cleared, 29 May 2025")


def test_imports_cleared_on_29_may_2025(fruit_peak):
    # src: §1a 1,539 vehicles on 29 May 2025, 451 of them exports; the two sites carried 1,735
    # of 1,944 imports on the two Aug 2024 days (§1b) [D]
    Band.around((1539 - 451) * 1735 / 1944).check(
        crossings_on(fruit_peak, "2025-05-29", IMPORT_LANES), "imports cleared, 29 May 2025")


# --- Disruption, winter 2021–22 (calibrated on 11 and 17 Feb 2022 rates and caps) ------------


@pytest.fixture(scope="module")
def disruption_with_fruit_ban():
    return simulate("huu_nghi_disruption_2022.yaml", FRUIT_BAN_2022, days=7)


def test_disruption_queue_on_17_feb_2022(disruption_with_fruit_ban):
    # src: §4 17 Feb 2022: 1,082 trucks queued at Hữu Nghị, 759 at Tân Thanh and 1,217 at
    # "Đồng Đăng" (nothing in the scenario comes from this article). Đồng Đăng is the town
    # in front of Hữu Nghị, and its buffer yards also feed Tân Thanh: its 1,217 may be wholly
    # inside the two gates' counts (queue 1,841) or wholly besides them (3,058). The band is
    # that range, not widened further; time of day not given: 20:00 used
    Band(reported=(1841 + 3058) / 2, low=1082 + 759, high=1082 + 759 + 1217).check(
        export_waiting(disruption_with_fruit_ban, "2022-02-17T20:00"), "export queue, 17 Feb 2022")


@pytest.fixture(scope="module")
def disruption():
    return simulate("huu_nghi_disruption_2022.yaml", days=14)


@pytest.mark.xfail(strict=True, reason=(
    "finding: the export backlog grows by ~87 trucks/day at the 11 Feb 2022 rates (170 "
    "arriving, 80 accepted) against ~159/day reported from 15 to 18 Dec 2021 (4,300 -> 4,800 "
    "at three gates incl. Chi Ma, whose Chinese side was closed, x 694/728 for the two sites)."
    " See scenarios/README.md, 'Findings'."))
def test_backlog_growth_matches_december_2021(disruption):
    # src: §4 4,300 trucks stuck on 15 Dec 2021, about 4,800 on 18 Dec 2021 [D 167/day], at
    # three gates; scaled to the two modelled sites like the other province-wide figures, by
    # their 694 of 728 exports on the two Aug 2024 days (§1b) [D 159/day]
    days = [f"2022-02-{d:02d}T20:00" for d in range(12, 25)]
    levels = [export_waiting(disruption, t) for t in days]
    slope = np.polyfit(np.arange(len(levels)), levels, 1)[0]
    Band.around((4800 - 4300) / 3 * 694 / 728).check(slope, "backlog growth, trucks/day")


def test_band_helpers_reject_out_of_band_values():
    band = Band.around(100)
    band.check(80, "inside")
    with pytest.raises(AssertionError, match="simulated 70"):
        band.check(70, "outside")
    assert Band.range(700, 800).low == pytest.approx(525)
