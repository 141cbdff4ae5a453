"""Checkpoints are data: a flipped bit or a planted file is discarded, never believed or run.

Before the fix, checkpoints were pickles with predictable names beside ``--out``: anyone who
could write there ran code on the next ``gatesim run``, and one flipped bit published results
different from an uninterrupted run, with exit 0.
"""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from gatesim.engine.model import run_replication
from gatesim.experiments import replication_file
from gatesim.experiments import run as experiment
from gatesim.experiments.checkpoint import Checkpoint, checkpoint_key
from gatesim.experiments.frames import run_frames
from gatesim.scenario.loader import load_scenario
from tests.conftest import SMALL_GATE


@pytest.fixture(scope="module")
def small():
    return load_scenario(SMALL_GATE)


def checkpoint(tmp_path, s) -> Checkpoint:
    return Checkpoint(tmp_path / "out", checkpoint_key(s.model_dump(mode="json"), 5, "all"))


def test_a_replication_file_round_trips_exactly(small):
    out = run_replication(small, 5, 0)
    again = replication_file.load(_write(out))
    a, b = run_frames(small, [out]), run_frames(small, [again])
    for name in a:
        assert a[name].to_csv() == b[name].to_csv(), name


def _write(out, path=None):
    import tempfile
    from pathlib import Path

    path = path or Path(tempfile.mkdtemp()) / "r.npz"
    replication_file.save(out, path)
    return path


def test_a_flipped_bit_is_discarded_and_the_results_equal_an_uninterrupted_run(tmp_path,
                                                                               small, capsys):
    cp = checkpoint(tmp_path, small)
    cp.dir.mkdir(parents=True)
    for r in range(3):
        data = bytearray(replication_file.dumps(run_replication(small, 5, r)))
        if r == 1:
            data[len(data) // 2] ^= 0x04
        cp._path(r).write_bytes(bytes(data))
    resumed = experiment.run(small, replications=3, seed=5, checkpoint=cp)
    fresh = experiment.run(small, replications=3, seed=5)
    pd.testing.assert_frame_equal(resumed.summary, fresh.summary)
    pd.testing.assert_frame_equal(resumed.replications, fresh.replications)
    err = capsys.readouterr().err
    assert err.count("discarded unreadable checkpoint") == 1 and "replication-1" in err


def test_a_planted_pickle_never_runs(tmp_path, small):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    cp = checkpoint(tmp_path, small)
    cp.dir.mkdir(parents=True)
    cp._path(0).write_bytes(pickle.dumps(Exploit()))
    buf = io.BytesIO()  # an .npz whose array needs pickle to load
    np.savez(buf, doc=np.array([Exploit()], dtype=object), sha256=np.zeros(1))
    cp._path(1).write_bytes(buf.getvalue())
    assert cp.load(0) is None and cp.load(1) is None
    assert not marker.exists()


def test_a_forged_document_can_name_only_output_types(tmp_path, small):
    out = run_replication(small, 5, 0)
    path = _write(out, tmp_path / "r.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    doc = json.loads(arrays.pop("doc").tobytes())
    arrays.pop("sha256")
    doc["output"] = {"O": ["Popen", {"args": "touch pwned"}]}
    blob = json.dumps(doc).encode()
    forged = tmp_path / "forged.npz"
    np.savez(forged, doc=np.frombuffer(blob, np.uint8),
             sha256=np.frombuffer(replication_file._digest(blob, arrays).encode(), np.uint8),
             **arrays)
    with pytest.raises(replication_file.Damaged, match="not allowed"):
        replication_file.load(forged)


def test_a_checkpoint_of_another_replication_is_not_believed(tmp_path, small, capsys):
    cp = checkpoint(tmp_path, small)
    cp.dir.mkdir(parents=True)
    cp._path(0).write_bytes(replication_file.dumps(run_replication(small, 5, 1)))
    assert cp.load(0) is None and "holds replication 1" in capsys.readouterr().err
