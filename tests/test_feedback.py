"""What a newcomer reads on the terminal: progress when piped, a timing line, user help."""

from __future__ import annotations

import io
import subprocess
import sys

from gatesim import cli
from gatesim.experiments import progress
from tests.conftest import ROOT, TINY


def test_plain_lines_every_few_seconds_when_not_a_terminal(monkeypatch):
    out = io.StringIO()
    lines = progress.Lines(3, "huu_nghi replications", stream=out, every=0.0)
    for _ in range(3):
        lines.update(1)
    assert out.getvalue().splitlines() == [
        f"gatesim: huu_nghi replications {k} of 3 done (0 s)" for k in (1, 2, 3)]
    quiet = io.StringIO()
    slow = progress.Lines(3, "x", stream=quiet, every=3600.0)
    slow.update(1)
    assert quiet.getvalue() == ""  # at most one line every `every` seconds


def test_a_bar_on_a_terminal_lines_in_a_pipe_nothing_when_quiet(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert isinstance(progress.bar(4, "x", True), progress.Lines)
    assert not isinstance(progress.bar(4, "x", False), progress.Lines)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert not isinstance(progress.bar(4, "x", True), progress.Lines)


def test_a_run_ends_with_its_timing_line(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    assert cli.main(["run", str(scenario), "-r", "2", "--out", str(tmp_path / "out"),
                     "--no-report"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("done in ") and "simulating" in lines[-1] and "writing" in lines[-1]
    assert any(line.startswith("  A truck spends ") for line in lines)  # the answer, in words


def test_a_comparison_prints_its_answer_in_sentences_in_the_language_asked(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    other = tmp_path / "other.yaml"
    other.write_text("extends: tiny.yaml\nname: other\n")
    assert cli.main(["compare", str(scenario), str(other), "-r", "2", "--out",
                     str(tmp_path / "cmp"), "--no-report", "--lang", "vi"]) == 0
    out = capsys.readouterr().out
    assert "other so với tiny" in out and "lần lặp" in out and "{" not in out
    assert out.strip().splitlines()[-1].startswith("xong trong ")


def test_help_is_written_for_users():
    text = subprocess.run([sys.executable, "-m", "gatesim.cli", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60).stdout
    assert text.startswith("usage: gatesim")
    assert "Simulate cargo trucks" in text and "examples:" in text and "--lang vi" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_numbers_and_dates_in_each_language():
    import datetime as dt

    from gatesim import i18n

    with i18n.using("vi"):
        assert [i18n.number(1234.5, 1), i18n.significant(0.012345), i18n.significant(19.33),
                i18n.significant(1234.5), i18n.date(dt.date(2024, 8, 22))] == [
            "1.234,5", "0,0123", "19,3", "1.234", "22/08/2024"]
    assert [i18n.number(1234.5, 1), i18n.significant(0.5), i18n.significant(0),
            i18n.date(dt.date(2024, 8, 22))] == ["1,234.5", "0.5", "0", "22 Aug 2024"]
