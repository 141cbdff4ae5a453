"""gatesim: a discrete-event simulator of cargo-truck flows through a land border crossing."""

from gatesim.errors import GatesimError, ScenarioError
from gatesim.experiment import RunResult, run
from gatesim.loader import load_scenario
from gatesim.schema import Scenario

__all__ = ["GatesimError", "RunResult", "Scenario", "ScenarioError", "load_scenario", "run"]
__version__ = "0.1.0"
