"""Checking a pack's comprehensive-relief parts: the 六无六有 tags, the needs taxonomy
(categories → sub-items → labels) and the assistance catalogue that needs are matched to.

The taxonomy's declared shape (``pack.declares``: ``needs_categories``, ``needs_subitems``,
``needs_labels``, ``tags``) is checked, so a pack that says 131 labels and has 130 is refused with
what is missing named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from minzheng_rules.model import _types as T
from minzheng_rules.model._errors import PackError, suggest
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._deps import DepNode

if TYPE_CHECKING:
    from minzheng_rules.packs._check import Expr, PackChecker
    from minzheng_rules.packs._loader import PackDefinition


@dataclass
class LabelEntry:
    """A need label with where it sits in the taxonomy."""

    spec: S.NeedLabel
    category: S.NeedCategory
    subitem: S.NeedSubitem
    expr: Expr | None  # None: assessed on a home visit


@dataclass
class ItemEntry:
    id: str
    spec: S.AssistanceItem
    expr: Expr | None


@dataclass
class ReliefModel:
    """Tags, need labels (in taxonomy order) and assistance items, checked."""

    tags: dict[str, tuple[S.Tag, Expr]] = field(default_factory=dict)
    labels: dict[str, LabelEntry] = field(default_factory=dict)
    items: dict[str, ItemEntry] = field(default_factory=dict)
    answered_by: dict[str, list[str]] = field(default_factory=dict)  # label id -> item ids

    def shape(self, definition) -> dict[str, int]:
        model = definition.needs
        return {
            "needs_categories": len(model.categories) if model else 0,
            "needs_subitems": sum(len(c.subitems) for c in model.categories) if model else 0,
            "needs_labels": len(self.labels),
            "tags": len(self.tags),
        }

    def expressions(self) -> list[tuple[DepNode, Expr]]:
        """(dependency node, expression) for everything evaluated after the programs."""
        out = [(DepNode.tag(tid), e) for tid, (_, e) in self.tags.items()]
        out += [
            (DepNode.need(lid), le.expr) for lid, le in self.labels.items() if le.expr is not None
        ]
        out += [
            (DepNode.item(iid), it.expr) for iid, it in self.items.items() if it.expr is not None
        ]
        return out


def need_facts(model: S.NeedsModel | None) -> dict[str, T.Type]:
    """``needs.<label>`` (bool) for every label: tags and assistance items may read them."""
    if model is None:
        return {}
    return {
        f"needs.{lab.id}": T.BOOL
        for cat in model.categories
        for sub in cat.subitems
        for lab in sub.labels
    }


def check_relief(checker: PackChecker) -> ReliefModel:
    """Check the tags, needs and assistance of the definition ``checker`` checks; problems go
    to its errors, with the rest of the pack's."""
    d = checker.definition
    errors = checker.errors
    out = ReliefModel()
    for tid, tag in d.tags.items():
        e = checker.expression(tag.when, "tags", tid, ("when",), "household", T.BOOL)
        if e is not None:
            out.tags[tid] = (tag, e)
    model = d.needs
    if model is not None:
        origin = d.origin("needs", "needs")
        for ci, cat in enumerate(model.categories):
            for si, sub in enumerate(cat.subitems):
                for li, lab in enumerate(sub.labels):
                    steps = ("categories", ci, "subitems", si, "labels", li)
                    where = origin.at(*steps)
                    if lab.id in out.labels:
                        errors.append(
                            PackError(
                                f"need label '{lab.id}' appears twice",
                                file=where.file,
                                line=where.line,
                                name=lab.id,
                            )
                        )
                        continue
                    expr = None
                    if lab.when is not None:
                        expr = _need_expr(checker, lab, steps)
                    out.labels[lab.id] = LabelEntry(lab, cat, sub, expr)
        _check_unique_ids(model, origin, errors)
    for iid, item in d.assistance.items():
        origin = d.origin("assistance", iid)
        if item.kind == "program":
            if item.program is None:
                checker.report(
                    f"assistance item '{iid}' of kind program needs 'program'", origin, iid
                )
            elif item.program not in d.programs:
                checker.report(
                    f"assistance item '{iid}' names unknown program '{item.program}'",
                    origin,
                    item.program,
                    suggest(item.program, d.programs),
                )
        for lid in item.answers:
            if lid not in out.labels:
                checker.report(
                    f"assistance item '{iid}' answers unknown need label '{lid}'",
                    origin,
                    lid,
                    suggest(lid, out.labels),
                )
            else:
                out.answered_by.setdefault(lid, []).append(iid)
        expr = None
        if item.when is not None:
            expr = checker.expression(item.when, "assistance", iid, ("when",), "household", T.BOOL)
        out.items[iid] = ItemEntry(iid, item, expr)
    _check_declared_shape(d, out, errors)
    return out


def _need_expr(checker: PackChecker, lab: S.NeedLabel, steps: tuple) -> Expr | None:
    assert lab.when is not None
    e = checker.expression(lab.when, "needs", "needs", (*steps, "when"), "household", T.BOOL)
    if e is not None:
        used = sorted(n for n in e.checked.references("household") if n.startswith("needs."))
        if used:
            where = e.origin
            checker.errors.append(
                PackError(
                    f"need label '{lab.id}' reads {used[0]}: labels are derived from facts and "
                    "programs only (tags and assistance items may read needs.*)",
                    file=where.file,
                    line=where.line,
                    name=used[0],
                )
            )
            return None
    return e


def _check_unique_ids(model: S.NeedsModel, origin, errors: list[PackError]) -> None:
    kinds: dict[str, str] = {}
    for ci, cat in enumerate(model.categories):
        entries: list[tuple[str, str, tuple[str | int, ...]]] = [
            (cat.id, "category", ("categories", ci))
        ]
        for si, sub in enumerate(cat.subitems):
            entries.append((sub.id, "sub-item", ("categories", ci, "subitems", si)))
        for ident, kind, steps in entries:
            if ident in kinds:
                where = origin.at(*steps)
                errors.append(
                    PackError(
                        f"{kind} id '{ident}' is already used by a {kinds[ident]}",
                        file=where.file,
                        line=where.line,
                        name=ident,
                    )
                )
            kinds[ident] = kind


def _check_declared_shape(
    definition: PackDefinition, relief: ReliefModel, errors: list[PackError]
) -> None:
    declared = definition.manifest.declares
    actual = relief.shape(definition)
    origin_file = str(definition.folder / "pack.yaml")
    for key, want in declared.items():
        if key not in actual:
            errors.append(
                PackError(
                    f"pack.declares has unknown count '{key}'",
                    file=origin_file,
                    name=key,
                    suggestion=suggest(key, actual),
                )
            )
            continue
        got = actual[key]
        if got != want:
            detail = _where_counts_differ(definition, key)
            errors.append(
                PackError(
                    f"pack declares {want} {key} but defines {got}{detail}",
                    file=origin_file,
                    name=key,
                )
            )


def _where_counts_differ(definition: PackDefinition, key: str) -> str:
    """Point at the parts of the taxonomy, to help find the missing or extra entries."""
    model = definition.needs
    if model is None:
        return " (no 'needs' section)"
    if key == "needs_labels":
        per = ", ".join(
            f"{c.id}: {sum(len(s.labels) for s in c.subitems)}" for c in model.categories
        )
        return f" (labels per category: {per})"
    if key == "needs_subitems":
        per = ", ".join(f"{c.id}: {len(c.subitems)}" for c in model.categories)
        return f" (sub-items per category: {per})"
    if key == "needs_categories":
        return f" (categories: {', '.join(c.id for c in model.categories)})"
    return f" (tags: {', '.join(definition.tags)})"
