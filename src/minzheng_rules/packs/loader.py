"""Reading a pack folder and its ``extends`` chain into one merged definition.

Override rules (national → province → city), applied from the root of the chain down:

* ``parameters``, ``variables``, ``tables``, ``programs``: a child entry with the same name
  replaces the parent's entry whole; its type must stay the same, because the parent's rules
  were checked against it. New names are added.
* ``exclusions``: matched by ``id``; a child's replaces the parent's, new ones are added.
* ``stacking``: matched by ``id``; a child's group extends the parent's (programs added,
  ``covers`` entries added or replaced, ``together`` pairs added), new ones are added.
* ``pack.drops`` removes inherited programs the child does not run (and exclusions naming them).
* ``cases`` are not inherited: golden cases belong to the pack that states their numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from minzheng_rules.errors import PackError, PackErrors, suggest
from minzheng_rules.packs import schema as S
from minzheng_rules.packs.discovery import MANIFEST, find_pack
from minzheng_rules.packs.yaml_source import line_of, load_yaml

MAX_CHAIN = 8


@dataclass(frozen=True)
class Origin:
    """Where a definition was written: file, line, and its key path inside the file."""

    file: str
    line: int | None
    path: tuple[Any, ...]
    raw: Any = field(default=None, repr=False, compare=False)

    def at(self, *steps: Any) -> Origin:
        """The origin of something nested inside this definition."""
        path = (*self.path, *steps)
        return Origin(self.file, line_of(self.raw, path), path, self.raw)


@dataclass
class PackDefinition:
    """A pack with its chain merged, not yet type-checked."""

    manifest: S.Manifest
    folder: Path
    chain: list[str]
    parameters: dict[str, S.Parameter] = field(default_factory=dict)
    variables: dict[str, S.Variable] = field(default_factory=dict)
    tables: dict[str, S.Table] = field(default_factory=dict)
    programs: dict[str, S.Program] = field(default_factory=dict)
    exclusions: dict[str, S.Exclusion] = field(default_factory=dict)
    stacking: dict[str, S.Stacking] = field(default_factory=dict)
    tags: dict[str, S.Tag] = field(default_factory=dict)
    needs: S.NeedsModel | None = None
    assistance: dict[str, S.AssistanceItem] = field(default_factory=dict)
    alerts: dict[str, S.Alert] = field(default_factory=dict)
    invariants: dict[str, S.Invariant] = field(default_factory=dict)
    cases: list[S.Case] = field(default_factory=list)
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    packs: dict[str, str] = field(default_factory=dict)  # section:name -> pack id defining it

    def origin(self, section: str, name: str) -> Origin:
        return self.origins.get((section, name), Origin("<pack>", None, ()))


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for obj in vars(S).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names |= set(obj.model_fields)
    return names


_FIELD_NAMES = _all_field_names()


def _validation_errors(err: ValidationError, path: Path, raw: Any) -> list[PackError]:
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        line = line_of(raw, loc)
        where = ".".join(str(p) for p in loc)
        if e["type"] == "extra_forbidden":
            name = str(loc[-1])
            hint = ""
            if not name.replace("_", "").isalnum() or " " in name:
                hint = " — text with a comma inside {zh: ..., en: ...} must be quoted"
            out.append(
                PackError(
                    f"unknown key '{name}' at {where}{hint}",
                    file=path,
                    line=line,
                    name=name,
                    suggestion=suggest(name, _FIELD_NAMES),
                )
            )
        else:
            msg = e["msg"].removeprefix("Value error, ")
            out.append(
                PackError(
                    f"{where}: {msg}", file=path, line=line, name=str(loc[-1]) if loc else None
                )
            )
    return out


@dataclass
class _File:
    path: Path
    raw: Any
    model: S.PackFile


def _read_folder(folder: Path) -> list[_File]:
    files = sorted(folder.glob("*.yaml")) + sorted((folder / "cases").glob("*.yaml"))
    out: list[_File] = []
    errors: list[PackError] = []
    for path in files:
        try:
            raw = load_yaml(path)
        except PackError as err:
            errors.append(err)
            continue
        if raw is None:
            continue
        if not isinstance(raw, dict):
            errors.append(PackError("a pack file must be a mapping of sections", file=path, line=1))
            continue
        try:
            model = S.PackFile.model_validate(raw)
        except ValidationError as err:
            errors.extend(_validation_errors(err, path, raw))
            continue
        out.append(_File(path, raw, model))
    if errors:
        raise PackErrors(errors)
    return out


def load_definition(name_or_path: str | Path) -> PackDefinition:
    """Read a pack and everything it extends, merged by the override rules above."""
    folders: list[Path] = []
    current = find_pack(name_or_path)
    while True:
        if current in folders:
            chain = " → ".join(f.name for f in [*folders, current])
            raise PackError(f"'extends' goes round in a circle: {chain}", file=current / MANIFEST)
        folders.append(current)
        if len(folders) > MAX_CHAIN:
            raise PackError(f"'extends' chain longer than {MAX_CHAIN}", file=current / MANIFEST)
        files = _read_folder(current)
        manifests = [f for f in files if f.model.pack is not None]
        if len(manifests) != 1:
            raise PackError(
                "exactly one file must hold the 'pack:' manifest", file=current / MANIFEST
            )
        parent = manifests[0].model.pack.extends  # type: ignore[union-attr]
        if parent is None:
            break
        try:
            current = find_pack(parent, near=current.parent)
        except Exception as err:
            raise PackError(
                str(err),
                file=manifests[0].path,
                line=line_of(manifests[0].raw, ("pack", "extends")),
                name=parent,
            ) from None
    definition: PackDefinition | None = None
    for folder in reversed(folders):
        definition = _merge(definition, folder, _read_folder(folder))
    assert definition is not None
    return definition


def _merge(base: PackDefinition | None, folder: Path, files: list[_File]) -> PackDefinition:
    manifest = next(f.model.pack for f in files if f.model.pack is not None)
    assert manifest is not None
    if base is None:
        out = PackDefinition(manifest=manifest, folder=folder, chain=[manifest.id])
    else:
        out = PackDefinition(
            manifest=manifest,
            folder=folder,
            chain=[*base.chain, manifest.id],
            parameters=dict(base.parameters),
            variables=dict(base.variables),
            tables=dict(base.tables),
            programs=dict(base.programs),
            exclusions=dict(base.exclusions),
            stacking=dict(base.stacking),
            tags=dict(base.tags),
            needs=base.needs,
            assistance=dict(base.assistance),
            alerts=dict(base.alerts),
            invariants=dict(base.invariants),
            origins=dict(base.origins),
            packs=dict(base.packs),
        )
    errors: list[PackError] = []
    seen: dict[tuple[str, str], Path] = {}
    for f in files:
        m = f.model
        for section in (
            "parameters",
            "variables",
            "tables",
            "programs",
            "tags",
            "assistance",
            "alerts",
        ):
            target: dict = getattr(out, section)
            for name, spec in getattr(m, section).items():
                origin = Origin(
                    str(f.path), line_of(f.raw, (section, name)), (section, name), f.raw
                )
                if (section, name) in seen:
                    errors.append(
                        PackError(
                            f"{section} '{name}' is defined twice in this pack "
                            f"(also in {seen[section, name].name})",
                            file=f.path,
                            line=origin.line,
                            name=name,
                        )
                    )
                seen[section, name] = f.path
                old = target.get(name)
                if old is not None and getattr(old, "type", None) != getattr(spec, "type", None):
                    errors.append(
                        PackError(
                            f"'{name}' overrides {out.packs[f'{section}:{name}']}'s "
                            f"{section[:-1]} of type {old.type} with type {spec.type}",
                            file=f.path,
                            line=origin.line,
                            name=name,
                        )
                    )
                if (
                    old is not None
                    and section in ("variables", "tables", "programs")
                    and old.entity != spec.entity
                ):
                    errors.append(
                        PackError(
                            f"'{name}' changes entity from {old.entity} to {spec.entity}",
                            file=f.path,
                            line=origin.line,
                            name=name,
                        )
                    )
                target[name] = spec
                out.origins[section, name] = origin
                out.packs[f"{section}:{name}"] = manifest.id
        for i, exc in enumerate(m.exclusions):
            out.exclusions[exc.id] = exc
            out.origins["exclusions", exc.id] = Origin(
                str(f.path), line_of(f.raw, ("exclusions", i)), ("exclusions", i), f.raw
            )
            out.packs[f"exclusions:{exc.id}"] = manifest.id
        for i, group in enumerate(m.stacking):
            out.stacking[group.id] = _extend_stacking(out.stacking.get(group.id), group)
            out.origins["stacking", group.id] = Origin(
                str(f.path), line_of(f.raw, ("stacking", i)), ("stacking", i), f.raw
            )
            out.packs[f"stacking:{group.id}"] = manifest.id
        if m.needs is not None:
            if "needs" in {k for k, _ in seen}:
                errors.append(
                    PackError(
                        "'needs' is defined in two files of this pack",
                        file=f.path,
                        line=line_of(f.raw, ("needs",)),
                    )
                )
            seen["needs", "needs"] = f.path
            out.needs = m.needs  # a child's taxonomy replaces the parent's whole
            out.origins["needs", "needs"] = Origin(
                str(f.path), line_of(f.raw, ("needs",)), ("needs",), f.raw
            )
        for i, inv in enumerate(m.invariants):
            out.invariants[inv.id] = inv
            out.origins["invariants", inv.id] = Origin(
                str(f.path), line_of(f.raw, ("invariants", i)), ("invariants", i), f.raw
            )
        for i, case in enumerate(m.cases):
            out.cases.append(case)
            out.origins["cases", case.id] = Origin(
                str(f.path), line_of(f.raw, ("cases", i)), ("cases", i), f.raw
            )
    for pid in manifest.drops:
        if pid not in out.programs:
            errors.append(
                PackError(
                    f"drops unknown program '{pid}'",
                    file=folder / MANIFEST,
                    name=pid,
                    suggestion=suggest(pid, out.programs),
                )
            )
            continue
        del out.programs[pid]
        for eid in [e.id for e in out.exclusions.values() if pid in e.programs]:
            del out.exclusions[eid]
        for gid, group in list(out.stacking.items()):
            out.stacking[gid] = group.model_copy(
                update={
                    "programs": [p for p in group.programs if p != pid],
                    "covers": {k: v for k, v in group.covers.items() if k != pid},
                    "together": [t for t in group.together if pid not in t.programs],
                }
            )
    if errors:
        raise PackErrors(errors)
    return out


def _extend_stacking(old: S.Stacking | None, new: S.Stacking) -> S.Stacking:
    """A child's stacking group adds to the inherited one of the same id (a province adds its
    own programs of the same need without restating the nation's)."""
    if old is None:
        return new
    return new.model_copy(
        update={
            "programs": list(dict.fromkeys([*old.programs, *new.programs])),
            "covers": {**old.covers, **new.covers},
            "together": [*old.together, *new.together],
            "description": new.description or old.description,
        }
    )
