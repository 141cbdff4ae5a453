"""The engine's shared data types: a truck and its class.

They live apart from the journey, the network, the accounts and the model so that those
modules can all name a truck without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TURN_BACK = "turned_back"
"""A path entry: the truck leaves here without finishing its route."""


@dataclass(frozen=True, slots=True)
class TruckClass:
    """What routing, windows and caps may ask about a truck: direction, cargo, attributes."""

    index: int
    direction: str
    cargo: str
    site: str | None
    values: dict[str, bool | str]

    def satisfies(self, conditions: Any) -> bool:
        items = conditions.items() if isinstance(conditions, dict) else conditions
        return all(self.values.get(k) == v for k, v in items)


class Truck:
    __slots__ = ("id", "stream", "cls", "arrival", "path", "draws", "road_time", "lane", "wait",
                 "counted", "record", "at")

    def __init__(self, id: int, stream: int, cls: TruckClass, arrival: float, path: list,
                 draws: list[float], counted: bool = True, record: bool = True) -> None:
        self.id, self.stream, self.cls, self.arrival = id, stream, cls, arrival
        self.path, self.draws = path, draws
        self.counted, self.record = counted, record
        """Counted in the statistics (arrived after the warm-up); records kept."""
        self.road_time = self.wait = 0.0
        self.lane = -1
        self.at: Any = None
        """The place (yard or road) where the truck holds a slot or a place in line, parked or
        kept while it is served; None in service without a kept slot or on a lane. Only the
        invariant audit reads it."""
