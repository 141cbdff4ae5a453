"""Where results go: claiming an output directory without ever losing a user's file.

gatesim replaces only a directory it wrote itself: one holding its own marker file
(``summary.json``, ``comparison.json``, ``sweep.json``, ``sensitivity.json``,
``screening.json`` or ``calibration.json`` written by gatesim) and nothing but the files
gatesim writes there. Anything else is refused, ``--force`` or not, with a message that names
it. The filesystem
root, the home directory, the working directory (or any directory above it) and a directory
holding an input scenario are never replaced.

From the check until the results are published, an exclusive OS lock (``fcntl.flock`` on
``.<out>.lock`` beside the directory) keeps a second gatesim off the same directory: it
refuses at once, naming the holder's PID. Staging directories left by a killed run are
cleaned when the next run takes the lock.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from gatesim.errors import GatesimError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, the checks still run
    fcntl = None  # type: ignore[assignment]

Kind = Literal["run", "comparison", "sweep", "sensitivity", "screening", "calibration"]
MARKERS: dict[Kind, str] = {"run": "summary.json", "comparison": "comparison.json",
                            "sweep": "sweep.json", "sensitivity": "sensitivity.json",
                            "screening": "screening.json",
                            "calibration": "calibration.json"}
GENERATOR = "gatesim"
"""The value of the ``generator`` field in every JSON file gatesim writes."""
RUN_FILES = {"summary.csv", "replications.csv", "timeseries.csv", "trucks.csv", "visits.csv",
             "timeseries.parquet", "trucks.parquet", "visits.parquet", "summary.json",
             "results.xlsx", "report.html", "plots"}
SENSITIVITY_FILES = {"sensitivity.csv", "sensitivity.json", "results.xlsx", "report.html",
                     "plots"}
"""What a sensitivity writes (its replications are kept beside it while it runs)."""
SCREENING_FILES = {"screening.csv", "screening.json", "results.xlsx", "report.html", "plots"}
"""What a Morris screening writes (likewise)."""
CALIBRATION_FILES = {"calibration.csv", "calibration.json", "fit.csv", "profile.csv",
                     "trials.csv", "calibrated.yaml", "results.xlsx", "report.html", "plots"}
"""What a calibration writes (its measured candidates are kept beside it while it runs)."""
OWN_FILES: dict[Kind, set[str]] = {
    "run": RUN_FILES,
    "comparison": {"comparison.csv", "comparison.json", "results.xlsx", "report.html", "plots"},
    "sweep": {"sweep.csv", "sweep.json", "results.xlsx", "points", "report.html", "plots"},
    "sensitivity": SENSITIVITY_FILES,
    "screening": SCREENING_FILES,
    "calibration": CALIBRATION_FILES,
}


def _is_gatesim_json(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(doc, dict):
        return False
    legacy = isinstance(doc.get("versions"), dict) and "gatesim" in doc["versions"]
    return doc.get("generator") == GENERATOR or legacy


def owner(d: Path) -> tuple[Kind | None, list[str]]:
    """Which gatesim results ``d`` holds (None: none, so nothing in it is gatesim's) and the
    entries in it that gatesim did not write."""
    for kind, marker in MARKERS.items():
        if not _is_gatesim_json(d / marker):
            continue
        own = OWN_FILES[kind]
        foreign = []
        for entry in sorted(os.listdir(d)):
            if entry in own or _leftover(entry):
                continue
            sub = d / entry
            if kind == "comparison" and sub.is_dir() and not sub.is_symlink() \
                    and owner(sub) == ("run", []):
                continue  # one scenario's run inside a comparison
            foreign.append(entry)
        return kind, foreign
    entries = set(os.listdir(d))
    if (d / "points").is_dir() and {e for e in entries if not _leftover(e)} <= OWN_FILES["sweep"]:
        return "sweep", []  # an interrupted sweep: only its stored points so far
    return None, sorted(entries)


def _leftover(entry: str) -> bool:
    """A hidden half-written file of gatesim's (``.<name>.partial-<pid>``, see writer.py)."""
    return entry.startswith(".") and ".partial-" in entry


def _protected(out: Path, inputs: Iterable[Path]) -> str | None:
    """Why ``out`` may never be replaced, or None."""
    home = Path.home().resolve()
    cwd = Path.cwd().resolve()
    if out == Path(out.anchor):
        return "it is the filesystem root"
    if out == home:
        return "it is the home directory"
    if out == cwd or out in cwd.parents:
        return "it is the working directory or holds it"
    for f in inputs:
        real = Path(f).resolve()
        if out in real.parents:
            return f"it holds the input {f}"
    return None


class Destination:
    """An output directory claimed for one command: checked, locked, released.

    Use as a context manager around the whole command; ``publish`` within it (writer.py)
    is then the only writer of ``path``."""

    def __init__(self, out: Path, kind: Kind, force: bool = False,
                 inputs: Iterable[Path] = (), resume: bool = False) -> None:
        """``resume``: an existing directory of this kind may be continued without --force
        (an interrupted sweep)."""
        self.given = Path(out)
        self.kind, self.force, self.inputs, self.resume = kind, force, list(inputs), resume
        self._lock_fd: int | None = None
        try:
            self.path = self.given.resolve()  # a symlink --out means its target
        except (OSError, RuntimeError) as exc:
            raise GatesimError(f"--out {self.given}: {_reason(exc)}") from None
        self.lock_path = self.path.parent / f".{self.path.name}.lock"

    # --- the checks -----------------------------------------------------------------------
    def check(self) -> None:
        """Refuse an output directory gatesim may not write or replace (exit 2)."""
        try:
            self._check()
        except OSError as exc:
            raise GatesimError(f"--out {self.given}: cannot use it ({_reason(exc)})") from None

    def _check(self) -> None:
        out, shown = self.path, self.given
        why = _protected(out, self.inputs)
        if why:
            raise GatesimError(f"--out {shown}: refused, {why}; choose a new directory")
        if self.given.name in ("", ".", ".."):
            raise GatesimError(f"--out {shown}: give a directory name for the results, not "
                               "'.' or '..'")
        if len(f".{out.name}.partial-12345678".encode()) > _name_max(out.parent):
            raise GatesimError(f"--out {shown}: the name is too long for the file system once "
                               "gatesim adds its hidden working names; choose a shorter one")
        if not out.exists():
            return
        if not out.is_dir():
            raise GatesimError(f"--out {shown}: is a file, not a results directory; choose "
                               "another --out")
        if not os.listdir(out):
            return
        kind, foreign = owner(out)
        if kind is None:
            raise GatesimError(f"--out {shown}: refused, it is not a directory gatesim wrote "
                               "(it holds no gatesim results); gatesim never replaces it, "
                               "--force or not; choose a new directory")
        if foreign:
            listed = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
            raise GatesimError(f"--out {shown}: refused, it holds files gatesim did not "
                               f"write ({listed}); move them, or choose a new directory")
        if self.kind == "sweep" and kind != "sweep":
            raise GatesimError(f"--out {shown}: refused, it holds the results of a gatesim "
                               f"{kind}, and a sweep would add to them; choose a new directory")
        if self.resume and not (out / MARKERS[self.kind]).exists():
            return
        if not self.force:
            raise GatesimError(f"{shown} already holds results; choose another --out, or pass "
                               "--force to replace them")

    # --- the lock -------------------------------------------------------------------------
    def __enter__(self) -> Destination:
        self.check()
        self._lock()
        try:
            self.check()  # again under the lock: the directory may have changed meanwhile
            self._clean_leftovers()
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _lock(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GatesimError(f"--out {self.given}: cannot create it ({_reason(exc)})"
                               ) from None
        if fcntl is None:  # pragma: no cover
            return
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise GatesimError(f"--out {self.given}: cannot write beside it "
                                   f"({_reason(exc)})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise GatesimError(f"--out {self.given}: another gatesim (PID {holder}) is "
                                   "writing there now; wait for it, or choose another --out"
                                   ) from None
            try:  # the file we locked must still be the one at the path (not unlinked)
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def release(self) -> None:
        if self._lock_fd is None:
            return
        try:
            self.lock_path.unlink(missing_ok=True)
        finally:
            os.close(self._lock_fd)  # closing releases the lock
            self._lock_fd = None

    def _clean_leftovers(self) -> None:
        """Staging or replaced directories of a run that was killed while it wrote."""
        parent, name = self.path.parent, glob.escape(self.path.name)
        for old in sorted(parent.glob(f".{name}.old-*")):
            if self.path.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:  # killed between moving the old results away and the new ones in
                old.rename(self.path)
        stale = [*parent.glob(f".{name}.partial-*"), *self.path.glob(".*.partial-*"),
                 *self.path.glob("points/.*.partial-*")]
        for tmp in stale:
            if tmp.is_dir() and not tmp.is_symlink() and _only_gatesim_files(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
            elif tmp.is_file() and tmp.parent == self.path:
                tmp.unlink()


def _only_gatesim_files(d: Path) -> bool:
    """Does ``d`` (a staging directory) hold nothing but names gatesim writes?"""
    names = set().union(*OWN_FILES.values())
    for entry in d.iterdir():
        if entry.name in names:
            continue
        if not (entry.is_dir() and not entry.is_symlink() and _only_gatesim_files(entry)):
            return False
    return True


def _name_max(d: Path) -> int:
    """The longest file name the file system holding ``d`` (or its nearest ancestor) takes."""
    for p in (d, *d.parents):
        try:
            return os.pathconf(p, "PC_NAME_MAX")
        except (OSError, ValueError, AttributeError):
            continue
    return 255


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno == errno.ENAMETOOLONG:
            return "the name is too long for the file system"
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__
