"""The reference backend: one household at a time, on compiled Python closures, with a trace."""
