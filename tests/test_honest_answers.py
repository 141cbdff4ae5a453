"""No silent wrong answers: instability is shown wherever results are.

Before, "UNSTABLE" was printed by ``run`` only: not by compare, not by sweep, not in any
report, and a sweep's "smallest point" could be one whose backlog grows without bound.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from gatesim import cli
from tests.conftest import SMALL_GATE, TINY

CAPPED = "lanes.main.export.daily_cap.total=5"
"""The small gate with the other side accepting 5 exports a day: the backlog grows."""


@pytest.fixture(scope="module")
def unstable_results(tmp_path_factory):
    d = tmp_path_factory.mktemp("unstable")
    capped = d / "capped.yaml"
    capped.write_text(f"extends: {SMALL_GATE}\nname: capped\n")
    out = {"compare": d / "cmp", "sweep": d / "sw"}
    assert cli.main(["compare", str(SMALL_GATE), str(capped), "--set", CAPPED, "-r", "3",
                     "-w", "1", "--out", str(out["compare"]), "-q"]) == 0
    tiny = d / "tiny.yaml"  # one server for 144 trucks a day: 100 a day is stable, 200 not
    tiny.write_text(TINY.replace("horizon_days: 3", "horizon_days: 8"))
    assert cli.main(["sweep", str(tiny), "--param", "arrivals.a.rate_per_day=200,100", "-r",
                     "3", "-w", "1", "--target", "throughput_per_day/system/mean>=120", "--out",
                     str(out["sweep"]), "-q"]) == 0
    return out


def test_comparison_csv_and_report_show_instability(unstable_results):
    d = unstable_results["compare"]
    t = pd.read_csv(d / "comparison.csv")
    assert {"unstable", "growth_per_day", "baseline_unstable"} <= set(t.columns)
    assert t["unstable"].astype(str).str.lower().eq("true").all()
    assert (t["growth_per_day"] > 0).all()
    html = (d / "report.html").read_text(encoding="utf-8")
    head = html[:html.index("<nav>")]
    assert 'class="banner"' in head and "UNSTABLE" in head and "this horizon only" in head


def test_sweep_csv_and_report_show_instability_per_point(unstable_results):
    d = unstable_results["sweep"]
    t = pd.read_csv(d / "sweep.csv")
    flags = t.groupby("arrivals.a.rate_per_day")["unstable"].first()
    assert str(flags[200]).lower() == "true" and str(flags[100]).lower() == "false"
    meta = json.loads((d / "sweep.json").read_text())
    assert meta["unstable_points"] == [{"arrivals.a.rate_per_day": 200}]
    assert meta["best"] == {"arrivals.a.rate_per_day": 200}  # only the overloaded point
    assert meta["best_unstable"] is True
    html = (d / "report.html").read_text(encoding="utf-8")
    head = html[:html.index("<nav>")]
    assert "UNSTABLE at 1 of 2 points" in head and "met for this horizon only" in head


def test_every_terminal_summary_says_so(tmp_path, capsys):
    capped = tmp_path / "capped.yaml"
    capped.write_text(f"extends: {SMALL_GATE}\nname: capped\n")
    base = ["-r", "2", "-w", "1", "--no-report", "--set", CAPPED]
    assert cli.main(["run", str(SMALL_GATE), *base, "--out", str(tmp_path / "r")]) == 0
    assert "UNSTABLE" in capsys.readouterr().out
    assert cli.main(["compare", str(SMALL_GATE), str(capped), *base, "--out",
                     str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "small_gate is UNSTABLE" in out and "capped is UNSTABLE" in out
    assert cli.main(["sweep", str(SMALL_GATE), "--param", "yards.front.slots=12,20", *base,
                     "--target", "queue_length/documents/mean<=1000", "--out",
                     str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "UNSTABLE at 2 of 2 points" in out and "met for this horizon only" in out
    assert cli.main(["run", str(SMALL_GATE), "-r", "1", "-w", "1", "--no-report", "--out",
                     str(tmp_path / "one")]) == 0
    assert "stability could not be judged" in capsys.readouterr().out


def test_intervals_respect_their_quantity():
    """'Road queue 1.65 [-2.05, 5.34]', a Tết count of -18.1 and a yard p95 interval reaching
    1006.75 on a 1000-slot yard were printed before: counts, levels and shares are clipped to
    what they can be, and the note says so."""
    from gatesim.experiments.run import summarise, upper_bounds
    from gatesim.scenario.loader import load_scenario

    per_rep = pd.DataFrame({
        "replication": [0, 1, 2, 3] * 3,
        "metric": ["in_system_end"] * 4 + ["yard_occupancy"] * 4 + ["utilisation"] * 4,
        "scope": ["system"] * 4 + ["front"] * 4 + ["documents"] * 4,
        "stat": ["count"] * 4 + ["p95"] * 4 + ["mean"] * 4,
        "value": [0, 0, 0, 9, 12, 11, 12, 12, 1.0, 0.97, 1.0, 1.0]})
    s = summarise(per_rep, upper=upper_bounds(load_scenario(SMALL_GATE))).set_index("metric")
    assert s.loc["in_system_end", "ci_low"] == 0 and "clipped at 0" in s.loc["in_system_end",
                                                                              "note"]
    assert s.loc["yard_occupancy", "ci_high"] == 12 and "clipped at 12" in s.loc[
        "yard_occupancy", "note"]
    assert s.loc["utilisation", "ci_high"] == 1 and "clipped at 1" in s.loc["utilisation", "note"]


def test_no_impossible_interval_in_a_real_run(tmp_path):
    import gatesim

    s = gatesim.load_scenario(SMALL_GATE)
    summary = gatesim.run(s, replications=3, seed=2).summary
    assert (summary.ci_low.dropna() >= 0).all()
    occupancy = summary[summary.metric == "yard_occupancy"]
    slots = {k: y.slots for k, y in s.yards.items()}
    assert all(hi <= slots[scope] for scope, hi in zip(occupancy.scope, occupancy.ci_high,
                                                        strict=True) if pd.notna(hi))


HN = str(SMALL_GATE.parents[2] / "scenarios" / "huu_nghi.yaml")


def test_a_typo_in_set_or_param_is_refused_with_a_suggestion(tmp_path, capsys):
    """Both used to exit 0: they created a new, unused yard, and the sweep reported
    'smallest point 400' for a yard that was never changed."""
    out = ["--out", str(tmp_path / "x"), "-r", "2"]
    assert cli.main(["run", HN, "--set", "yards.hn_export_yards.slots=800", *out]) == 2
    err = capsys.readouterr().err
    assert "no yard named 'hn_export_yards'" in err and "did you mean 'hn_export_yard'?" in err
    assert cli.main(["sweep", HN, "--param", "yards.hn_exprt_yard.slots=400,800", *out]) == 2
    err = capsys.readouterr().err
    assert "no yard named 'hn_exprt_yard'" in err and "did you mean 'hn_export_yard'?" in err
    assert cli.main(["run", HN, "--set", "stages.hn_export_documnets.servers=3", *out]) == 2
    assert "did you mean 'hn_export_documents'?" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_yard_nothing_uses_is_refused(tmp_path, capsys):
    doc = yaml.safe_load(TINY)
    doc["yards"]["spare"] = {"slots": 5}
    path = tmp_path / "spare.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "yards.spare" in err and "nothing uses it" in err
    doc["yards"] = {"queue": {"slots": 20}}
    doc["calendars"] = {"shfits": {"weekly": [{"windows": [{"open": "07:00", "close": "17:00"}]}]}}
    path.write_text(yaml.safe_dump(doc))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "r")]) == 2
    assert "calendars.shfits" in capsys.readouterr().err
