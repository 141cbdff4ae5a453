"""Shared helpers: build scenarios from dicts, run one replication with an audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatesim.scenario.loader import validate

ROOT = Path(__file__).resolve().parents[1]
SMALL_GATE = ROOT / "tests" / "scenarios" / "small_gate.yaml"
TINY = """\
name: tiny
clock: {start: 2024-01-01 00:00, horizon_days: 3, warmup_days: 0}
yards: {queue: {slots: 20}}
stages: {server: {servers: 1, yard: queue, service: {dist: exponential, mean: 10, unit: min}}}
arrivals: {a: {direction: import, cargo: general, rate_per_day: 100}}
routes: {only: {direction: import, cargo: general, steps: [{stage: server}]}}
"""
"""One server and 100 trucks a day: the smallest scenario (the safety issue's example)."""


def scenario(doc: dict):
    """A validated Scenario from a plain mapping (what a YAML file would hold)."""
    return validate(doc, "<test>")


@pytest.fixture
def root() -> Path:
    return ROOT
