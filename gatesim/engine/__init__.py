"""One replication: named random streams, arrivals, the physical network (yards, roads, pools,
stations), the truck's journey, monitors, accounts and records, and the model that builds them.

In: a ``Scenario``, a seed and a replication number. Out: a ``ReplicationOutput`` of plain data.
Imports the scenario layer and the package root only."""
