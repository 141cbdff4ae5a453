"""An independent FIFO multi-server recursion, to check simulated traces against.

Deliberately naive (quadratic, no event queue) so it shares nothing with the engine.
"""

from __future__ import annotations


def fifo_departures(
    arrivals: list[float], services: list[float], changes: list[tuple[float, int]]
) -> list[float]:
    """Return each truck's departure time in a FIFO queue with a time-varying server count.

    ``arrivals`` are in arrival order; ``changes = [(0, c0), (t1, c1), ...]`` sets the
    number of servers ``c(t)`` from each time on (the last count must be >= 1).  Truck
    ``k`` starts at the earliest ``t >= max(arrival_k, start_{k-1})`` at which fewer than
    ``c(t)`` trucks are in service (started at or before ``t``, departing after ``t``);
    a server going off duty finishes its truck first, so services are never interrupted.
    """
    starts: list[float] = []
    departures: list[float] = []

    def servers(t: float) -> int:
        return [c for tc, c in changes if tc <= t][-1]

    def in_service(t: float) -> int:
        return sum(s <= t < d for s, d in zip(starts, departures, strict=True))

    for arrival, service in zip(arrivals, services, strict=True):
        earliest = max(arrival, starts[-1]) if starts else arrival
        # Both counts are right-continuous step functions, so the first free instant
        # is `earliest` itself, a departure or a server change after it.
        candidates = {earliest, *(d for d in departures if d > earliest)}
        candidates |= {tc for tc, _ in changes if tc > earliest}
        start = min(t for t in candidates if in_service(t) < servers(t))
        starts.append(start)
        departures.append(start + service)
    return departures
