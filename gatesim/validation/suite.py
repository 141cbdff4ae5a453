"""Validation against queueing theory: scenarios whose steady state is known exactly.

Each case is an ordinary scenario file (``gatesim/validation/cases/``) run by the ordinary
engine, with no special code path. Every checked quantity is estimated once per replication
(replication/deletion: a warm-up of at least ten relaxation times, Law & Kelton §9.5), given
a 95 % Student-t interval over replications and compared with its formula in
:mod:`gatesim.validation.theory`. A check passes when the error is within ``Z`` half-widths
**and** the half-width is within a tolerance of the theory value, so a wide interval cannot pass.
One case (:class:`CrnCase`) checks no formula but common random numbers: how much narrower a
paired comparison of two variants is on shared random streams than on independent ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gatesim.engine.model import run_replication
from gatesim.engine.records import ReplicationOutput
from gatesim.experiments.executors import LocalExecutor
from gatesim.experiments.metrics import replication_rows
from gatesim.experiments.stats import paired_difference, t_interval
from gatesim.scenario.loader import load_scenario
from gatesim.scenario.schema import Scenario
from gatesim.validation import theory, variability_theory
from gatesim.validation.trace import trace_row

CASES_DIR = Path(__file__).with_name("cases")
COLUMNS = ["case", "metric", "theory", "simulated", "ci_low", "ci_high", "rel_error",
           "half_width_rel", "passed"]
Z = 3.0
"""Largest accepted error, in CI half-widths."""
FULL_TOLERANCE = 0.03
QUICK_TOLERANCE = 0.15
"""Largest accepted half-width relative to theory; quick runs are ~10x shorter, so looser."""

Rows = dict[tuple[str, str, str], float]
Estimator = Callable[[ReplicationOutput, Rows], float]
"""One replication's value of a quantity, from its records and its contract metric rows
(a picklable callable: estimates are computed in the worker that ran the replication)."""


# --- per-replication estimators ----------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """A contract metric of ``replications.csv`` (e.g. ``wait_h`` mean at a stage)."""

    metric: str
    scope: str
    stat: str = "mean"

    def __call__(self, out: ReplicationOutput, rows: Rows) -> float:
        return rows[(self.metric, self.scope, self.stat)]


@dataclass(frozen=True)
class WaitedShare:
    """Share of the visits to a station that waited at all (start > ready), among the visits
    ready after warm-up (at a route's first station: the trucks that arrived after it)."""

    scope: str

    def __call__(self, out: ReplicationOutput, rows: Rows) -> float:
        v = out.visits
        mine = (v["station"] == out.names["stations"].index(self.scope)) & (
            v["ready"] >= out.warmup_h)
        return float(np.mean(v["start"][mine] > v["ready"][mine]))


def p_block(out: ReplicationOutput, rows: Rows) -> float:
    """Trucks turned away over trucks arrived, both after warm-up."""
    return rows[("turned_away", "system", "count")] / float(np.sum(out.arrivals >= out.warmup_h))


@dataclass(frozen=True)
class BacklogSlope:
    """Least-squares growth per day of the trucks in the system, from the hourly snapshots
    at one hour of every day after warm-up (the same phase of a daily cap each day)."""

    hour_of_day: int

    def __call__(self, out: ReplicationOutput, rows: Rows) -> float:
        days, level = [], []
        for hour, row in out.timeseries:
            if hour >= out.warmup_h and hour % 24 == self.hour_of_day:
                days.append(hour / 24)
                level.append(next(v for m, sc, v in row if (m, sc) == ("in_system", "system")))
        return float(np.polyfit(days, level, 1)[0])


@dataclass(frozen=True)
class CargoWait:
    """Mean wait (start − ready) at a station of the trucks of one cargo, among the visits
    ready after warm-up (waits by cargo are no contract metric)."""

    scope: str
    cargo: str

    def __call__(self, out: ReplicationOutput, rows: Rows) -> float:
        v, t = out.visits, out.trucks
        order = np.argsort(t["id"], kind="stable")
        cls = t["cls"][order][np.searchsorted(t["id"][order], v["truck"])].astype(int)
        cargo = np.array([c for _, c, _ in out.names["classes"]])[cls]
        mine = (v["station"] == out.names["stations"].index(self.scope)) & (
            v["ready"] >= out.warmup_h) & (cargo == self.cargo)
        return float(np.mean(v["start"][mine] - v["ready"][mine]))


@dataclass(frozen=True)
class CapDays:
    """Each whole cap day of a lane side, day 0 ending at ``first_end_h`` (24 for a cap clock
    on midnight at a run starting at midnight): its end, the trucks that arrived in it
    (``arrived``), the trucks admitted in it (``admitted``, by visit start) and the end-of-day
    backlog (``backlog``: arrived before the end, admitted at or after it or not at all).
    For a scenario whose every truck has this lane side as its first step."""

    end: np.ndarray
    arrived: np.ndarray
    admitted: np.ndarray
    backlog: np.ndarray

    @classmethod
    def of(cls, out: ReplicationOutput, scope: str, first_end_h: float = 24.0) -> CapDays:
        v = out.visits
        starts = np.sort(v["start"][v["station"] == out.names["stations"].index(scope)])
        # Days ending before the horizon: a truck admitted before such an end has crossed (and
        # left a visit record) by the horizon; one without a record has not been admitted.
        end = np.arange(first_end_h, out.horizon_h, 24.0)
        came = np.searchsorted(np.sort(out.trucks["arrival"]), end)  # arrival < end
        went = np.searchsorted(starts, end)  # start < end
        return cls(end, np.diff(came, prepend=0), np.diff(went, prepend=0), came - went)


@dataclass(frozen=True)
class EndOfDayBacklog:
    """Mean end-of-day backlog of a lane side over the cap days ending after warm-up, or
    (``positive``) the share of those days ending with one."""

    scope: str
    positive: bool = False

    def __call__(self, out: ReplicationOutput, rows: Rows) -> float:
        days = CapDays.of(out, self.scope)
        b = days.backlog[days.end >= out.warmup_h]
        return float(np.mean(b > 0) if self.positive else np.mean(b))


# --- the registry ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One compared quantity: its label, its exact value, its per-replication estimator."""

    metric: str
    theory: float
    estimate: Estimator


@dataclass(frozen=True)
class Size:
    """Replications and horizon of a quick run (the warm-up stays the scenario file's)."""

    replications: int
    horizon_days: float


@dataclass(frozen=True)
class Case:
    """A scenario file, what to check in it, and its root seed.

    A full run is ``replications`` of the file as it stands; a quick run is ``quick``.
    """

    name: str
    file: str
    checks: tuple[Check, ...]
    quick: Size
    seed: int
    replications: int = 20

    def scenario(self, quick: bool = False) -> Scenario:
        overrides = [f"clock.horizon_days={self.quick.horizon_days}"] if quick else []
        return load_scenario(CASES_DIR / self.file, overrides)

    def size(self, quick: bool = False) -> int:
        """Replications of a full or quick run."""
        return self.quick.replications if quick else self.replications


@dataclass(frozen=True)
class CrnCase(Case):
    """Common random numbers at work, not a formula: the file against its ``variant``
    (overrides), replication r against r. The paired-difference interval of the one check's
    quantity with both on ``seed`` must be at least ``theory`` times narrower than the same
    interval with the variant on ``seed + 1`` (pairs that share no random numbers).

    Its row: theory = the required ratio of widths, simulated = the measured ratio, error =
    its margin over the requirement, no interval or half-width (NaN), passed = ratio ≥
    required."""

    variant: tuple[str, ...] = ()

    def variant_scenario(self, quick: bool = False) -> Scenario:
        overrides = [f"clock.horizon_days={self.quick.horizon_days}"] if quick else []
        return load_scenario(CASES_DIR / self.file, [*overrides, *self.variant])


def _queue(m: theory.MMc) -> tuple[Check, ...]:
    return (
        Check("wait_h mean (Wq)", m.wq, Summary("wait_h", "server")),
        Check("queue_length mean (Lq)", m.lq, Summary("queue_length", "server")),
        Check("P(wait > 0)", m.p_wait, WaitedShare("server")),
        Check("utilisation", m.rho, Summary("utilisation", "server")),
    )


def _pk(lam: float, mean_s: float, scv: float) -> tuple[Check, ...]:
    wq = theory.mg1_wq(lam, mean_s, scv)
    return (
        Check("wait_h mean (Wq)", wq, Summary("wait_h", "server")),
        Check("queue_length mean (Lq)", lam * wq, Summary("queue_length", "server")),
    )


def _loss(p: theory.MMcK) -> tuple[Check, ...]:
    return (
        Check("P(turned away)", p.p_block, p_block),
        Check("in_system mean (L)", p.l, Summary("in_system", "system")),
    )


_MMCK = theory.mmck(10, 4, 3, 6)
_ERLANG_B = theory.mmck(10, 4, 3, 3)
_TANDEM = [(5.0, 3), (15.0, 1), (7.5, 2)]

_PRIORITY = variability_theory.priority_mm1([0.2, 0.6], 1.0)  # per minute
_STOPPAGE = variability_theory.stoppage_mm1(0.5, 1.0, 1 / 24, 1 / 4)  # per 5-minute unit
_CAP = variability_theory.daily_cap_backlog(2, variability_theory.random_rounding_pmf(4, 0.5))

# Full runs (each file's horizon, 20 replications) aim at a half-width near 2.3 % of theory,
# quick runs near 9 %, from the per-replication variances measured in pilot runs.
CASES: tuple[Case, ...] = (
    Case("mm1", "mm1.yaml", _queue(theory.mm1(48, 60)), Size(5, 26), seed=101),
    Case("mmc", "mmc.yaml", _queue(theory.mmc(10, 4, 3)), Size(5, 240), seed=102),
    Case("mmck", "mmck.yaml",
         (*_loss(_MMCK),
          Check("yard_occupancy mean (Lq)", _MMCK.lq, Summary("yard_occupancy", "queue"))),
         Size(5, 30), seed=103),
    Case("erlang_b", "erlang_b.yaml", _loss(_ERLANG_B), Size(5, 6), seed=104),
    Case("erlang_b_lognormal", "erlang_b_lognormal.yaml", _loss(_ERLANG_B), Size(5, 11),
         seed=105),
    Case("mg1_lognormal", "mg1_lognormal.yaml", _pk(48, 1 / 60, 0.25), Size(5, 19), seed=106),
    Case("mg1_constant", "mg1_constant.yaml", _pk(48, 1 / 60, 0.0), Size(5, 18), seed=107),
    Case("tandem", "tandem.yaml",
         (Check("time_in_system_h mean (W)", theory.jackson_tandem_w(10, _TANDEM),
                Summary("time_in_system_h", "system")),),
         Size(5, 11), seed=108),
    Case("backlog", "backlog.yaml",
         (Check("backlog growth per day", theory.fluid_backlog_growth(240, 120),
                BacklogSlope(12)),),
         Size(5, 6), seed=109),
    # Day-to-day variability (issue 15); quick runs of 10 replications: at 5, the t quantile
    # and the spread of the half-width itself would need twice the simulated time.
    Case("priority", "priority.yaml",
         (Check("time_in_system_h fresh", _PRIORITY[0][0] / 60,
                Summary("time_in_system_h", "fresh")),
          Check("time_in_system_h general", _PRIORITY[1][0] / 60,
                Summary("time_in_system_h", "general")),
          Check("wait_h fresh (Wq1)", _PRIORITY[0][1] / 60, CargoWait("server", "fresh")),
          Check("wait_h general (Wq2)", _PRIORITY[1][1] / 60, CargoWait("server", "general")),
          Check("wait_h all (FCFS Wq)", theory.mm1(0.8, 1.0).wq / 60,  # conservation law
                Summary("wait_h", "server"))),
         Size(10, 14), seed=110),
    Case("stoppage", "stoppage.yaml",
         (Check("time_in_system_h mean (W)", _STOPPAGE.w / 12,
                Summary("time_in_system_h", "system")),
          Check("stopped_h share", _STOPPAGE.p_stopped, Summary("stopped_h", "server", "share"))),
         Size(10, 12), seed=111),
    Case("daily_cap", "daily_cap.yaml",
         (Check("end-of-day backlog mean", _CAP.mean, EndOfDayBacklog("gate.export")),
          Check("P(end-of-day backlog > 0)", _CAP.p_positive,
                EndOfDayBacklog("gate.export", positive=True))),
         Size(10, 1130), seed=112),
    CrnCase("stoppage_crn", "stoppage_crn.yaml",
            (Check("W CI width indep/paired", 1.5, Summary("time_in_system_h", "system")),),
            Size(10, 1), seed=113, variant=("stoppages.outage.rate_per_day=8",)),
)


# --- running ---------------------------------------------------------------------------------
def _estimates(job: tuple[Case, Scenario, int]) -> list[float]:
    """Run one replication of a case; its value of every checked quantity."""
    case, s, replication = job
    out = run_replication(s, case.seed, replication)
    rows = {(m, sc, st): v for m, sc, st, v in replication_rows(out)}
    return [c.estimate(out, rows) for c in case.checks]


def judge(case: str, metric: str, truth: float, values: np.ndarray, tolerance: float) -> dict:
    """One table row: the t-interval of ``values`` against ``truth``, and the pass rule."""
    est, lo, hi, _ = t_interval(values)
    half_rel = (hi - lo) / 2 / abs(truth)
    passed = abs(est - truth) <= Z * (hi - lo) / 2 and half_rel <= tolerance
    return {"case": case, "metric": metric, "theory": truth, "simulated": est, "ci_low": lo,
            "ci_high": hi, "rel_error": (est - truth) / abs(truth), "half_width_rel": half_rel,
            "passed": bool(passed)}


def _crn_estimate(job: tuple[CrnCase, Scenario, int, int]) -> float:
    """One replication of a CRN case's base or variant on a given seed: its checked value."""
    case, s, seed, replication = job
    out = run_replication(s, seed, replication)
    return case.checks[0].estimate(out, {(m, sc, st): v for m, sc, st, v in replication_rows(out)})


def run_crn(case: CrnCase, quick: bool = False, workers: int = 1) -> dict:
    """A CRN case's row: the base, the variant on the same seed, the variant on seed + 1."""
    n = case.size(quick)
    base, variant = case.scenario(quick), case.variant_scenario(quick)
    jobs = [(case, s, seed, r) for s, seed in ((base, case.seed), (variant, case.seed),
                                                (variant, case.seed + 1)) for r in range(n)]
    a, same, other = np.array(LocalExecutor(workers).map(_crn_estimate, jobs)).reshape(3, n)
    _, lo_p, hi_p, _, _ = paired_difference(a, same)
    _, lo_i, hi_i, _, _ = paired_difference(a, other)
    got = (hi_i - lo_i) / (hi_p - lo_p) if hi_p > lo_p else math.inf
    check = case.checks[0]
    return {"case": case.name, "metric": check.metric, "theory": check.theory,
            "simulated": got, "ci_low": math.nan, "ci_high": math.nan,
            "rel_error": (got - check.theory) / check.theory, "half_width_rel": math.nan,
            "passed": bool(got >= check.theory)}


def run_case(case: Case, quick: bool = False, workers: int = 1) -> list[dict]:
    """Run one case (full or quick size) and judge each of its checks."""
    if isinstance(case, CrnCase):
        return [run_crn(case, quick, workers)]
    s = case.scenario(quick)
    jobs = [(case, s, r) for r in range(case.size(quick))]
    values = np.array(LocalExecutor(workers).map(_estimates, jobs))
    tolerance = QUICK_TOLERANCE if quick else FULL_TOLERANCE
    return [judge(case.name, c.metric, c.theory, values[:, i], tolerance)
            for i, c in enumerate(case.checks)]


def run_validation(quick: bool = False, workers: int = 1) -> pd.DataFrame:
    """Every registered case, one row per checked quantity (columns ``COLUMNS``), then the
    replayed trace checked departure by departure (the same at every size)."""
    rows = [row for case in CASES for row in run_case(case, quick, workers)]
    rows.append(trace_row())
    return pd.DataFrame(rows, columns=COLUMNS)


def format_table(df: pd.DataFrame) -> str:
    """The validation table as fixed-width text, ending with the count of passed checks."""
    lines = [f"{'case':19s} {'metric':26s} {'theory':>8s} {'simulated':>9s} {'95% CI':>20s} "
             f"{'error':>7s} {'half-w':>6s}  result"]
    for r in df.itertuples(index=False):
        ci = f"[{r.ci_low:.4g}, {r.ci_high:.4g}]" if np.isfinite(r.ci_low) else "–"
        half = f"{r.half_width_rel:6.2%}" if np.isfinite(r.half_width_rel) else "–"
        lines.append(f"{r.case:19s} {r.metric:26s} {r.theory:8.4g} {r.simulated:9.4g} {ci:>20s} "
                     f"{r.rel_error:+7.2%} {half:>6s}  {'pass' if r.passed else 'FAIL'}")
    n = int(df["passed"].sum())
    lines.append(f"{n} of {len(df)} checks passed")
    return "\n".join(lines)
