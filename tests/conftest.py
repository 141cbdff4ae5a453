"""Shared helpers: build scenarios from dicts, run one replication with an audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatesim.scenario.loader import validate

ROOT = Path(__file__).resolve().parents[1]
SMALL_GATE = ROOT / "tests" / "scenarios" / "small_gate.yaml"


def scenario(doc: dict):
    """A validated Scenario from a plain mapping (what a YAML file would hold)."""
    return validate(doc, "<test>")


@pytest.fixture
def root() -> Path:
    return ROOT
