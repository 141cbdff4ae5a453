"""`gatesim run --check RESULTS_DIR`: re-run one replication and confirm it is identical.

The results carry their resolved scenario, seed, records mode, versions and random-stream
layout; replication 0 is run again from them and its rows are compared, as written to CSV,
with the rows stored in replications.csv.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from gatesim.engine.model import run_replication
from gatesim.engine.rng import STREAM_LAYOUT_VERSION
from gatesim.errors import GatesimError
from gatesim.experiments.frames import run_frames
from gatesim.experiments.run import versions
from gatesim.scenario.loader import validate


def _csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def reproduce(results: Path) -> tuple[bool, str]:
    """(identical?, what was compared or what differs); a damaged directory is one line."""
    try:
        return _reproduce(results)
    except GatesimError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise GatesimError(f"{results}: damaged results directory, cannot check it "
                           f"({type(exc).__name__}: {str(exc)[:120]})") from None


def _reproduce(results: Path) -> tuple[bool, str]:
    path = Path(results) / "summary.json"
    if not path.is_file():
        raise GatesimError(f"{results}: no summary.json (not the results of gatesim run)")
    meta = json.loads(path.read_text(encoding="utf-8"))
    notes = []
    if meta.get("stream_layout_version") != STREAM_LAYOUT_VERSION:
        notes.append(f"random-stream layout {meta.get('stream_layout_version')} was used, "
                     f"this gatesim has {STREAM_LAYOUT_VERSION}")
    now = versions()
    for pkg, used in meta.get("versions", {}).items():
        if now.get(pkg) != used:
            notes.append(f"{pkg} {used} was used, {now.get(pkg)} is installed")
    s = validate(meta["scenario"], str(path))
    out = run_replication(s, meta["seed"], 0, records=meta.get("records", "all"))
    again = run_frames(s, [out])["replications"]
    stored = pd.read_csv(Path(results) / "replications.csv", keep_default_na=False,
                         na_values=["", "NaN", "nan"], dtype={"scope": str})
    stored = stored[stored.replication == 0]
    if _csv(again) == _csv(stored):
        return True, f"replication 0 of {results} reproduced exactly ({len(again)} values)"
    merged = again.merge(stored, on=["metric", "scope", "stat"], suffixes=("_now", "_then"))
    diff = merged[merged.value_now.astype(str) != merged.value_then.astype(str)]
    first = diff.head(3).apply(lambda r: f"{r.metric}/{r.scope}/{r.stat}: {r.value_then} -> "
                                         f"{r.value_now}", axis=1).tolist()
    why = "; ".join(notes) or "same versions: the difference is in the model or the machine"
    return False, (f"replication 0 of {results} differs in {len(diff)} values, e.g. "
                   f"{', '.join(first)} ({why})")
