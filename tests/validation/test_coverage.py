"""Coverage of gatesim's 95 % confidence interval: over many independent experiments (root
seeds) of an M/M/1 case, the Student-t interval over replications of the mean wait must cover
the exact value about 95 % of the time (93-97 %).

Per-replication mean waits are right-skewed, which makes t-intervals cover slightly less than
nominal (Law & Kelton §9.4); at these run lengths the expected coverage is about 94.5 %
(checked by an independent Lindley-recursion simulation), and with 600 experiments the
binomial error is about 0.9 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatesim.engine.model import run_replication
from gatesim.experiments.executors import LocalExecutor
from gatesim.experiments.metrics import replication_rows
from gatesim.experiments.stats import t_interval
from gatesim.scenario.loader import load_scenario
from gatesim.scenario.schema import Scenario
from gatesim.validation import theory

SCENARIO = Path(__file__).with_name("mm1_coverage.yaml")
WQ = theory.mm1(18, 60).wq
EXPERIMENTS, REPLICATIONS = 600, 10


def experiment_waits(job: tuple[Scenario, int]) -> list[float]:
    """Mean wait (h) of each replication of one experiment: ``gatesim run --seed k -r 10``."""
    s, seed = job
    key = ("wait_h", "server", "mean")
    return [next(v for *k, v in replication_rows(run_replication(s, seed, r)) if tuple(k) == key)
            for r in range(REPLICATIONS)]


@pytest.mark.slow
def test_t_interval_covers_the_exact_wait_95_percent_of_the_time():
    s = load_scenario(SCENARIO)
    waits = LocalExecutor(2).map(experiment_waits, [(s, seed) for seed in range(EXPERIMENTS)])
    low, high = np.array([t_interval(np.array(w))[1:3] for w in waits]).T
    coverage = np.mean((low <= WQ) & (high >= WQ))
    assert 0.93 <= coverage <= 0.97, f"coverage {coverage:.3f} over {EXPERIMENTS} experiments"
