"""The domain, below every other layer: the canonical household and its facts, their column
form, value types, what an evaluation returns, and the errors every layer raises. Nothing here
imports the expression language, the packs or a backend."""
