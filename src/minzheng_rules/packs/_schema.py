"""The pack format, as pydantic models: one model per kind of section a pack file may hold.

``minzheng schema`` writes :func:`pack_json_schema` so editors can check pack YAML as it is typed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from minzheng_rules.model._errors import repeated

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
DottedIdentifier = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=128)
]


def _scalar_to_text(value: Any) -> Any:
    """YAML reads ``default: 0`` as a number; an expression is text, so take its spelling."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return value


Expression = Annotated[
    str, BeforeValidator(_scalar_to_text), StringConstraints(min_length=1, max_length=2000)
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Model):
    """Every user-facing name has Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Confidence(StrEnum):
    seed = "seed"  # stated in a seed report (file name and quoted sentence)
    published = "published"  # stated in a public document that can be cited
    modelled = "modelled"  # our reasoned model where no source was found


CONFIDENCE_ORDER = {"modelled": 0, "seed": 1, "published": 2}
"""Weakest first: a modelled value has no source; a seed is one report's sentence about one
place and year; a published document is the rule itself."""


def weakest(confidences: list[Confidence]) -> Confidence:
    """The least sure of some confidences: what a value computed from all of them can claim."""
    return min(confidences, key=lambda c: CONFIDENCE_ORDER[c.value])


class Source(_Model):
    """Where a number or rule comes from. Which fields are required depends on the confidence."""

    seed: str | None = Field(None, description="Seed file name, e.g. 001_1b52696736c8d6eb.txt")
    quote: str | None = Field(None, description="The sentence of the seed or document, verbatim")
    document: str | None = Field(None, description="Title of a public document")
    number: str | None = Field(None, description="Its document number (文号)")
    issuer: str | None = None
    article: str | None = None
    url: str | None = None
    reasoning: str | None = Field(None, description="Why a modelled value was chosen")
    note: str | None = None


class Provenance(_Model):
    confidence: Confidence
    source: Source

    @model_validator(mode="after")
    def _source_fits_confidence(self) -> Provenance:
        s = self.source
        if self.confidence is Confidence.seed and not (s.seed and s.quote):
            raise ValueError("a 'seed' value needs source.seed (file name) and source.quote")
        if self.confidence is Confidence.published and not s.document:
            raise ValueError("a 'published' value needs source.document")
        if self.confidence is Confidence.modelled and not s.reasoning:
            raise ValueError("a 'modelled' value needs source.reasoning (why this value)")
        return self


class Citation(Provenance):
    """The legal text a rule rests on."""


class Unit(StrEnum):
    cny = "CNY"
    cny_month = "CNY/month"
    cny_person_month = "CNY/person/month"
    cny_year = "CNY/year"
    cny_person_year = "CNY/person/year"
    cny_household = "CNY/household"
    ratio = "ratio"
    years = "years"
    months = "months"
    hours_month = "hours/month"
    count = "count"  # type: ignore[assignment]  # (shadows str.count, by design)
    flag = "flag"
    grade = "grade"


ValueType = Literal["money", "number", "count", "bool"]


class DatedValue(Provenance):
    """One value of a parameter and the day it came into force. Most sources give a year, not a
    day, so a start date is shown as assumed unless ``date_source: stated`` says a source gives
    that day (the source's ``note`` says which)."""

    since: dt.date
    value: Decimal | bool
    date_source: Literal["stated", "assumed"] = Field(
        "assumed",
        description="'stated': a source gives this start day; 'assumed' (default): it does not",
    )

    @property
    def since_assumed(self) -> bool:
        return self.date_source == "assumed"


MAX_PARAMETER = Decimal(10) ** 12  # as a household's money (14 digits, 2 after the point)
MIN_EXPONENT = -12  # at most 12 digits after the point


def _check_value(kind: str, value: Decimal | bool) -> None:
    """A number's size fits the evaluators' decimal arithmetic exactly (28 digits). Whether the
    value fits the parameter's type (true/false for a bool, a number otherwise: YAML reads
    ``yes``, ``on`` and ``true`` as true, which would count as 1; a whole number for a count) is
    checked once, with the value's line, by the loader (``loader._values_fit``)."""
    if kind == "bool" or isinstance(value, bool):
        return
    if not value.is_finite() or abs(value) >= MAX_PARAMETER:
        raise ValueError(f"value {value} is out of range (at most 10^12 in size)")
    if value and value.as_tuple().exponent < MIN_EXPONENT:  # type: ignore[operator]
        raise ValueError(f"value {value} has more than 12 digits after the point")


class Parameter(_Model):
    """A named, dated, sourced value (or one derived from others by a formula)."""

    label: Label
    unit: Unit
    type: ValueType = "money"
    description: Label | None = None
    history: list[DatedValue] | None = None
    formula: Expression | None = Field(None, description="Derived: an expression over p.* names")
    confidence: Confidence | None = Field(None, description="For a derived parameter: of its rule")
    source: Source | None = None
    set_by: Literal["province", "city", "county"] | None = Field(
        None, description="Declared here, valued by a lower-level pack (no value of its own)"
    )

    @model_validator(mode="after")
    def _one_definition(self) -> Parameter:
        given = [x is not None for x in (self.history, self.formula, self.set_by)]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of 'history' (dated values), 'formula' (derived) or 'set_by'"
            )
        if self.history is not None:
            if not self.history:
                raise ValueError("'history' needs at least one dated value")
            days = [h.since for h in self.history]
            if days != sorted(days) or len(set(days)) != len(days):
                raise ValueError("'history' dates must be distinct and in increasing order")
            for h in self.history:
                _check_value(self.type, h.value)
        if self.formula is not None:
            if self.confidence is None or self.source is None:
                raise ValueError("a derived parameter needs 'confidence' and 'source' for its rule")
            Provenance(confidence=self.confidence, source=self.source)
        return self


class Variable(_Model):
    """A named formula over a household's or a member's facts."""

    label: Label
    entity: Literal["household", "member"] = "household"
    type: Literal["money", "number", "count", "bool"]
    formula: Expression
    description: Label | None = None
    citations: list[Citation] = Field(default_factory=list)


class TableRow(_Model):
    when: Expression
    then: Expression
    label: Label | None = None


class HitPolicy(StrEnum):
    first = "first"  # the first row whose condition holds
    unique = "unique"  # exactly one row may hold; two is an error
    collect_sum = "collect_sum"  # the sum of every row that holds


class Table(_Model):
    """A decision table: rows of condition → output, read by a declared hit policy."""

    label: Label
    entity: Literal["household", "member"] = "household"
    type: Literal["money", "number", "count"]
    hit_policy: HitPolicy
    rows: list[TableRow] = Field(min_length=1)
    default: Expression = Field(description="The output when no row holds")
    description: Label | None = None
    citations: list[Citation] = Field(default_factory=list)


class Condition(_Model):
    id: Identifier
    label: Label
    when: Expression


class Rounding(_Model):
    digits: int = Field(2, ge=-2, le=4)
    mode: Literal["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"] = "half_up"


class InForce(_Model):
    since: dt.date | None = None
    until: dt.date | None = Field(None, description="Last day in force")


class Program(_Model):
    """Eligibility conditions and an amount, for a household or for each member."""

    label: Label
    entity: Literal["household", "member"] = "household"
    unit: Unit = Unit.cny_month
    description: Label | None = None
    conditions: list[Condition] = Field(min_length=1)
    amount: Expression | None = Field(None, description="Omitted: eligibility only (amount 0)")
    rounding: Rounding = Rounding()
    in_force: InForce = InForce()
    citations: list[Citation] = Field(min_length=1)

    @model_validator(mode="after")
    def _condition_ids_differ(self) -> Program:
        """Results list a program's conditions by id: two with one id would show as one."""
        twice = repeated(c.id for c in self.conditions)
        if twice is not None:
            raise ValueError(f"condition id '{twice}' appears twice: give each its own id")
        return self


class Exclusion(_Model):
    """Programs that are not paid together, and which one a household keeps."""

    id: Identifier
    label: Label
    programs: list[Identifier] = Field(min_length=2)
    keep: Literal["first", "highest_amount"] = "first"
    citations: list[Citation] = Field(min_length=1)

    @field_validator("programs")
    @classmethod
    def _distinct(cls, programs: list[str]) -> list[str]:
        twice = repeated(programs)
        if twice is not None:  # eval and batch read [dibao, dibao] differently
            raise ValueError(f"program '{twice}' is listed twice")
        return programs


DivisionCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{5}$")]


class HukouCodes(Provenance):
    """The place's county-level administrative division codes (GB/T 2260), each with its name:
    the household registrations (户籍, ``hukou``) a synthetic register draws from."""

    codes: dict[DivisionCode, Label] = Field(min_length=1)


class Share(Provenance):
    """A share of the population, with where it comes from."""

    value: Decimal = Field(ge=0, le=1)


class SynthShape(_Model):
    """What ``minzheng synth`` shapes a register by, beyond the pack's own rules and lines.
    Each field is inherited from the nearest pack of the chain that gives it."""

    hukou: HukouCodes | None = None
    ageing: Share | None = Field(None, description="Share of people aged 60+ (老龄化率)")


class StackedPair(_Model):
    """Two programs of one need that may both pay the same person, and why."""

    programs: list[Identifier] = Field(min_length=2, max_length=2)
    how: Literal["top_up", "supplement"] = Field(
        description="top_up: the second pays only the difference up to its rate; "
        "supplement: a separate flat amount on top, by the source's design"
    )
    citations: list[Citation] = Field(min_length=1)


class Stacking(_Model):
    """Programs that meet one need (e.g. basic living): a person is paid by at most one of
    them, unless a pair is listed in ``together``. Checked by the ``stacking`` invariant."""

    id: Identifier
    label: Label
    programs: list[Identifier] = Field(
        min_length=1, description="A child pack's group of the same id adds to the parent's"
    )
    covers: dict[Identifier, Expression] = Field(
        default_factory=dict,
        description="Household programs: a member expression saying whom the payment is for "
        "(without one, every member of a household paid by it)",
    )
    together: list[StackedPair] = Field(default_factory=list)
    description: Label | None = None


class Manifest(_Model):
    """``pack.yaml``: who the pack is and what it builds on."""

    id: Identifier
    label: Label
    level: Literal["national", "province", "city", "county"]
    extends: Identifier | None = None
    drops: list[Identifier] = Field(
        default_factory=list, description="Inherited programs this pack does not run"
    )
    description: Label | None = None
    declares: dict[str, int] = Field(
        default_factory=dict, description="Declared counts, e.g. needs_categories: 8"
    )
    synth: SynthShape = Field(
        SynthShape(), description="Registration codes and ageing rate for synthetic registers"
    )


class ExpectedProgram(_Model):
    status: Literal["eligible", "ineligible", "undetermined"]
    amount: Decimal | None = None
    missing: list[str] | None = None


class SetExpectation(_Model):
    """Expected tags or needs: ``has`` must be present, ``lacks`` absent; ``exact`` also requires
    that nothing outside ``has`` is present."""

    has: list[Identifier] = Field(default_factory=list)
    lacks: list[Identifier] = Field(default_factory=list)
    exact: bool = False


class Case(_Model):
    """A golden case: a household, a date, what the pack must answer, and the hand computation."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    date: dt.date
    computation: str = Field(min_length=1, description="How the expected answer was worked out")
    household: dict[str, Any]
    expect: dict[Identifier, ExpectedProgram] = Field(default_factory=dict)
    tags: SetExpectation | None = None
    needs: SetExpectation | None = None


class Tag(Provenance):
    """One of the 六无六有 comprehensive-relief tags: set on a household when ``when`` holds."""

    label: Label
    definition: Label
    when: Expression


class NeedLabel(_Model):
    """A leaf of the needs model: derived from facts (``when``) or ``assessed`` on a home visit."""

    id: Identifier
    label: Label
    definition: Label
    when: Expression | None = None
    assessed: bool = False

    @model_validator(mode="after")
    def _derived_or_assessed(self) -> NeedLabel:
        if (self.when is None) == (not self.assessed):
            raise ValueError("a need label has either 'when' (derived) or 'assessed: true'")
        return self


class NeedSubitem(_Model):
    id: Identifier
    label: Label
    definition: Label | None = None
    labels: list[NeedLabel] = Field(min_length=1)


class NeedCategory(_Model):
    id: Identifier
    label: Label
    definition: Label | None = None
    subitems: list[NeedSubitem] = Field(min_length=1)


class NeedsModel(Provenance):
    """The standardised needs taxonomy (湖州: 8 categories × 40 sub-items × 131 labels)."""

    categories: list[NeedCategory] = Field(min_length=1)


class AssistanceItem(_Model):
    """Something a need can be matched to: a program, a service or a charity project."""

    label: Label
    kind: Literal["program", "service", "charity"]
    program: Identifier | None = Field(None, description="For kind program: the program id")
    answers: list[Identifier] = Field(min_length=1, description="Need label ids it answers")
    when: Expression | None = Field(None, description="Extra condition for offering it")
    description: Label | None = None
    citations: list[Citation] = Field(default_factory=list)


AlertEvent = Literal[
    "income_change",
    "medical_expense",
    "member_died",
    "member_added",
    "disability_assessed",
    "assessment",
    "member_changed",
    "tick",
]


class Alert(_Model):
    """A monitoring rule (监测预警): when one of ``event`` happens to a household and ``when``
    holds after it, the household is flagged and put in the visiting ``tier``. ``when`` reads the
    household's facts and variables after the event, ``previous.<name>`` before it,
    ``event.<field>`` the payload and, for events about one member, ``member.<fact>``."""

    label: Label
    event: AlertEvent | Annotated[list[AlertEvent], Field(min_length=1)] = Field(
        description="Event type(s) it listens to"
    )
    when: Expression
    tier: Literal["high", "normal"] = Field(
        "normal", description="Visiting tier it puts the household in: high = 高风险和重点"
    )
    description: Label | None = None
    citations: list[Citation] = Field(min_length=1)

    @property
    def events(self) -> tuple[str, ...]:
        """The event types, as a tuple even when one was given."""
        return (self.event,) if isinstance(self.event, str) else tuple(dict.fromkeys(self.event))


class InvariantKind(StrEnum):
    """What an invariant claims (the kinds: docs/reference/invariants.md)."""

    monotone_in_income = "monotone_in_income"  # more income for a member never raises an amount
    non_negative = "non_negative"  # amounts are never negative
    exclusive = "exclusive"  # the programs are never eligible together
    raise_keeps_eligibility = "raise_keeps_eligibility"  # raising a parameter removes nobody
    member_order_independent = "member_order_independent"  # member order changes nothing
    stacking = "stacking"  # nobody is paid twice for one need unless the pack says they stack


class Invariant(_Model):
    """A property every household must satisfy under this pack (checked with generated
    households by the testing toolkit)."""

    id: Identifier
    label: Label
    kind: InvariantKind
    programs: list[Identifier] = Field(
        default_factory=list, description="Programs it is about; empty: every program"
    )
    parameter: DottedIdentifier | None = Field(
        None, description="raise_keeps_eligibility: the parameter that is raised"
    )
    up_to: Decimal = Field(
        Decimal("0.2"), gt=0, le=10, description="Largest raise tried, as a share of the value"
    )
    assume: Expression | None = Field(
        None, description="Only households where this holds, before and after the change"
    )
    description: Label | None = None

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Invariant:
        raising = self.kind is InvariantKind.raise_keeps_eligibility
        if raising != (self.parameter is not None):
            raise ValueError("'parameter' is given exactly for kind raise_keeps_eligibility")
        if self.kind is InvariantKind.exclusive and len(self.programs) < 2:
            raise ValueError("an 'exclusive' invariant names at least two programs")
        return self


class PackFile(_Model):
    """One YAML file of a pack: any of these sections. ``pack.yaml`` holds the manifest."""

    pack: Manifest | None = None
    parameters: dict[DottedIdentifier, Parameter] = Field(default_factory=dict)
    variables: dict[Identifier, Variable] = Field(default_factory=dict)
    tables: dict[Identifier, Table] = Field(default_factory=dict)
    programs: dict[Identifier, Program] = Field(default_factory=dict)
    exclusions: list[Exclusion] = Field(default_factory=list)
    stacking: list[Stacking] = Field(default_factory=list)
    tags: dict[Identifier, Tag] = Field(default_factory=dict)
    needs: NeedsModel | None = None
    assistance: dict[Identifier, AssistanceItem] = Field(default_factory=dict)
    alerts: dict[Identifier, Alert] = Field(default_factory=dict)
    invariants: list[Invariant] = Field(default_factory=list)
    cases: list[Case] = Field(default_factory=list)


def pack_json_schema() -> dict[str, Any]:
    """JSON Schema of a pack file, for editors."""
    schema = PackFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "minzheng-rules pack file"
    return schema


IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]*$")


# parameters the engine reads by name, not through a rule: the monitor's visiting periods
HIGH_TIER_MONTHS = "monitor.high_tier_months"
PHASE_OUT_MONTHS = "monitor.phase_out_months"
