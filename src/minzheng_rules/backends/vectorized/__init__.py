"""The vectorized backend: a checked pack compiled to Polars columns for whole registers (see
:mod:`.engine`); same answers as the reference evaluator, to the fen."""
