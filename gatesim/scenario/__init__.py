"""What a user writes: the scenario schema, distributions, calendars, the YAML loader (``extends``,
``--set``, one-line errors), cross-reference checks and the ``# src:`` provenance of numbers.

In: YAML files and overrides. Out: a validated, immutable ``Scenario``. Imports nothing of gatesim
but the package root (errors, fields)."""
