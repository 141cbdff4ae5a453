"""Many replications: executors, per-replication metrics, statistics (t-intervals, MSER-5,
paired differences, Bonferroni), run, compare, sweep, checkpoints, guards and ``--check``.

In: scenarios. Out: tables (``RunResult``, ``Comparison``, ``SweepResult``); writes no result
files itself (only its resumable checkpoints). Imports scenario and engine."""
