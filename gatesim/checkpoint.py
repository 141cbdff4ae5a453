"""Finished replications kept on disk while a run is under way, so an interrupted run resumes.

They live in ``.<results>.partial/<key>/`` beside the results directory: a name that never
looks like finished results. The key hashes everything that decides a replication's numbers,
so a changed scenario, seed, records mode, gatesim version or stream layout starts afresh.
The directory is removed when the run's results are written.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

from gatesim.records import ReplicationOutput


class Checkpoint:
    def __init__(self, out: Path, key: str) -> None:
        self.root = out.parent / f".{out.name}.partial"
        self.dir = self.root / key

    def _path(self, replication: int) -> Path:
        return self.dir / f"replication-{replication}.pickle"

    def load(self, replication: int) -> ReplicationOutput | None:
        path = self._path(replication)
        if not path.is_file():
            return None
        try:
            with path.open("rb") as f:
                return pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None  # a damaged file: the replication is simply run again

    def save(self, out: ReplicationOutput) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self._path(out.replication)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        with tmp.open("wb") as f:
            pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)

    def done(self) -> int:
        return len(list(self.dir.glob("replication-*.pickle"))) if self.dir.is_dir() else 0

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def work_key(**parts: object) -> str:
    """A key for stored work: a hash of what decides its numbers (``parts``: the resolved
    scenario, seed, …) with the gatesim version and the random-stream layout."""
    from importlib import metadata

    from gatesim.guard import scenario_hash
    from gatesim.rng import STREAM_LAYOUT_VERSION

    try:
        version = metadata.version("gatesim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return scenario_hash({**parts, "gatesim": version, "layout": STREAM_LAYOUT_VERSION})[:20]


def checkpoint_key(scenario_doc: dict, seed: int, records: str) -> str:
    """The key of a run's finished replications."""
    return work_key(scenario=scenario_doc, seed=seed, records=records)
