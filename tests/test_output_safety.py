"""Never lose a user's file: what --out, --force, report --out and a full disk may touch.

Each test reproduces an attack of the adversarial review (the safety issue): before the fix,
``--force`` deleted whatever directory ``--out`` named, two runs on one ``--out`` silently
replaced each other, a sweep wrote into any folder, ``report --out`` overwrote any file, and
odd ``--out`` paths or a full disk gave tracebacks.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from gatesim import cli
from gatesim.output.destination import Destination
from tests.conftest import ROOT, TINY


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def gs(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatesim.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def one_error_line(p: subprocess.CompletedProcess, code: int = 2) -> str:
    lines = p.stderr.strip().splitlines()
    assert p.returncode == code, p.stderr
    assert len(lines) == 1 and lines[0].startswith("gatesim: error: "), p.stderr
    return lines[0]


def victim(tmp_path: Path) -> Path:
    d = tmp_path / "victim"
    (d / "sub").mkdir(parents=True)
    (d / "thesis.txt").write_text("x")
    (d / "sub" / "data.csv").write_text("1,2\n")
    return d


def intact(d: Path) -> bool:
    return (d / "thesis.txt").read_text() == "x" and (d / "sub" / "data.csv").is_file()


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_force_refuses_a_directory_gatesim_did_not_write(tmp_path, tiny, command):
    d = victim(tmp_path)
    extra = {"run": [str(tiny)], "compare": [str(tiny), str(tiny), "--set", "name=x"],
             "sweep": [str(tiny), "--param", "yards.queue.slots=10,20"]}[command]
    if command == "compare":  # two scenarios with different names
        other = tmp_path / "other.yaml"
        other.write_text(TINY.replace("name: tiny", "name: other"))
        extra = [str(tiny), str(other)]
    p = gs(command, *extra, "-r", "1", "-w", "1", "--out", str(d), "--force", "--no-report")
    line = one_error_line(p)
    assert str(d) in line and "not a directory gatesim wrote" in line
    assert intact(d) and sorted(os.listdir(d)) == ["sub", "thesis.txt"]


def test_force_replaces_results_but_not_a_file_added_to_them(tmp_path, tiny):
    out = tmp_path / "res"
    args = ("run", str(tiny), "-r", "1", "-w", "1", "--out", str(out), "--no-report", "-q")
    assert gs(*args).returncode == 0
    (out / "notes.txt").write_text("mine")
    line = one_error_line(gs(*args, "--force"))
    assert "notes.txt" in line and (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    assert gs(*args, "--force", "--seed", "7").returncode == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 7


def test_never_the_root_home_working_or_scenario_directory(tmp_path, tiny):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    base = ("run", str(tiny), "-r", "1", "-w", "1", "--force", "--no-report")
    assert "home directory" in one_error_line(gs(*base, "--out", str(home), env=env))
    assert "filesystem root" in one_error_line(gs(*base, "--out", "/"))
    assert "working directory" in one_error_line(gs(*base, "--out", str(tmp_path),
                                                     cwd=tmp_path / "home"))
    assert "holds the input" in one_error_line(gs(*base, "--out", str(tmp_path)))
    for name in (".", ".."):  # the working directory, and the one holding it and the input
        assert "refused" in one_error_line(gs(*base, "--out", name, cwd=home))
    assert "not '.' or '..'" in one_error_line(gs(*base, "--out", str(home / "x" / "..")))
    assert tiny.is_file() and home.is_dir()


def test_odd_out_paths_are_one_line_errors(tmp_path, tiny):
    base = ("run", str(tiny), "-r", "1", "-w", "1", "--no-report")
    f = tmp_path / "a_file"
    f.write_text("keep")
    assert "is a file" in one_error_line(gs(*base, "--out", str(f), "--force"))
    assert f.read_text() == "keep"
    assert "too long" in one_error_line(gs(*base, "--out", str(tmp_path / ("x" * 300))))
    # not writable, even as root: the kernel refuses a directory under /proc
    one_error_line(gs(*base, "--out", "/proc/self/gatesim-results"))


def test_a_second_run_on_the_same_out_is_refused_while_the_first_holds_it(tmp_path, tiny):
    out = tmp_path / "res"
    with Destination(out, "run"):
        line = one_error_line(gs("run", str(tiny), "-r", "1", "--out", str(out), "--force"))
        assert f"PID {os.getpid()}" in line
    assert not out.exists() and not (tmp_path / ".res.lock").exists()


def test_two_concurrent_runs_never_both_succeed_with_one_lost(tmp_path, tiny):
    out = tmp_path / "res"
    long = tmp_path / "long.yaml"
    long.write_text(TINY.replace("horizon_days: 3", "horizon_days: 200"))
    procs = [subprocess.Popen([sys.executable, "-m", "gatesim.cli", "run", str(long), "-r",
                               "2", "-w", "1", "--seed", str(seed), "--out", str(out),
                               "--no-report", "-q"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    codes = [p.wait(timeout=300) for p in procs]
    assert sorted(codes) == [0, 2], [p.stderr.read() for p in procs]
    winner = (1, 2)[codes.index(0)]
    assert json.loads((out / "summary.json").read_text())["seed"] == winner


def test_sweep_refuses_other_results_and_resumes_its_own(tmp_path, tiny):
    run_out = tmp_path / "run"
    assert gs("run", str(tiny), "-r", "1", "-w", "1", "--out", str(run_out), "--no-report",
              "-q").returncode == 0
    before = sorted(os.listdir(run_out))
    sweep = ("sweep", str(tiny), "--param", "yards.queue.slots=10,20", "-r", "1", "-w", "1",
             "--no-report", "-q")
    one_error_line(gs(*sweep, "--out", str(run_out)))
    assert sorted(os.listdir(run_out)) == before  # no points/, sweep.csv or plots/ added
    out = tmp_path / "sw"
    (out / "points").mkdir(parents=True)  # an interrupted sweep's store resumes
    assert gs(*sweep, "--out", str(out)).returncode == 0
    assert (out / "sweep.csv").is_file()


def test_report_out_never_overwrites_a_users_file(tmp_path, tiny):
    res = tmp_path / "res"
    assert gs("run", str(tiny), "-r", "1", "-w", "1", "--out", str(res), "-q").returncode == 0
    mine = tmp_path / "slides" / "talk.html"
    mine.parent.mkdir()
    mine.write_text("<html>my talk</html>")
    assert "not a gatesim report" in one_error_line(gs("report", str(res), "--out", str(mine)))
    assert mine.read_text() == "<html>my talk</html>"
    ours = tmp_path / "slides" / "report.html"
    for _ in range(2):  # a gatesim report there is replaced
        assert gs("report", str(res), "--out", str(ours), "-q").returncode == 0
    assert sorted(os.listdir(mine.parent)) == ["report.html", "talk.html"]  # no plots/ beside


def test_leftovers_of_a_killed_run_are_cleaned_and_results_follow_the_umask(tmp_path, tiny):
    out = tmp_path / "res"
    stale = tmp_path / ".res.partial-ab12cd"
    stale.mkdir()
    (stale / "summary.csv").write_text("half")
    assert gs("run", str(tiny), "-r", "1", "-w", "1", "--out", str(out), "--no-report",
              "-q").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "tiny.yaml"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask


def test_a_symlinked_out_leaves_nothing_behind(tmp_path, tiny):
    real, link = tmp_path / "real", tmp_path / "link"
    args = ("run", str(tiny), "-r", "1", "-w", "1", "--no-report", "-q", "--out", str(link))
    assert gs("run", str(tiny), "-r", "1", "-w", "1", "--no-report", "-q", "--out",
              str(real)).returncode == 0
    link.symlink_to(real)
    assert gs(*args, "--force").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real", "tiny.yaml"]
    assert link.is_symlink() and (link / "summary.csv").is_file()


def test_compare_refuses_a_scenario_named_like_the_reports_folder(tmp_path, tiny):
    plots = tmp_path / "plots.yaml"
    plots.write_text(TINY.replace("name: tiny", "name: plots"))
    line = one_error_line(gs("compare", str(tiny), str(plots), "-r", "1", "--out",
                             str(tmp_path / "c")))
    assert "plots" in line and not (tmp_path / "c").exists()


def test_a_full_disk_is_one_line_and_keeps_the_old_results(tmp_path, tiny, monkeypatch, capsys):
    out = tmp_path / "res"
    args = ["run", str(tiny), "-r", "1", "-w", "1", "--out", str(out), "--no-report", "-q"]
    assert cli.main(args) == 0
    before = (out / "summary.csv").read_bytes()
    real = pd.DataFrame.to_parquet

    def full(self, path=None, *a, **kw):
        if path is not None and "timeseries.parquet" in str(path):
            Path(path).write_text("half")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, path, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    capsys.readouterr()
    assert cli.main([*args, "--force", "--seed", "3"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0]
    assert (out / "summary.csv").read_bytes() == before
    # no staging directory is left; the finished replication is kept so the command resumes
    assert sorted(p.name for p in tmp_path.iterdir()) == [".res.partial", "res", "tiny.yaml"]


def test_a_full_disk_while_keeping_a_checkpoint_leaves_no_temporary_file(tmp_path, tiny,
                                                                          monkeypatch, capsys):
    real = Path.write_bytes

    def full(self, data):
        if ".r.partial" in str(self):
            real(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    args = ["run", str(tiny), "-r", "2", "-w", "1", "--out", str(tmp_path / "r"), "-q"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0]
    assert [p for p in (tmp_path / ".r.partial").rglob("*") if p.is_file()] == []
    assert not (tmp_path / "r").exists()


DAMAGE = {
    "summary.json not JSON": lambda d: (d / "summary.json").write_text("{not json"),
    "summary.json a list": lambda d: (d / "summary.json").write_text("[1, 2]"),
    "no scenario in summary.json": lambda d: (d / "summary.json").write_text(
        json.dumps({k: v for k, v in json.loads((d / "summary.json").read_text()).items()
                    if k != "scenario"})),
    "replications.csv missing": lambda d: (d / "replications.csv").unlink(),
    "replications.csv garbage": lambda d: (d / "replications.csv").write_bytes(b"\x00\xff\x00"),
    "summary.csv missing": lambda d: (d / "summary.csv").unlink(),
    "timeseries.parquet emptied": lambda d: (d / "timeseries.parquet").write_text(""),
    "visits.parquet garbage": lambda d: (d / "visits.parquet").write_bytes(b"PAR1\x00PAR1"),
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("finished")
    (d / "tiny.yaml").write_text(TINY)
    assert gs("run", str(d / "tiny.yaml"), "-r", "1", "-w", "1", "--out", str(d / "res"),
              "--no-report", "-q").returncode == 0
    return d / "res"


@pytest.mark.parametrize("damage", DAMAGE)
def test_check_and_report_on_a_damaged_directory_are_one_line(tmp_path, finished, damage):
    import shutil

    d = tmp_path / "res"
    shutil.copytree(finished, d)
    DAMAGE[damage](d)
    check = gs("run", "--check", str(d))
    assert "Traceback" not in check.stderr, check.stderr
    uses = ("summary.json" in damage or "scenario" in damage or "replications" in damage)
    assert (check.returncode in (1, 2)) == uses, check.stdout + check.stderr
    report = gs("report", str(d), "-q")  # it may not need the damaged file
    assert "Traceback" not in report.stderr, report.stderr
    for p in (check, report):
        if p.returncode == 2:
            one_error_line(p)


def test_the_lock_is_released_when_a_run_fails(tmp_path, tiny):
    out = tmp_path / "res"
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("servers: 1", "servers: -1"))
    one_error_line(gs("run", str(bad), "--out", str(out)))
    t = time.monotonic()
    assert gs("run", str(tiny), "-r", "1", "-w", "1", "--out", str(out), "--no-report",
              "-q").returncode == 0
    assert time.monotonic() - t < 60 and not (tmp_path / ".res.lock").exists()


def test_validate_never_overwrites_a_users_table(tmp_path, capsys):
    (tmp_path / "validation.csv").write_text("my,own\n1,2\n")
    assert cli.main(["validate", "--quick", "--out", str(tmp_path), "-q"]) == 2
    assert "not written by gatesim" in capsys.readouterr().err
    assert (tmp_path / "validation.csv").read_text() == "my,own\n1,2\n"


def test_ctrl_c_while_the_report_is_built_says_the_results_are_complete(tmp_path, tiny,
                                                                        monkeypatch, capsys):
    from gatesim.output import report

    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "build_report", interrupted)
    out = tmp_path / "res"
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", str(tiny), "-r", "1", "-w", "1", "--out", str(out), "-q"])
    assert stop.value.code == 130
    err = capsys.readouterr().err
    assert "results in" in err and "complete" in err and "nothing was written" not in err
    assert (out / "summary.csv").is_file()
