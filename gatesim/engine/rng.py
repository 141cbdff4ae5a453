"""Named random streams: no global state, found by name, not by position.

A stream is ``SeedSequence(seed, spawn_key=(replication, stable_hash(name)))``, so adding a stage
to a variant creates a new stream and leaves every other one untouched. Truck *k* of an arrival
stream takes row *k* of each per-purpose block, so its draws belong to it whatever the order
of events (common random numbers across variants).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

STREAM_LAYOUT_VERSION = 1
BLOCK = 512


def stable_hash(name: str) -> int:
    """A 64-bit hash of a stream name that is the same in every process and Python version."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator of stream ``name`` in ``replication`` of root ``seed``."""
    ss = np.random.SeedSequence(seed, spawn_key=(replication, stable_hash(name)))
    return np.random.Generator(np.random.PCG64(ss))


Transform = Callable[[np.ndarray], np.ndarray]


class TruckDraws:
    """Per-truck rows of draws for one arrival stream, generated in blocks.

    ``purposes`` maps a purpose name (``attr:predeclared``, ``service:inspection``…) to the
    transform applied to its uniforms (identity for uniforms used in comparisons). Row *k*
    (a plain list of floats, one per purpose in the given order) belongs to truck *k*.
    """

    def __init__(
        self, seed: int, replication: int, owner: str, purposes: Sequence[tuple[str, Transform]]
    ) -> None:
        self._gens = [stream(seed, replication, f"{owner}/{name}") for name, _ in purposes]
        self._transforms = [t for _, t in purposes]
        self._rows: list[list[float]] = []
        self._pos = 0

    def next_row(self) -> list[float]:
        """The next truck's draws (no numpy on this path except once per block)."""
        if self._pos == len(self._rows):
            cols = [t(g.random(BLOCK)) for g, t in zip(self._gens, self._transforms, strict=True)]
            self._rows = np.column_stack(cols).tolist() if cols else [[]] * BLOCK
            self._pos = 0
        row = self._rows[self._pos]
        self._pos += 1
        return row


class Block:
    """A stream of floats from one transform, drawn in blocks (e.g. inter-arrival gaps)."""

    def __init__(self, gen: np.random.Generator, transform: Transform) -> None:
        self._gen, self._transform = gen, transform
        self._buf: list[float] = []
        self._pos = 0

    def next(self) -> float:
        if self._pos == len(self._buf):
            self._buf = self._transform(self._gen.random(BLOCK)).tolist()
            self._pos = 0
        x = self._buf[self._pos]
        self._pos += 1
        return x
