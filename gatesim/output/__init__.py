"""Result files (the CSV contract, written atomically with JSON provenance), plots and the report.

In: result tables from experiments, or result directories read back. Out: files. Never imports
the engine."""
