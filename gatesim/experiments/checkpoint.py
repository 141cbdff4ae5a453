"""Finished replications kept on disk while a run is under way, so an interrupted run resumes.

They live in ``.<results>.partial/<key>/`` beside the results directory: a name that never
looks like finished results. The key hashes everything that decides a replication's numbers,
so a changed scenario, seed, records mode, gatesim version or stream layout starts afresh.
Each replication is a data-only file (replication_file.py): a damaged or planted file can at
worst be discarded (one warning line, the replication runs again), never run code. The
directory is removed when the run's results are written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from gatesim.engine.records import ReplicationOutput
from gatesim.errors import WriteFailed
from gatesim.experiments import replication_file


class Checkpoint:
    def __init__(self, out: Path, key: str) -> None:
        self.root = out.parent / f".{out.name}.partial"
        self.dir = self.root / key
        self.warned = False

    def _path(self, replication: int) -> Path:
        return self.dir / f"replication-{replication}.npz"

    def load(self, replication: int) -> ReplicationOutput | None:
        path = self._path(replication)
        if not path.is_file():
            return None
        try:
            out = replication_file.load(path)
            if out.replication != replication:
                raise replication_file.Damaged(f"holds replication {out.replication}")
            return out
        except (replication_file.Damaged, OSError) as exc:
            self._discard(path, exc)
            return None

    def _discard(self, path: Path, exc: Exception) -> None:
        """Drop an unreadable checkpoint, with one warning line per run; it is run again."""
        path.unlink(missing_ok=True)
        if not self.warned:
            self.warned = True
            print(f"gatesim: warning: discarded unreadable checkpoint {path} ({exc}); its "
                  "replication is run again", file=sys.stderr)

    def save(self, out: ReplicationOutput) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            replication_file.save(out, self._path(out.replication))
        except OSError as exc:
            raise WriteFailed(f"cannot keep replication {out.replication} in {self.dir}: "
                              f"{exc.strerror or exc}") from None

    def done(self) -> int:
        return len(list(self.dir.glob("replication-*.npz"))) if self.dir.is_dir() else 0

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@functools.cache
def code_hash() -> str:
    """A hash of the source of the modules that decide a replication's numbers (scenario and
    engine), so work stored by other code is never reused, even under the same version."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted([*root.glob("scenario/*.py"), *root.glob("engine/*.py")]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def work_key(**parts: object) -> str:
    """A key for stored work: a hash of what decides its numbers (``parts``: the resolved
    scenario, seed, …) with the gatesim version, its engine's code and the stream layout."""
    from importlib import metadata

    from gatesim.engine.rng import STREAM_LAYOUT_VERSION
    from gatesim.experiments.guard import scenario_hash

    try:
        version = metadata.version("gatesim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return scenario_hash({**parts, "gatesim": version, "code": code_hash(),
                         "layout": STREAM_LAYOUT_VERSION})[:20]


def checkpoint_key(scenario_doc: dict, seed: int, records: str) -> str:
    """The key of a run's finished replications."""
    return work_key(scenario=scenario_doc, seed=seed, records=records)


class MeasureStore:
    """Small measured results kept while a long analysis runs (a calibration's figures per
    candidate), as JSON in ``.<results>.partial/measures/``: data only, written atomically,
    so an interrupted calibration resumes without re-running its candidates."""

    def __init__(self, out: Path) -> None:
        self.root = out.parent / f".{out.name}.partial"
        self.dir = self.root / "measures"

    def load(self, key: str) -> dict | None:
        path = self.dir / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, key: str, data: dict) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f".{key}.tmp"
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self.dir / f"{key}.json")
        except OSError as exc:
            raise WriteFailed(f"cannot keep a measured candidate in {self.dir}: "
                              f"{exc.strerror or exc}") from None

    def done(self) -> int:
        return len(list(self.dir.glob("*.json"))) if self.dir.is_dir() else 0

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
