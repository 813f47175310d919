"""Errors that name what is wrong and where, so a pack author or caller can fix it at once."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest valid name to a misspelt one, or None when nothing is close."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def repeated(ids: Iterable[str]) -> str | None:
    """The first id given a second time, or None when every id differs."""
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            return i
        seen.add(i)
    return None


class MinzhengError(Exception):
    """Base of every error this library raises on purpose."""


class PackError(MinzhengError):
    """A pack file is malformed: names the file, the line, the offending name and a suggestion."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        name: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.name = name
        self.suggestion = suggestion
        super().__init__(self.render())

    def render(self) -> str:
        where = self.file or "<pack>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        text = f"{where}: {self.message}"
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text


class PackErrors(MinzhengError):
    """Several pack errors found in one pass, reported together."""

    def __init__(self, errors: list[PackError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.render() for e in errors))


class PackNotFoundError(MinzhengError):
    """An unknown pack name: lists the packs that do exist."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        hint = suggest(name, self.known)
        text = f"unknown pack '{name}'; known packs: {', '.join(self.known) or '(none)'}"
        if hint:
            text += f" (did you mean '{hint}'?)"
        super().__init__(text)


class ParameterNotInForceError(MinzhengError):
    """No value of a parameter is in force on the evaluation date."""

    def __init__(self, parameter: str, on: object, first: object | None, hint: str = "") -> None:
        self.parameter = parameter
        self.on = on
        text = f"parameter '{parameter}' has no value in force on {on}"
        if first is not None:
            text += f" (its history starts on {first})"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class HouseholdError(MinzhengError):
    """A malformed household: each problem names the field path and what is wrong."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        lines = [f"{field}: {problem}" for field, problem in problems]
        head = f"invalid household{f' in {source}' if source else ''}"
        super().__init__(head + ": " + "; ".join(lines))  # one line, as every error message


class EvaluationError(MinzhengError):
    """A rule could not be applied to a household (e.g. a 'unique' decision table hit twice)."""
