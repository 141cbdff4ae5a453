"""Worker processes and signals: no orphan, no hang, no traceback, the right exit status.

Exit status: 2 bad input, 1 a run failure (a replication raised, a worker died), 130 Ctrl-C,
143 SIGTERM; the user sees one line. Each test runs the CLI as a subprocess on a tiny
scenario, except where a replication must misbehave on purpose (the in-process API, or the
CLI started through a few lines that patch the replication function first).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from gatesim import cli
from gatesim.errors import GatesimError
from gatesim.experiments import run as experiment
from gatesim.experiments import workers
from gatesim.scenario.loader import load_scenario
from tests.conftest import ROOT, TINY

CLI = [sys.executable, "-m", "gatesim.cli"]
LONG = ["--days", "2000", "--records", "none"]  # a few seconds per replication
KEPT = "*/replication-*"  # a finished replication kept on disk (not a hidden temporary)


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


class Cli:
    """The CLI in its own session (a process group, like a terminal's foreground job), its
    output in files: a leftover worker holding a pipe must not hang the test."""

    def __init__(self, tmp_path: Path, args: list[str], command: list[str] = CLI) -> None:
        self.err_path = tmp_path / f"stderr-{time.monotonic_ns()}"
        with open(os.devnull, "w") as out, self.err_path.open("w") as err:
            self.p = subprocess.Popen([*command, *args], cwd=ROOT, stdout=out, stderr=err,
                                      start_new_session=True)
        self.started = time.monotonic()
        self.seen: list[psutil.Process] = []

    def workers(self, n: int, timeout: float = 25) -> list[psutil.Process]:
        """Wait until the CLI runs ``n`` worker processes."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.p.poll() is None, f"finished before its workers started: {self.err}"
            kids = psutil.Process(self.p.pid).children()
            self.seen += [k for k in kids if k not in self.seen]
            if len(kids) >= n:
                return kids
            assert time.monotonic() < deadline, "its workers did not start"
            time.sleep(0.02)

    def wait_files(self, where: Path, count: int, timeout: float = 25) -> None:
        deadline = time.monotonic() + timeout
        while len(list(where.glob(KEPT))) < count:
            assert self.p.poll() is None, f"finished before it could be interrupted: {self.err}"
            assert time.monotonic() < deadline, "no replication finished"
            time.sleep(0.02)

    def finish(self, timeout: float = 25) -> int:
        return self.p.wait(timeout)

    @property
    def err(self) -> str:
        return self.err_path.read_text()

    def cleanup(self) -> None:
        """End what is left of this CLI (only its own processes, by pid)."""
        procs = list(self.seen)
        if self.p.poll() is None:
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(self.p.pid)
                procs += [*parent.children(), parent]
        for proc in procs:
            with contextlib.suppress(psutil.Error):  # e.g. a pid since reused: refused
                proc.kill()
        if self.p.poll() is None:
            self.p.wait(5)


def gone(procs: list[psutil.Process], timeout: float) -> bool:
    """True once none of ``procs`` runs (a zombie waiting for its reaper does not run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_runs(p) for p in procs):
            return True
        time.sleep(0.02)
    return False


def _runs(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


# --- 1. workers die with their parent ---------------------------------------------------
def test_workers_die_with_a_sigkilled_parent(tmp_path, tiny):
    run = Cli(tmp_path, ["run", str(tiny), "-r", "4", "-w", "2", *LONG, "--out",
                         str(tmp_path / "out"), "-q", "--no-report"])
    try:
        workers = run.workers(2)
        time.sleep(0.3)  # at work, not starting
        run.p.send_signal(signal.SIGKILL)
        run.finish()
        assert gone(workers, 5), [p for p in workers if _runs(p)]
    finally:
        run.cleanup()


def test_a_worker_whose_parent_died_before_it_started_exits():
    """The check behind the death signal: a parent that died before it was armed."""
    ctx = mp.get_context("fork")
    for parent, status in [(os.getpid(), 0), (os.getpid() + 4_000_000, 1)]:
        p = ctx.Process(target=workers._die_with, args=(parent,))
        p.start()
        p.join(10)
        assert p.exitcode == status


# --- 2. a bad --scheduler is refused at once, in one line -------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, words", [
    ("nonsense:://x", "got the scheme 'nonsense:'"),
    ("ftp://127.0.0.1:8786", "got the scheme 'ftp'"),
    ("tcp://127.0.0.1", "expected HOST:PORT"),
    ("tcp://127.0.0.1:99999", "expected 1 to 65535"),
    ("tcp://127.0.0.1:{free}", "cannot connect (nothing answers at 127.0.0.1:"),
    ("127.0.0.1:{free}", "cannot connect"),
])
def test_a_bad_scheduler_is_refused_in_seconds(tmp_path, tiny, address, words):
    pytest.importorskip("distributed")
    address = address.format(free=free_port())
    t0 = time.monotonic()
    p = subprocess.run([*CLI, "run", str(tiny), "-r", "2", "--executor", "dask", "--scheduler",
                        address, "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    elapsed = time.monotonic() - t0
    assert p.returncode == 2
    line = one_line(p.stderr)
    assert line.startswith(f"gatesim: error: --scheduler {address}: ") and words in line
    assert elapsed < 20  # imports included; it used to wait 30-60 s


def test_a_peer_that_never_answers_is_given_up_in_seconds(tmp_path, tiny):
    pytest.importorskip("distributed")
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    try:
        t0 = time.monotonic()
        p = subprocess.run([*CLI, "run", str(tiny), "-r", "2", "--executor", "dask",
                            "--scheduler", address, "--out", str(tmp_path / "out")], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - t0
    finally:
        listener.close()
        for c in accepted:
            c.close()
    assert p.returncode == 2
    assert one_line(p.stderr).startswith(f"gatesim: error: --scheduler {address}: no dask "
                                         "scheduler answered within")
    assert elapsed < 28  # distributed alone waits forever


# --- 3. one line, the right exit status ---------------------------------------------------
@pytest.mark.parametrize("sig, code, group", [
    (signal.SIGTERM, 143, False),  # `kill PID`
    (signal.SIGTERM, 143, True),  # `kill -- -PGID`, a service manager: workers get it too
    (signal.SIGINT, 130, True),  # Ctrl-C: the terminal sends it to the whole group
    (signal.SIGINT, 130, False),
], ids=["TERM-main", "TERM-group", "INT-group", "INT-main"])
def test_a_stopped_run_says_one_line_and_leaves_no_worker(tmp_path, tiny, sig, code, group):
    run = Cli(tmp_path, ["run", str(tiny), "-r", "4", "-w", "2", *LONG, "--out",
                         str(tmp_path / "out"), "-q", "--no-report"])
    try:
        workers = run.workers(2)
        time.sleep(0.3)
        if group:
            os.killpg(run.p.pid, sig)
        else:
            run.p.send_signal(sig)
        assert run.finish() == code
        assert "gatesim: interrupted;" in one_line(run.err)
        assert gone(workers, 1)  # stopped before the CLI exits
    finally:
        run.cleanup()


CTRL_C_IN_FORK: list[bool] = []


def _ctrl_c_in_fork() -> None:
    """An os.register_at_fork callback (it cannot be removed: inert outside its test)."""
    if CTRL_C_IN_FORK and not CTRL_C_IN_FORK[0]:
        CTRL_C_IN_FORK[0] = True
        os.kill(os.getpid(), signal.SIGINT)


os.register_at_fork(before=_ctrl_c_in_fork)


def test_ctrl_c_while_workers_are_forked_is_not_lost(tiny, monkeypatch):
    """A Ctrl-C taken by another thread (numpy's, say) while a worker is forked used to be
    raised inside fork's callbacks, printed as "Exception ignored" and lost: the run went on
    to the end and exited 0."""
    monkeypatch.setattr(sys.modules[__name__], "CTRL_C_IN_FORK", [False])
    threading.Thread(target=time.sleep, args=(10,), daemon=True).start()  # takes the signal
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        experiment.run(load_scenario(tiny, ["clock.horizon_days=2000"]), replications=4,
                       seed=1, workers=2, records="none")
    assert CTRL_C_IN_FORK == [True]
    assert time.monotonic() - t0 < 5  # stopped at once, not after the whole run


PATCHED = """\
import sys
from gatesim.experiments import run
from tests import test_interrupts
run._one = getattr(test_interrupts, sys.argv.pop(1))
from gatesim.cli import main
sys.exit(main(sys.argv[1:]))
"""


def raises_on_replication_1(job):
    if job[2] == 1:
        return 1 / 0
    return REAL_ONE(job)


REAL_ONE = experiment._one


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_exception_in_a_replication_is_one_line_naming_it(tmp_path, tiny, workers):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-c", PATCHED, "raises_on_replication_1", "run",
                        str(tiny), "-r", "3", "--seed", "7", "-w", workers, "--out", str(out),
                        "-q", "--no-report"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1
    line = one_line(p.stderr)
    assert re.fullmatch(r"gatesim: error: tiny: replication 1 \(seed 7\) failed: "
                        r"ZeroDivisionError: division by zero \(at test_interrupts\.py:\d+\); "
                        r"finished ones are kept in .*", line), line


def test_an_exception_keeps_its_cause_for_python_callers(tiny, monkeypatch):
    monkeypatch.setattr(experiment, "_one", raises_on_replication_1)
    with pytest.raises(GatesimError, match=r"replication 1 \(seed 7\) failed: Zero") as info:
        experiment.run(load_scenario(tiny), replications=3, seed=7, workers=2)
    assert info.value.exit_code == 1
    assert isinstance(info.value.__cause__.__cause__, ZeroDivisionError)


# --- 4. a dead worker is blamed for its own replication ------------------------------------
def slow_0_and_killed_on_1(job):
    """Replication 0 is still running (another worker) when replication 1's worker dies."""
    if job[2] == 0:
        time.sleep(60)
    if job[2] == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return REAL_ONE(job)


def test_a_dead_worker_is_blamed_for_its_own_replication(tiny, monkeypatch):
    monkeypatch.setattr(experiment, "_one", slow_0_and_killed_on_1)  # inherited by fork
    t0 = time.monotonic()
    with pytest.raises(GatesimError) as info:
        experiment.run(load_scenario(tiny), replications=3, seed=5, workers=2)
    assert str(info.value) == ("tiny: replication 1 (seed 5) failed: a worker process was "
                               "killed by SIGKILL (out of memory?)")
    assert info.value.exit_code == 1
    assert time.monotonic() - t0 < 30  # the sleeping worker was stopped


# --- 5. a signal to ONE worker is a failed worker, not an interruption ---------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_a_signal_to_one_worker_is_a_failed_worker_and_the_run_resumes(tmp_path, tiny, sig):
    out = tmp_path / "out"
    args = ["run", str(tiny), "-r", "6", "--seed", "4", "-w", "2", "--days", "150",
            "--records", "none", "--out", str(out), "--no-report"]
    run = Cli(tmp_path, [*args, "-q"])
    try:
        workers = run.workers(2)
        run.wait_files(tmp_path / ".out.partial", 1)
        workers[0].send_signal(sig)
        assert run.finish() == 1
        line = one_line(run.err)
    finally:
        run.cleanup()
    m = re.fullmatch(r"gatesim: error: tiny: replication (\d) \(seed 4\) failed: a worker "
                     rf"process was killed by {sig.name}.*; finished ones are kept in .*", line)
    assert m, line
    kept = len(list((tmp_path / ".out.partial").glob(KEPT)))
    assert 1 <= kept < 6
    assert not list((tmp_path / ".out.partial").glob(f"*/replication-{m[1]}.*"))
    again = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {kept} finished replications" in again.stdout
    assert again.stderr == ""  # no kept replication was damaged (none discarded)


# --- 6. Ctrl-C at any moment of startup ----------------------------------------------------
def test_ctrl_c_anywhere_in_main_is_one_line(monkeypatch, capsys):
    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "parser", interrupted)
    assert cli.main(["run", "x.yaml"]) == 130
    assert "gatesim: interrupted;" in one_line(capsys.readouterr().err)
    assert signal.getsignal(signal.SIGTERM) is not cli._terminate  # handler given back


def _imports_eagerly() -> bool:
    """Whether ``import gatesim`` loads pandas, before the entry point can catch Ctrl-C."""
    code = "import sys, gatesim.cli; print('pandas' in sys.modules)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60).stdout.strip() == "True"


def test_ctrl_c_while_starting_up_is_one_line(tmp_path, tiny):
    script = Path(sys.executable).with_name("gatesim")
    command = [str(script)] if script.exists() else CLI
    failures = []
    for delay in (0.25, 0.4, 0.55, 0.7, 0.85, 1.0):  # after Python itself has started
        run = Cli(tmp_path, ["run", str(tiny), "-r", "2", *LONG, "--out",
                             str(tmp_path / f"out{delay}"), "-q", "--no-report"], command)
        try:
            time.sleep(max(0.0, run.started + delay - time.monotonic()))
            os.killpg(run.p.pid, signal.SIGINT)
            status = run.finish()
            err = run.err
        finally:
            run.cleanup()
        lines = err.strip().splitlines()
        if status != 130 or len(lines) != 1 or "Traceback" in err:
            failures.append((delay, status, lines[-1:] if lines else []))
    if failures and _imports_eagerly():
        pytest.xfail("gatesim/__init__.py imports pandas before gatesim.cli.main runs, so a "
                     f"Ctrl-C then is outside its reach: {failures}")
    assert not failures


# --- a Ctrl-C that a library swallows ------------------------------------------------------
def test_a_swallowed_ctrl_c_still_stops_the_work():
    """Cython's module set-up clears what ``abc.register`` raises, so a Ctrl-C landing while
    numpy.random imports vanished and the run wrote its results with status 0."""
    from gatesim import interrupts

    with interrupts.watched():
        interrupts.check()  # nothing noted yet
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here
        except KeyboardInterrupt:
            pass  # what the library did
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_ctrl_c_reported_as_unraisable_is_not_printed(monkeypatch):
    from gatesim import interrupts

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))

    class Dropped:
        def __del__(self):
            interrupts.handler(signal.SIGINT, None)

    class Other:
        def __del__(self):
            raise ValueError("shown")

    with interrupts.watched():
        Dropped()
        Other()
        assert seen == [ValueError]
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    interrupts.check()  # the note ends with the block: a later run starts afresh


def test_a_swallowed_ctrl_c_stops_the_cli_with_one_line(tmp_path, tiny, monkeypatch, capsys):
    from gatesim import interrupts

    real = experiment.run

    def swallowing(*args, **kwargs):
        with contextlib.suppress(KeyboardInterrupt):
            interrupts.handler(signal.SIGINT, None)
        return real(*args, **kwargs)

    monkeypatch.setattr(experiment, "run", swallowing)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny), "-r", "2", "--out", str(out), "-q", "--no-report"]) == 130
    assert not out.exists()
    assert "interrupted" in one_line(capsys.readouterr().err)


def test_an_error_a_ctrl_c_caused_is_reported_as_the_interrupt(tmp_path, tiny, monkeypatch,
                                                               capsys):
    """A Ctrl-C inside a C extension's initialisation surfaces as ImportError('initialization
    failed') (CI saw exit 1 with that line): once a Ctrl-C was noted, the run ends as
    interrupted, 130, whatever error follows."""
    from gatesim import interrupts

    def broken(*args, **kwargs):
        with contextlib.suppress(KeyboardInterrupt):
            interrupts.handler(signal.SIGINT, None)
        raise ImportError("initialization failed")

    monkeypatch.setattr(experiment, "run", broken)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny), "-r", "2", "--out", str(out), "-q", "--no-report"]) == 130
    assert not out.exists()
    assert "interrupted" in one_line(capsys.readouterr().err)
