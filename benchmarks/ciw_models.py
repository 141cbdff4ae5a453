"""Idiomatic Ciw versions of the anchors' M/M/4 and tandem (as in engine-speed-anchors.md):
``create_network`` + ``simulate_until_max_customers(n, method="Finish")`` +
``get_all_records()``; Wq is the mean total waiting time of the customers that finished."""

from __future__ import annotations

import ciw

from benchmarks.hand_simpy import MMC_C, MMC_LAM, MMC_MU, TANDEM_C, TANDEM_LAM, TANDEM_MU


def _run(network, n: int, seed: int) -> tuple[int, float]:
    ciw.seed(seed)
    q = ciw.Simulation(network)
    q.simulate_until_max_customers(n, method="Finish")
    records = q.get_all_records()
    finished = {ind.id_number for ind in q.nodes[-1].all_individuals}
    wait = sum(r.waiting_time for r in records
               if r.record_type == "service" and r.id_number in finished)
    return len(finished), wait / len(finished)


def mmc(n: int, seed: int = 1) -> tuple[int, float]:
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=MMC_LAM)],
        service_distributions=[ciw.dists.Exponential(rate=MMC_MU)],
        number_of_servers=[MMC_C])
    return _run(network, n, seed)


def tandem(n: int, seed: int = 1) -> tuple[int, float]:
    k = len(TANDEM_C)
    routing = [[1.0 if j == i + 1 else 0.0 for j in range(k)] for i in range(k)]
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=TANDEM_LAM)] + [None] * (k - 1),
        service_distributions=[ciw.dists.Exponential(rate=mu) for mu in TANDEM_MU],
        number_of_servers=list(TANDEM_C), routing=routing)
    return _run(network, n, seed)
