"""gatesim: a discrete-event simulator of cargo-truck flows through a land border crossing.

The public API: load a scenario, then ``run`` it, ``compare`` it with variants (common random
numbers), ``sweep`` a grid of its parameters, find which ranged assumptions move an answer most
(``sensitivity``), or fit ranged numbers to reported figures (``calibrate``). Each returns
tables and writes no files; the CLI writes them through ``gatesim.output``.

The API is imported on first use (PEP 562), so ``gatesim`` itself loads no pandas or SimPy:
the console entry point starts catching Ctrl-C before the heavy libraries are imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gatesim.errors import GatesimError, ScenarioError

if TYPE_CHECKING:
    from gatesim.experiments.calibrate import CalibrationResult, calibrate
    from gatesim.experiments.compare import Comparison, compare
    from gatesim.experiments.run import RunResult, run
    from gatesim.experiments.sensitivity import SensitivityResult, sensitivity
    from gatesim.experiments.sweep import SweepResult, Target, sweep
    from gatesim.scenario.loader import load_scenario
    from gatesim.scenario.schema import Scenario

_LAZY = {"CalibrationResult": "gatesim.experiments.calibrate",
         "calibrate": "gatesim.experiments.calibrate",
         "Comparison": "gatesim.experiments.compare", "compare": "gatesim.experiments.compare",
         "RunResult": "gatesim.experiments.run", "run": "gatesim.experiments.run",
         "SensitivityResult": "gatesim.experiments.sensitivity",
         "sensitivity": "gatesim.experiments.sensitivity",
         "SweepResult": "gatesim.experiments.sweep", "Target": "gatesim.experiments.sweep",
         "sweep": "gatesim.experiments.sweep", "load_scenario": "gatesim.scenario.loader",
         "Scenario": "gatesim.scenario.schema"}

__all__ = ["CalibrationResult", "Comparison", "GatesimError", "RunResult", "Scenario",
           "ScenarioError", "SensitivityResult", "SweepResult", "Target", "calibrate", "compare",
           "load_scenario", "run", "sensitivity", "sweep"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'gatesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
