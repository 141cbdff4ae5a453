"""Queueing theory and the validation cases with exact answers that gatesim is checked against.

In: the case scenarios (``cases/``). Out: a table of estimate vs theory. Imports the layers
below it."""
