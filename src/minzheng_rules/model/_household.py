"""The canonical household: the one input shape every pack and backend reads.

Unknown fields are refused. A fact that is left out is either a documented default (no
disability certificate means no disability) or ``None`` meaning *unknown*, which makes the
programs that need it ``undetermined`` rather than guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections import Counter
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from minzheng_rules.model._errors import HouseholdError, repeated
from minzheng_rules.model._safe_yaml import PlainLoader, load_shallow

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


def _not_bool(value: Any) -> Any:
    """``"age": true`` would be read as 1: a whole-number field refuses true/false."""
    if isinstance(value, bool):
        raise ValueError("a whole number is needed, not true/false")
    return value


Count = Annotated[int, BeforeValidator(_not_bool)]
MAX_FILE_BYTES = 16 << 20  # a household file larger than this is refused
MAX_LIST = 1_000  # assessed needs, programs received: more is not a household

# a member's own rules across fields: (the field named in the reason, what is wrong), read by
# the models here and by the columnar checks (io/_validate.py), so both say the same
AGE_OR_BIRTH_DATE = ("age", "give 'age' or 'birth_date'")
GRADE_FOR_TYPE = ("disability_grade", "needed when 'disability_type' is given")
_RULE = "rule"  # the pydantic error type of these rules: the field is in its context


def _broken(rule: tuple[str, str]) -> PydanticCustomError:
    """A broken rule as pydantic reports it; the message is read from the context (a
    template would fill in any ``{...}`` an id holds)."""
    field, message = rule
    return PydanticCustomError(_RULE, "{message}", {"field": field, "message": message})


def repeated_id(ident: str) -> str:
    """The reason given when two members of a household share an id (both routes)."""
    return f"member id '{ident}' appears twice"


class Relation(StrEnum):
    head = "head"
    spouse = "spouse"
    child = "child"
    parent = "parent"
    grandchild = "grandchild"
    grandparent = "grandparent"
    sibling = "sibling"
    other = "other"


class DisabilityType(StrEnum):
    physical = "physical"
    visual = "visual"
    hearing = "hearing"
    speech = "speech"
    intellectual = "intellectual"
    mental = "mental"
    multiple = "multiple"


class SelfCare(StrEnum):
    full = "full"
    partial = "partial"
    none = "none"


class Schooling(StrEnum):
    none = "none"
    preschool = "preschool"
    primary = "primary"
    junior = "junior"
    senior = "senior"
    vocational = "vocational"
    undergraduate = "undergraduate"


class ParentStatus(StrEnum):
    """A parent's status as the child-protection rules read it (民发〔2019〕62号)."""

    present = "present"
    deceased = "deceased"
    missing = "missing"  # 失联: not contactable (the notes' "missing")
    imprisoned = "imprisoned"  # 服刑在押
    compulsory_rehab = "compulsory_rehab"  # 强制隔离戒毒
    detained = "detained"  # other deprivation or restriction of liberty (被限制人身自由)
    severely_disabled = "severely_disabled"
    seriously_ill = "seriously_ill"


class Care(StrEnum):
    family = "family"
    kinship = "kinship"
    institutional = "institutional"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class Member(_Strict):
    """One person in a household. ``None`` means the fact is not known."""

    id: str = Field(min_length=1, max_length=64)
    relation: Relation = Relation.other
    age: Count | None = Field(default=None, ge=0, le=130)
    birth_date: dt.date | None = None
    monthly_income: Money | None = Field(
        default=None, description="Monthly income in 元; unknown when left out."
    )
    disability_grade: Count | None = Field(
        default=None, ge=1, le=4, description="1 (most severe) to 4; none when no certificate."
    )
    disability_type: DisabilityType | None = None
    self_care: SelfCare | None = Field(
        default=None, description="Six daily activities: full, partial (≤3 not done), none."
    )
    major_illness: bool = False
    chronic_illness: bool = False
    student: Schooling | None = Field(
        default=None,
        description="Schooling now ('none' = not in school); unknown when left out.",
    )
    employed: bool | None = None
    father_status: ParentStatus = ParentStatus.present
    mother_status: ParentStatus = ParentStatus.present
    care: Care = Care.family
    has_capable_obligor: bool | None = Field(
        default=None,
        description="Someone legally obliged and able to support them; unknown when left out.",
    )
    lives_alone: bool = False
    incarcerated: bool = Field(
        default=False,
        description="In prison or compulsory drug rehabilitation (强制隔离戒毒): "
        "not a countable member while true.",
    )
    missing: bool = Field(default=False, description="Not a countable member while true.")

    @model_validator(mode="after")
    def _age_or_birth_date(self) -> Member:
        if self.age is None and self.birth_date is None:
            raise _broken(AGE_OR_BIRTH_DATE)
        if self.disability_type is not None and self.disability_grade is None:
            raise _broken(GRADE_FOR_TYPE)
        return self

    def age_on(self, on: dt.date) -> int:
        """Completed years on a date; ``age`` is used when no birth date is known."""
        if self.birth_date is None:
            assert self.age is not None
            return self.age
        b = self.birth_date
        if b > on:  # a typo'd year: never a negative age (an orphan allowance for the unborn)
            raise HouseholdError(
                [(f"members[{self.id}].birth_date", f"{b} is after the evaluation date {on}")]
            )
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


class Assets(_Strict):
    financial: Money | None = Field(default=None, description="Savings and securities, 元.")
    vehicles: Count = Field(default=0, ge=0)
    properties: Count = Field(default=1, ge=0, description="Dwellings owned.")


class Expenses(_Strict):
    medical_12m: Money = Field(
        default=Decimal(0), description="Out-of-pocket medical, last 12 months."
    )
    education_12m: Money = Field(
        default=Decimal(0), description="Out-of-pocket education, 12 months."
    )


class Housing(_Strict):
    unsafe: bool = False


class Household(_Strict):
    """A household as assessed by a civil-affairs office."""

    id: str = Field(min_length=1, max_length=64)
    members: list[Member] = Field(min_length=1, max_length=30)
    assets: Assets = Assets()
    expenses: Expenses = Expenses()
    housing: Housing = Housing()
    hukou: str | None = None
    assessed_needs: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    emergency: bool = Field(default=False, description="Struck by a sudden disaster or accident.")
    receiving: dict[str, Money] = Field(
        default_factory=dict,
        max_length=MAX_LIST,
        description="Programs the household receives now (program id → monthly amount, 元); "
        "used for gradual exit (渐退) and for spotting changes.",
    )

    @model_validator(mode="after")
    def _unique_member_ids(self) -> Household:
        twice = repeated(m.id for m in self.members)
        if twice is not None:
            raise _broken(("members", repeated_id(twice)))
        return self


def member_labels(ids: list[Any]) -> list[str]:
    """How a bad household's reasons name each member: ``members[<id>]`` by the member's id
    (what an officer finds in their own system); ``members[#<n>]``, the member's position in
    the household counting from 1, when the id is missing, empty or shared with another
    member of the household. The columnar checks label the same way (io/_validate.py)."""
    texts = [i if isinstance(i, str) else None for i in ids]
    seen = Counter(texts)
    return [
        f"members[{i}]" if i and seen[i] == 1 else f"members[#{n}]"
        for n, i in enumerate(texts, start=1)
    ]


def _raw_members(data: Any) -> list[Any]:
    members = data.get("members") if isinstance(data, dict) else None
    return members if isinstance(members, list) else []


def describe(e: ErrorDetails) -> tuple[list[str | int], str]:
    """One pydantic error as where (its location, with the field a member's own rule names)
    and what, in the words a register's reject uses whatever its form."""
    loc = list(e["loc"])
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == _RULE:
        loc.append(e["ctx"]["field"])
        msg = e["ctx"]["message"]
    elif e["type"] == "extra_forbidden":
        msg = "unknown field"
    elif e["type"] in ("too_short", "too_long"):  # "… after validation, not 0": as the
        msg = msg.split(" after validation")[0]  # columnar checks word it
    if e["type"] in _QUOTED and isinstance(e.get("input"), str | int | float):
        msg += f" (got '{str(e['input'])[:30]}')"  # the cell refused, as the columnar checks
    return loc, msg


# problems whose refused value is quoted, on both routes: a choice, a number, a yes/no, a date
_QUOTED = {
    "enum",
    "int_parsing",
    "bool_parsing",
    "date_parsing",
    "date_from_datetime_parsing",
}


def _problems(err: ValidationError, data: Any = None) -> list[tuple[str, str]]:
    """Each problem as (where, what): ``<label>.<field>`` or ``<label>``, members labelled
    as :func:`member_labels` says; the household's own fields first, then its members in
    order, then the list of members as a whole (the order the columnar checks give)."""
    ids = [m.get("id") if isinstance(m, dict) else None for m in _raw_members(data)]
    labels = member_labels(ids)
    out = []
    said_twice = False
    for e in err.errors():
        loc, msg = describe(e)
        said_twice |= e["type"] == _RULE and loc == ["members"]
        parts: list[str] = []
        for p in loc:
            if isinstance(p, int) and parts == ["members"] and p < len(labels):
                parts = [labels[p]]
            elif isinstance(p, int):
                parts[-1] += f"[{p}]"
            else:
                parts.append(str(p))
        where = ".".join(parts) or "household"
        rank = 2 if where == "members" else 1 if where.startswith("members[") else 0
        out.append((rank, where, msg))
    if not said_twice:
        # the household's own check runs only when its members are valid: said here as the
        # columnar checks say it, whatever else is wrong
        twice = repeated(i for i in ids if isinstance(i, str))
        if twice is not None:
            out.append((2, "members", repeated_id(twice)))
    return [(where, msg) for _, where, msg in sorted(out, key=lambda x: x[0])]


def parse_household(data: Any, source: str | None = None) -> Household:
    """Validate a mapping into a :class:`Household`; bad input raises :class:`HouseholdError`."""
    try:
        return Household.model_validate(data)
    except ValidationError as err:
        raise HouseholdError(_problems(err, data), source) from None


def load_household(path: str | Path) -> Household:
    """Read one household from a JSON or YAML file."""
    path = Path(path)
    kind = path.suffix.lstrip(".") or "YAML"  # as the message names it
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise HouseholdError([("file", "not a regular file")], str(path))
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise HouseholdError([("file", f"cannot read: {err.strerror}")], str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise HouseholdError([("file", f"larger than {MAX_FILE_BYTES >> 20} MB")], str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HouseholdError([("file", f"not UTF-8 text ({err.reason})")], str(path)) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else load_shallow(text, PlainLoader)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        problem = " ".join(str(err).split())  # one line
        raise HouseholdError([("file", f"not valid {kind}: {problem}")], str(path)) from None
    except RecursionError:
        problem = f"not valid {kind}: nested too deeply"
        raise HouseholdError([("file", problem)], str(path)) from None
    except ValueError:  # Python's limit on an integer's digits (4,300)
        raise HouseholdError(
            [("file", "a number with too many digits (more than 4,300)")], str(path)
        ) from None
    return parse_household(data, str(path))
