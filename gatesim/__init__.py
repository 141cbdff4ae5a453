"""gatesim: a discrete-event simulator of cargo-truck flows through a land border crossing.

The public API: load a scenario, then ``run`` it, ``compare`` it with variants (common random
numbers) or ``sweep`` a grid of its parameters. Each returns tables and writes no files; the
CLI writes them through ``gatesim.output``.
"""

from gatesim.errors import GatesimError, ScenarioError
from gatesim.experiments.compare import Comparison, compare
from gatesim.experiments.run import RunResult, run
from gatesim.experiments.sweep import SweepResult, Target, sweep
from gatesim.scenario.loader import load_scenario
from gatesim.scenario.schema import Scenario

__all__ = ["Comparison", "GatesimError", "RunResult", "Scenario", "ScenarioError", "SweepResult",
           "Target", "compare", "load_scenario", "run", "sweep"]
__version__ = "0.1.0"
