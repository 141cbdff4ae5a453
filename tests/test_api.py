"""The public API: what README's "From Python" shows is importable from ``gatesim`` and writes
no files."""

from __future__ import annotations

import gatesim
from tests.conftest import SMALL_GATE


def test_compare_and_sweep_return_tables_and_write_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = gatesim.load_scenario(SMALL_GATE)
    more = gatesim.load_scenario(SMALL_GATE, ["name=more", "stages.documents.servers=3"])
    c = gatesim.compare([base, more], replications=2, seed=1)
    assert isinstance(c, gatesim.Comparison) and c.names == [base.name, "more"]
    assert {"diff", "ci_low", "ci_high", "p_adj"} <= set(c.table.columns)
    w = gatesim.sweep(SMALL_GATE, [("yards.front.slots", [10, 20])], replications=2, seed=1,
                      target=gatesim.Target.parse("queue_length/documents/mean<=1000"))
    assert isinstance(w, gatesim.SweepResult) and w.meta["best"] == {"yards.front.slots": 10}
    assert list(tmp_path.iterdir()) == []
