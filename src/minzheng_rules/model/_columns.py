"""The columnar form of the canonical household: a households table and a members table.

Derived from the pydantic models in :mod:`minzheng_rules.model._household`, so a field added there
shows up here (or fails loudly at import when its kind is new). Nested models are flattened with
``_`` (``assets.financial`` → ``assets_financial``); the member's ``id`` is ``member_id`` and
both tables carry ``household_id``. A null cell means the field was not given: its default applies,
or it is unknown.

In memory after validation ("clean" frames) money is an Int64 count of fen, enums are text,
``assessed_needs`` a list of text and ``receiving`` a list of ``{program, fen}``.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from minzheng_rules.model._household import Household, Member

if typing.TYPE_CHECKING:
    import polars as pl

HOUSEHOLD_ID = "household_id"
MEMBER_ID = "member_id"
HH = "_hh"  # a member row's household: its row number in the households frame


@dataclass(frozen=True)
class Column:
    """One column of the columnar form and the rules its values follow."""

    name: str
    path: tuple[str, ...]  # where it sits in the canonical household / member
    kind: str  # bool | int | money | text | enum | date | text_list | money_map
    required: bool = False
    default: Any = None  # the value a null takes; None: stays None (unknown)
    ge: int | None = None
    le: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    values: tuple[str, ...] = ()
    whole_digits: int = 12
    places: int = 2

    @property
    def dtype(self) -> pl.DataType:
        """The clean (validated) type. (Polars is imported here: the fact table reads these
        columns' names in the core install, which has no Polars.)"""
        import polars as pl

        return {
            "bool": pl.Boolean(),
            "int": pl.Int64(),
            "money": pl.Int64(),
            "text": pl.String(),
            "enum": pl.String(),
            "date": pl.Date(),
            "text_list": pl.List(pl.String()),
            "money_map": pl.List(pl.Struct({"program": pl.String(), "fen": pl.Int64()})),
        }[self.kind]


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None`` and whether None was allowed."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _kind(annotation: Any) -> str:
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is Decimal:
        return "money"
    if annotation is str:
        return "text"
    if annotation is dt.date:
        return "date"
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return "enum"
    origin = typing.get_origin(annotation)
    if origin is list and typing.get_args(annotation) == (str,):
        return "text_list"
    if origin is dict:
        key, value = typing.get_args(annotation)
        if typing.get_origin(value) is typing.Annotated:
            value = typing.get_args(value)[0]
        if key is str and _unwrap(value)[0] is Decimal:
            return "money_map"
    raise TypeError(f"the columnar form has no column kind for {annotation!r}")


def _extras(annotation: Any) -> list[Any]:
    """Constraint objects inside ``Annotated[...]`` (also under ``| None`` or a dict value)."""
    out: list[Any] = []
    annotation, _ = _unwrap(annotation)
    if typing.get_origin(annotation) is dict:
        return _extras(typing.get_args(annotation)[1])
    for extra in getattr(annotation, "__metadata__", ()):
        out += list(extra.metadata) if isinstance(extra, FieldInfo) else [extra]
    return out


def _limits(info: FieldInfo, annotation: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    digits = None
    for m in [*info.metadata, *_extras(annotation)]:
        if isinstance(m, annotated_types.Ge):
            out["ge"] = m.ge
        elif isinstance(m, annotated_types.Le):
            out["le"] = m.le
        elif isinstance(m, annotated_types.MinLen):
            out["min_length"] = m.min_length
        elif isinstance(m, annotated_types.MaxLen):
            out["max_length"] = m.max_length
        if getattr(m, "max_digits", None) is not None:
            digits = m.max_digits
        if getattr(m, "decimal_places", None) is not None:
            out["places"] = m.decimal_places
    if digits is not None:
        out["whole_digits"] = digits - out.get("places", 0)
    return out


def _columns(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[Column]:
    out: list[Column] = []
    hints = typing.get_type_hints(model, include_extras=True)
    for name, info in model.model_fields.items():
        annotation, _ = _unwrap(hints[name])
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        path = (*prefix, name)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += _columns(annotation, path)
            continue
        if typing.get_origin(annotation) is list and typing.get_args(annotation) == (Member,):
            continue  # the members table
        kind = _kind(annotation)
        default = None
        if not info.is_required():
            default = info.get_default(call_default_factory=True)
            if isinstance(default, StrEnum):
                default = default.value
        column_name = "_".join(path)
        if model is Household and name == "id":
            column_name = HOUSEHOLD_ID
        elif model is Member and name == "id":
            column_name = MEMBER_ID
        values = tuple(e.value for e in annotation) if kind == "enum" else ()
        out.append(
            Column(
                column_name,
                path,
                kind,
                required=info.is_required(),
                default=default,
                values=values,
                **_limits(info, hints[name]),
            )
        )
    return out


HOUSEHOLD_COLUMNS: tuple[Column, ...] = tuple(_columns(Household))
MEMBER_COLUMNS: tuple[Column, ...] = (
    Column(HOUSEHOLD_ID, ("household_id",), "text", required=True, min_length=1, max_length=64),
    *_columns(Member),
)
MEMBERS_FIELD: FieldInfo = Household.model_fields["members"]
MIN_MEMBERS, MAX_MEMBERS = 1, 30
for _m in MEMBERS_FIELD.metadata:
    if isinstance(_m, annotated_types.MinLen):
        MIN_MEMBERS = _m.min_length
    if isinstance(_m, annotated_types.MaxLen):
        MAX_MEMBERS = _m.max_length


def clean_schema(columns: tuple[Column, ...]) -> dict[str, pl.DataType]:
    return {c.name: c.dtype for c in columns}


def by_name(columns: tuple[Column, ...]) -> dict[str, Column]:
    return {c.name: c for c in columns}
