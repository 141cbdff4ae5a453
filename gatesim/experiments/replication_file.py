"""A replication's output as a data-only file: it can be damaged or forged, never run code.

Checkpoints used to be pickles, and a planted pickle runs any code when it is loaded. This
format is a NumPy ``.npz`` read with ``allow_pickle=False``: the numeric arrays as they are,
everything else as JSON in which an object can only be one of the few plain classes of a
replication's output (``ALLOWED``), rebuilt field by field without calling its code. A
SHA-256 over the JSON and every array detects damage (a flipped bit); the caller discards a
file that fails any check and runs its replication again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
from array import array
from pathlib import Path
from typing import Any

import numpy as np

from gatesim.engine.accounts import Accounts, CargoAccount
from gatesim.engine.monitors import Tally
from gatesim.engine.observe import HourlySeries
from gatesim.engine.records import LevelSummary, ReplicationOutput

ALLOWED: dict[str, type] = {c.__name__: c for c in (
    ReplicationOutput, LevelSummary, Accounts, CargoAccount, Tally, HourlySeries)}
FORMAT = 1


class Damaged(ValueError):
    """The file is not a well-formed replication output of this format."""


def _fields(obj: Any) -> list[str]:
    if dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj)]
    slots = [s for c in type(obj).__mro__ for s in getattr(c, "__slots__", ())]
    return slots or list(vars(obj))


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, a: np.ndarray) -> str:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = a
        return name

    def encode(self, x: Any) -> Any:
        if x is None or isinstance(x, bool | int | float | str):
            return x
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, list):
            return [self.encode(v) for v in x]
        if isinstance(x, tuple):
            return {"T": [self.encode(v) for v in x]}
        if isinstance(x, dict):
            return {"D": [[self.encode(k), self.encode(v)] for k, v in x.items()]}
        if isinstance(x, np.ndarray):
            if x.dtype == object:
                raise TypeError("object arrays are not data")
            return {"A": self._array(x)}
        if isinstance(x, array):
            return {"a": [x.typecode, self._array(np.frombuffer(x, dtype=x.typecode))]}
        name = type(x).__name__
        if ALLOWED.get(name) is not type(x):
            raise TypeError(f"{name} is not a replication output type")
        return {"O": [name, {f: self.encode(getattr(x, f)) for f in _fields(x)}]}


def _decode(x: Any, arrays: dict[str, np.ndarray]) -> Any:
    if not isinstance(x, list | dict):
        return x
    if isinstance(x, list):
        return [_decode(v, arrays) for v in x]
    if len(x) != 1:
        raise Damaged("an entry with more than one tag")
    (tag, body), = x.items()
    if tag == "T":
        return tuple(_decode(v, arrays) for v in body)
    if tag == "D":
        return {_decode(k, arrays): _decode(v, arrays) for k, v in body}
    if tag == "A":
        return arrays[body]
    if tag == "a":
        typecode, name = body
        return array(typecode, arrays[name].tobytes())
    if tag == "O":
        name, fields = body
        cls = ALLOWED.get(name)
        if cls is None:
            raise Damaged(f"type {name!r} is not allowed")
        obj = object.__new__(cls)
        if dataclasses.is_dataclass(cls) or hasattr(cls, "__slots__"):
            if set(fields) != set(_fields(obj)):
                raise Damaged(f"{name} fields differ from this gatesim's")
        elif any(not k.isidentifier() or k.startswith("_") for k in fields):
            raise Damaged(f"{name} has a field name that is not data")
        for k, v in fields.items():
            object.__setattr__(obj, k, _decode(v, arrays))
        return obj
    raise Damaged(f"unknown tag {tag!r}")


def _digest(doc: bytes, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(doc)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def dumps(out: ReplicationOutput) -> bytes:
    """The bytes of the file for one replication's output."""
    enc = _Encoder()
    doc = json.dumps({"format": FORMAT, "output": enc.encode(out)}, allow_nan=True,
                     separators=(",", ":")).encode("utf-8")
    buf = io.BytesIO()
    np.savez(buf, doc=np.frombuffer(doc, dtype=np.uint8),
             sha256=np.frombuffer(_digest(doc, enc.arrays).encode(), dtype=np.uint8),
             **enc.arrays)
    return buf.getvalue()


def save(out: ReplicationOutput, path: Path) -> None:
    """Write atomically: a temporary sibling renamed into place, removed if the write fails
    (a full disk must not be kept full by a half-written checkpoint)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_bytes(dumps(out))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: Path) -> ReplicationOutput:
    """Read and check a file written by ``save``; raises ``Damaged`` (or OSError) if it is
    not intact."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # a bad zip, a bad header, a CRC error: all mean damaged
        raise Damaged(f"unreadable ({type(exc).__name__})") from None
    doc = arrays.pop("doc", None)
    digest = arrays.pop("sha256", None)
    if doc is None or digest is None:
        raise Damaged("not a replication file")
    doc_bytes = doc.tobytes()
    if digest.tobytes().decode(errors="replace") != _digest(doc_bytes, arrays):
        raise Damaged("its SHA-256 does not match its content")
    try:
        top = json.loads(doc_bytes)
        if top.get("format") != FORMAT:
            raise Damaged(f"format {top.get('format')!r}, expected {FORMAT}")
        out = _decode(top["output"], arrays)
    except Damaged:
        raise
    except Exception as exc:  # wrong shapes of JSON: a forged or damaged file
        raise Damaged(f"malformed ({type(exc).__name__})") from None
    if not isinstance(out, ReplicationOutput):
        raise Damaged("not a replication output")
    return out
