"""Registers in and out: the columnar form of the canonical household, validation, readers and
writers (Parquet, CSV, JSON Lines), and resumable batch runs (``minzheng batch``)."""
