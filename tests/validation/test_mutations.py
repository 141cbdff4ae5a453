"""The validation cases can tell a broken engine: each mutation below, patched into the
engine, makes the case that should notice it fail, and the same case passes unpatched.

(a) every server serves two trucks at once (a pool's capacity is doubled): the M/M/1 and
M/M/c waits collapse. (b) a yard frees a truck's slot the moment it parks, so it never
fills: M/M/c/K stops turning trucks away. (c) a truck served between two steps that wait in
the same yard does not keep its slot: the Erlang B loss system (built on that rule) stops
turning trucks away. Runs are the quick ones, in this process (one worker), where the
patches apply.
"""

from __future__ import annotations

import pytest

from gatesim.engine.network import Place
from gatesim.engine.pool import Pool
from gatesim.validation import suite as validation

CASES = {c.name: c for c in validation.CASES}


def double_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    set_calendar = Pool.set_calendar
    monkeypatch.setattr(Pool, "set_calendar", lambda self, servers, only: set_calendar(
        self, 2 * servers, only))


def free_slot_on_parking(monkeypatch: pytest.MonkeyPatch) -> None:
    enter, leave = Place.enter, Place.leave

    def enter_and_free(self: Place, now: float) -> None:
        enter(self, now)
        leave(self, now)

    monkeypatch.setattr(Place, "enter", enter_and_free)
    monkeypatch.setattr(Place, "leave", lambda self, now: None)
    monkeypatch.setattr(Place, "vacate", lambda self, now: None)


def release_kept_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Place, "keep_slot", lambda self, now: self.level.add(-1, now))
    monkeypatch.setattr(Place, "return_to_slot", lambda self, now: self.level.add(1, now))


MUTATIONS = [
    ("mm1", double_servers, "wait_h mean (Wq)"),
    ("mmc", double_servers, "wait_h mean (Wq)"),
    ("mmck", free_slot_on_parking, "P(turned away)"),
    ("erlang_b", release_kept_slot, "P(turned away)"),
]


def _rows(case: str) -> dict[str, dict]:
    return {r["metric"]: r for r in validation.run_case(CASES[case], quick=True)}


@pytest.mark.slow
@pytest.mark.parametrize(("case", "mutate", "metric"), MUTATIONS,
                         ids=[f"{c}-{m.__name__}" for c, m, _ in MUTATIONS])
def test_case_passes_unpatched_and_fails_patched(monkeypatch, case, mutate, metric):
    assert all(r["passed"] for r in _rows(case).values())
    mutate(monkeypatch)
    rows = _rows(case)
    assert not rows[metric]["passed"], rows[metric]
