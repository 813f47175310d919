"""Monitoring events: one JSON object a line, validated with pydantic.

Every event names the household it concerns, a date and a ``type``; the rest is the type's
payload. A line that is not valid JSON or not a valid event becomes an :class:`EventError` naming
the line and the field, so the run loop can report it and carry on with the next line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from minzheng_rules.model import _types as T
from minzheng_rules.model._household import DisabilityType, Member, Money, describe

Id = Annotated[str, Field(min_length=1, max_length=64)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

    id: Id = Field(description="Unique event id (a replayed id is refused)")
    household: Id = Field(description="Household id on the register")
    date: dt.date


class IncomeChange(_Event):
    """A member's monthly income is now ``monthly_income`` 元."""

    type: Literal["income_change"]
    member: Id
    monthly_income: Money


class MedicalExpense(_Event):
    """An out-of-pocket medical bill of ``amount`` 元 (added to the 12-month total)."""

    type: Literal["medical_expense"]
    member: Id
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]


class MemberDied(_Event):
    type: Literal["member_died"]
    member: Id


class MemberAdded(_Event):
    """A person joins the household (birth, marriage, moving in): a canonical member."""

    type: Literal["member_added"]
    member: Member


class DisabilityAssessed(_Event):
    """A disability certificate: grade 1 (most severe) to 4, and its type.

    The payload field is ``disability_type`` because ``type`` names the event's type."""

    type: Literal["disability_assessed"]
    member: Id
    grade: int = Field(ge=1, le=4)
    disability_type: DisabilityType


class Assessment(_Event):
    """A home visit: the assessed need label ids replace the household's previous ones."""

    type: Literal["assessment"]
    needs: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]] = Field(
        max_length=200
    )


class MemberChanged(_Event):
    """Other facts of a member changed (e.g. ``father_status``, ``lives_alone``)."""

    type: Literal["member_changed"]
    member: Id
    changes: dict[str, Any] = Field(min_length=1)


class Tick(_Event):
    """A date passes for the household: ages, 渐退 periods and visiting tiers move on."""

    type: Literal["tick"]


AnyEvent = (
    IncomeChange
    | MedicalExpense
    | MemberDied
    | MemberAdded
    | DisabilityAssessed
    | Assessment
    | MemberChanged
    | Tick
)
"""An event of any type (for annotations)."""
Event = Annotated[AnyEvent, Field(discriminator="type")]
_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)

EVENT_TYPES: tuple[str, ...] = (
    "income_change",
    "medical_expense",
    "member_died",
    "member_added",
    "disability_assessed",
    "assessment",
    "member_changed",
    "tick",
)

MEMBER_EVENTS = frozenset(EVENT_TYPES) - {"assessment", "tick"}
"""Event types about one member: alert rules on them may read ``member.*``."""

PAYLOAD_TYPES: dict[str, dict[str, T.Type]] = {
    "income_change": {"monthly_income": T.MONEY},
    "medical_expense": {"amount": T.MONEY},
    "disability_assessed": {
        "grade": T.COUNT,
        "disability_type": T.enum(*(d.value for d in DisabilityType)),
    },
}
"""The payload fields alert rules may read as ``event.<field>``, by event type."""


@dataclass(frozen=True)
class EventError:
    """An event that was not applied: where it was, and why."""

    line: int
    message: str
    kind: str = "malformed"  # malformed | unknown_household | out_of_order | duplicate | invalid
    event: str | None = None
    household: str | None = None

    def render(self, source: str = "events") -> str:
        return f"{source}:{self.line}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "kind": self.kind, "message": self.message}
        if self.event is not None:
            out["event"] = self.event
        if self.household is not None:
            out["household"] = self.household
        return out


def _problem(err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:3]:
        at, msg = describe(e)
        loc = [str(p) for p in at]
        if loc and loc[0] in EVENT_TYPES:
            loc = loc[1:]  # the union tag pydantic puts first
        where = ".".join(loc) or "event"
        if e["type"] == "union_tag_invalid":
            msg = f"'type' must be one of {', '.join(EVENT_TYPES)}"
        elif e["type"] == "union_tag_not_found":
            msg = "missing 'type'"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def parse_event(data: Any, line: int = 0) -> AnyEvent | EventError:
    """One event from a mapping, or an :class:`EventError` naming the line and the field."""
    if not isinstance(data, dict):
        return EventError(line, f"an event must be a JSON object, not {type(data).__name__}")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as err:
        ident = data.get("id")
        return EventError(line, _problem(err), event=ident if isinstance(ident, str) else None)


# A digit followed by ``.``, ``e`` or ``E``: the line may hold a JSON number that is not an integer
# (or it is inside a string: such lines only take the slow way)
_NOT_INTEGER = re.compile(r"\d[.eE]")
_NOT_INTEGER_BYTES = re.compile(rb"\d[.eE]")
_DECIMAL_EVENTS = (IncomeChange, MedicalExpense, MemberAdded)


def read_events(
    lines: Iterable[str | bytes], first_line: int = 1
) -> Iterator[tuple[int, AnyEvent | EventError]]:
    """``(line number, event or EventError)`` for each non-blank line; never raises on input.

    A line is validated straight from its JSON text (pydantic-core parses and validates in one
    pass, which saves the ``json.loads`` dict). The events and errors are exactly those of
    ``json.loads`` then :func:`parse_event`: a line that fails goes that way; and so does an event
    with a decimal field when the line has a fraction or an exponent, because pydantic-core
    reads a whole JSON float into a Decimal differently (``7.0`` gives ``Decimal('7')`` where
    ``json.loads`` then pydantic give ``Decimal('7.0')``; other values, ``Any`` ones included,
    come out the same)."""
    return read_numbered(enumerate(lines, start=first_line))


def read_numbered(
    lines: Iterable[tuple[int, str | bytes]],
) -> Iterator[tuple[int, AnyEvent | EventError]]:
    """As :func:`read_events`, for lines that carry their own numbers (a shard of a stream,
    see :mod:`minzheng_rules.monitor._sharded`)."""
    validate_json = _ADAPTER.validate_json
    event: AnyEvent | EventError
    for n, raw in lines:
        if not raw.strip():
            continue
        try:
            event = validate_json(raw)
        except (ValueError, RecursionError):  # ValidationError is a ValueError
            event = _parse_line(raw, n)
        else:
            if isinstance(event, _DECIMAL_EVENTS) and (
                _NOT_INTEGER_BYTES if raw.__class__ is bytes else _NOT_INTEGER
            ).search(raw):  # type: ignore[arg-type]
                event = _parse_line(raw, n)
        yield n, event


def _parse_line(raw: str | bytes, n: int) -> AnyEvent | EventError:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return EventError(n, f"not valid JSON: {err}")
    except RecursionError:
        return EventError(n, "not valid JSON: nested too deeply")
    except ValueError:  # Python's limit on the digits of an integer (4,300)
        return EventError(n, "a number with too many digits (more than 4,300)")
    return parse_event(data, n)
