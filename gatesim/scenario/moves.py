"""Moving uncertain numbers: the ``--set`` strings that put a parameter at a value.

A parameter (``Scenario.uncertain``) is set at every place it sets. Most places move alone,
but the shares of a ``choose`` step must keep summing to 1: when a place is an option's share
``p``, the options that are not places of the parameter are rescaled in proportion,
p_j · (1 − k·x) / Σ p_others (k places of the parameter in that choose, usually 1, so this
is p_j · (1 − x) / (1 − p_i)); when the others hold nothing, 1 − k·x is split evenly among
them. A sibling that carries a range of its own is rescaled too (at that point its own
value is then no longer the one written). Sensitivity analysis and screening build their
points from these strings, so every point is a valid scenario.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import yaml

from gatesim.scenario.loader import apply_overrides
from gatesim.scenario.schema import Scenario
from gatesim.scenario.uncertain import Parameter


def assignment(path: str, value: Any) -> str:
    """``path=value`` as ``--set`` reads it back (YAML, so dates and mappings survive)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 30)
    return f"{path}={text.removesuffix(chr(10)).removesuffix('...').strip()}"


def _number(x: float) -> int | float:
    """An integral value as an int (servers, slots and caps are whole numbers)."""
    return int(x) if float(x).is_integer() else float(x)


def _at(doc: Any, parts: Sequence[str]) -> Any:
    """The node at a dotted path's parts (a digit indexes a list), or None."""
    node = doc
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def share_of(doc: dict[str, Any], path: str) -> tuple[str, dict[str, Any]] | None:
    """If ``path`` is an option's share of a choose step in the resolved document ``doc``
    (``….options.<name>.p``): the options' dotted path and the options; else None."""
    parts = path.split(".")
    if len(parts) < 4 or parts[-1] != "p" or parts[-3] != "options":
        return None
    step = _at(doc, parts[:-3])
    if not isinstance(step, dict) or "choose" not in step or not isinstance(
            step.get("options"), dict):
        return None
    return ".".join(parts[:-2]), step["options"]


def is_integral(scenario: Scenario, parameter: Parameter) -> bool:
    """Does every place of the parameter hold a whole-number field (servers, slots)? Read
    from the resolved document, where such a field is an int and any other a float."""
    doc = scenario.model_dump(mode="json", by_alias=True)
    held = [_at(doc, path.split(".")) for path in parameter.paths]
    return all(isinstance(v, int) and not isinstance(v, bool) for v in held)


def _shares(doc: dict[str, Any], parameter: Parameter
            ) -> dict[str, tuple[dict[str, Any], set[str]]]:
    """The choose steps the parameter holds shares of: options' path → (options, its own)."""
    moved: dict[str, tuple[dict[str, Any], set[str]]] = {}
    for path in parameter.paths:
        place = share_of(doc, path)
        if place is not None:
            prefix, options = place
            moved.setdefault(prefix, (options, set()))[1].add(path.split(".")[-2])
    return moved


def siblings(scenario: Scenario, parameter: Parameter) -> list[str]:
    """The shares that moving ``parameter`` rescales (``….options.<name>.p``), if any."""
    doc = scenario.model_dump(mode="json", by_alias=True)
    return [f"{prefix}.{n}.p" for prefix, (options, own) in _shares(doc, parameter).items()
            for n in options if n not in own]


def _settings(doc: dict[str, Any], parameter: Parameter, x: float) -> list[str]:
    x = _number(x)
    out = [assignment(path, x) for path in parameter.paths]
    for prefix, (options, names) in _shares(doc, parameter).items():
        free = [n for n in options if n not in names]
        if not free:
            continue
        left = 1 - len(names) * x
        total = math.fsum(float(options[n].get("p", 0)) for n in free)
        for n in free:
            p = float(options[n].get("p", 0)) * left / total if total > 0 else left / len(free)
            out.append(assignment(f"{prefix}.{n}.p", _number(p)))
    return out


def settings(scenario: Scenario, parameter: Parameter, x: float) -> list[str]:
    """The ``--set`` strings that put ``parameter`` at ``x`` at all its places, the sibling
    shares of a choose place rescaled so the shares still sum to 1 (module docstring). An
    integral ``x`` is written as an int."""
    return _settings(scenario.model_dump(mode="json", by_alias=True), parameter, x)


def joint_settings(scenario: Scenario, moves: Sequence[tuple[Parameter, float]]
                   ) -> list[str]:
    """The ``--set`` strings that put several parameters at their values, in turn: each is
    computed on the document the previous ones left, so shares keep summing to 1. Two ranged
    shares of one choose then interact: the later is set exactly, the earlier rescaled."""
    doc = scenario.model_dump(mode="json", by_alias=True)
    out: list[str] = []
    for parameter, x in moves:
        sets = _settings(doc, parameter, x)
        apply_overrides(doc, sets)
        out.extend(sets)
    return out
