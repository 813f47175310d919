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

import copy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from minzheng_rules.model._errors import PackError, PackErrors, suggest
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._discovery import MANIFEST, find_pack
from minzheng_rules.packs._yaml_source import line_of, load_yaml

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
    # names this pack (the last of the chain) gives again over an inherited entry
    overrides: set[tuple[str, str]] = field(default_factory=set)
    # entries of this chain that failed the format check: (section, name) -> the raw YAML, so
    # the checker can still declare their names and report only the root cause
    broken: dict[tuple[str, str], Any] = field(default_factory=dict)
    # problems found while reading, reported with the checker's in one run
    errors: list[PackError] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)  # programs a pack of the chain drops

    def origin(self, section: str, name: str) -> Origin:
        return self.origins.get((section, name), Origin("<pack>", None, ()))


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for obj in vars(S).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names |= set(obj.model_fields)
    return names


_FIELD_NAMES = _all_field_names()


_SINGULAR = {
    "parameters": "parameter",
    "variables": "variable",
    "tables": "table",
    "programs": "program",
    "tags": "tag",
    "assistance": "assistance item",
    "alerts": "alert",
    "exclusions": "exclusion",
    "invariants": "invariant",
    "cases": "case",
}

_SOURCE_HELP = (
    "say where the value comes from: confidence seed with source.seed and source.quote, "
    "published with source.document, or modelled with source.reasoning"
)


def _thing(loc: tuple[Any, ...], raw: Any) -> str:
    """``('parameters', 'x', 'history', 0)`` → ``parameter 'x', history entry 1``."""
    if not loc:
        return "this file"
    section, rest = str(loc[0]), loc[1:]
    if section == "pack":
        head = "the manifest 'pack'"
    elif section in _SINGULAR and rest:
        key = rest[0]
        if isinstance(key, int):
            item = raw.get(section) if isinstance(raw, dict) else None
            entry = item[key] if isinstance(item, list) and key < len(item) else None
            ident = entry.get("id") if isinstance(entry, dict) else None
            head = (
                f"{_SINGULAR[section]} '{ident}'"
                if isinstance(ident, str)
                else f"{section} entry {key + 1}"
            )
        else:
            head = f"{_SINGULAR[section]} '{key}'"
        rest = rest[1:]
    else:
        head = f"section '{section}'"
    parts = [head]
    for step in rest:
        if isinstance(step, int):
            parts[-1] += f" entry {step + 1}" if len(parts) > 1 else f", entry {step + 1}"
        else:
            parts.append(str(step))
    return ", ".join(parts)


_ID_RULE = "an ASCII id: a lower-case letter, then lower-case letters, digits and _"
_UNION_TAGS = {"decimal", "bool", "str", "list[...]", "function-after[...]"}


def _sentence(e: Any, loc: tuple[Any, ...], raw: Any) -> tuple[str, str | None]:
    """One pydantic error as a sentence naming the thing, and the name it is about."""
    last = loc[-1] if loc else None
    if e["type"] == "missing":
        owner = _thing(loc[:-1], raw)
        if last == "source":
            return f"{owner} has no 'source': {_SOURCE_HELP}", "source"
        if last == "confidence":
            return f"{owner} has no 'confidence' (seed, published or modelled)", "confidence"
        return f"{owner} needs '{last}', which is missing", str(last)
    if last == "[key]":  # a section's entry name
        name = str(loc[1]) if len(loc) > 1 else "?"
        dotted = ", parts joined by dots (dibao.standard)" if loc[0] == "parameters" else ""
        what = _SINGULAR.get(str(loc[0]), "entry")
        return f"{what} name '{name}' is not {_ID_RULE}{dotted}", name
    if len(loc) >= 2 and loc[-2] == "value" and last in _UNION_TAGS:
        owner = _thing(loc[:-2], raw)
        return (
            f"{owner}: 'value' must be a number (or true or false for a bool parameter), "
            f"not {e['input']!r}",
            "value",
        )
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "string_pattern_mismatch":
        msg = f"'{e['input']}' is not {_ID_RULE}"
    elif e["type"] in ("literal_error", "enum"):
        given = e["input"]
        msg = f"{msg}, not " + (f"'{given}'" if isinstance(given, str) else repr(given))
    if e["type"] == "value_error" or not isinstance(last, str):
        return f"{_thing(loc, raw)}: {msg}", str(last) if last is not None else None
    return f"{_thing(loc[:-1], raw)}: '{last}': {msg}", last


def _validation_errors(err: ValidationError | _OneError, path: Path, raw: Any) -> list[PackError]:
    """Pydantic's findings as sentences naming the file, line and the thing."""
    out: dict[tuple[int | None, str], PackError] = {}
    for e in err.errors():
        loc = tuple(e["loc"])
        line = line_of(raw, loc)
        if e["type"] == "extra_forbidden":
            name = str(loc[-1])
            hint = ""
            if not name.replace("_", "").isalnum() or " " in name:
                hint = " — text with a comma inside {zh: ..., en: ...} must be quoted"
            where = _thing(loc[:-1], raw) if len(loc) > 1 else "the top level"
            error = PackError(
                f"{where}: unknown key '{name}'{hint}",
                file=path,
                line=line,
                name=name,
                suggestion=suggest(name, _FIELD_NAMES),
            )
        else:
            text, about = _sentence(e, loc, raw)
            error = PackError(text, file=path, line=line, name=about)
        out.setdefault((line, error.message), error)  # a union's two findings read as one
    return list(out.values())


@dataclass
class _File:
    path: Path
    raw: Any
    model: S.PackFile
    # for list sections read entry by entry: the raw index of each kept entry
    kept: dict[str, list[int]] = field(default_factory=dict)
    broken: dict[tuple[str, str], Any] = field(default_factory=dict)

    def index(self, section: str, i: int) -> int:
        """The raw index of the i-th kept entry of a list section."""
        kept = self.kept.get(section)
        return kept[i] if kept is not None else i


_LIST_SECTIONS = ("exclusions", "stacking", "invariants", "cases")


def _shifted(
    err: ValidationError, path: Path, raw: Any, section: str, index: int
) -> list[PackError]:
    """Errors of one list entry validated alone (at index 0), placed at its real index."""
    found = []
    for e in err.errors():
        loc = (section, index, *tuple(e["loc"])[2:])
        found.extend(_validation_errors(_OneError(e, loc), path, raw))
    return found


class _OneError:
    """One pydantic error moved to another location (quacks like a ValidationError)."""

    def __init__(self, error: Any, loc: tuple[Any, ...]) -> None:
        self._error = {**error, "loc": loc}

    def errors(self) -> list[Any]:
        return [self._error]


def _without_unknown_keys(section: str, name: Any, entry: Any, err: ValidationError) -> Any:
    """The entry without the keys pydantic found unknown, when that is all that was wrong
    (so a misspelt key does not hide the mistakes in the entry's expressions)."""
    if any(e["type"] != "extra_forbidden" for e in err.errors()):
        return None
    entry = copy.deepcopy(entry)
    for e in err.errors():
        *parents, key = tuple(e["loc"])[2:]
        node = entry
        for step in parents:
            node = node[step]
        node.pop(key, None)
    try:
        S.PackFile.model_validate({section: {name: entry}})
    except ValidationError:
        return None
    return entry


def _entry_by_entry(path: Path, raw: dict, errors: list[PackError]) -> _File:
    """Validate a file that failed as a whole one entry at a time, so every bad entry is
    reported and the good ones still take part in the name and type checks."""
    good: dict[str, Any] = {}
    kept: dict[str, list[int]] = {}
    broken: dict[tuple[str, str], Any] = {}

    for section, value in raw.items():
        if section in _LIST_SECTIONS and isinstance(value, list):
            items = []
            kept[section] = []
            for i, item in enumerate(value):
                try:
                    S.PackFile.model_validate({section: [item]})
                except ValidationError as err:
                    errors.extend(_shifted(err, path, raw, section, i))
                    continue
                items.append(item)
                kept[section].append(i)
            good[section] = items
        elif (
            section in S.PackFile.model_fields
            and section not in ("pack", "needs")
            and (isinstance(value, dict))
        ):
            entries = {}
            for name, entry in value.items():
                try:
                    S.PackFile.model_validate({section: {name: entry}})
                except ValidationError as err:
                    errors.extend(_validation_errors(err, path, raw))
                    repaired = _without_unknown_keys(section, name, entry, err)
                    if repaired is not None:  # only unknown keys: still check the rest
                        entries[name] = repaired
                        continue
                    broken[section, str(name)] = entry
                    if section == "parameters":
                        errors.extend(
                            _raw_value_type_errors(str(name), entry, _File(path, raw, S.PackFile()))
                        )
                    continue
                entries[name] = entry
            good[section] = entries
        else:
            try:
                S.PackFile.model_validate({section: value})
            except ValidationError as err:
                errors.extend(_validation_errors(err, path, raw))
                continue
            good[section] = value
    return _File(path, raw, S.PackFile.model_validate(good), kept, broken)


def _read_folder(folder: Path, errors: list[PackError]) -> list[_File]:
    """Every pack file of a folder; problems go to ``errors`` and reading goes on."""
    files = sorted(folder.glob("*.yaml")) + sorted((folder / "cases").glob("*.yaml"))
    out: list[_File] = []
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
        except ValidationError:
            out.append(_entry_by_entry(path, raw, errors))
            continue
        out.append(_File(path, raw, model))
    return out


def load_definition(name_or_path: str | Path, *, collect: bool = False) -> PackDefinition:
    """Read a pack and everything it extends, merged by the override rules above.

    With ``collect``, problems that leave the rest readable are kept in ``errors`` (so the
    checker can report them together with its own); otherwise they are raised here."""
    folders: list[Path] = []
    read: dict[Path, list[_File]] = {}  # each folder read once (the merge reuses the walk's)
    errors: list[PackError] = []
    current = find_pack(name_or_path)
    while True:
        if current in folders:
            chain = " → ".join(f.name for f in [*folders, current])
            raise PackError(f"'extends' goes round in a circle: {chain}", file=current / MANIFEST)
        folders.append(current)
        if len(folders) > MAX_CHAIN:
            raise PackError(f"'extends' chain longer than {MAX_CHAIN}", file=current / MANIFEST)
        files = read[current] = _read_folder(current, errors)
        manifests = [f for f in files if f.model.pack is not None]
        if not manifests and errors and any("pack" in f.raw for f in files):
            raise PackErrors(errors)  # the manifest is there, with its mistakes reported
        if len(manifests) != 1:
            raise PackErrors(
                [
                    *errors,
                    PackError(
                        "exactly one file must hold the 'pack:' manifest (found "
                        f"{len(manifests)} readable ones)",
                        file=current / MANIFEST,
                    ),
                ]
            )
        parent = manifests[0].model.pack.extends  # type: ignore[union-attr]
        if parent is None:
            break
        try:
            current = find_pack(parent, near=current.parent)
        except Exception as err:
            raise PackErrors(
                [
                    *errors,
                    PackError(
                        str(err),
                        file=manifests[0].path,
                        line=line_of(manifests[0].raw, ("pack", "extends")),
                        name=parent,
                    ),
                ]
            ) from None
    definition: PackDefinition | None = None
    for folder in reversed(folders):
        definition = _merge(definition, folder, read[folder], errors)
    assert definition is not None
    definition.errors = errors
    if errors and not collect:
        raise PackErrors(errors)
    return definition


def _merge(
    base: PackDefinition | None, folder: Path, files: list[_File], errors: list[PackError]
) -> PackDefinition:
    manifest = next(f.model.pack for f in files if f.model.pack is not None)
    assert manifest is not None
    if base is None:
        out = PackDefinition(manifest=manifest, folder=folder, chain=[manifest.id])
    else:
        # the synthetic-register shape: each field from the nearest pack that gives it
        inherited = base.manifest.synth.model_dump(exclude_none=True)
        mine = manifest.synth.model_dump(exclude_none=True)
        if inherited:
            synth = S.SynthShape.model_validate({**inherited, **mine})
            manifest = manifest.model_copy(update={"synth": synth})
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
            broken=dict(base.broken),
            dropped=set(base.dropped),
        )
    seen: dict[tuple[str, str], Path] = {}
    for f in files:
        m = f.model
        out.broken.update(f.broken)
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
                if old is not None:
                    out.overrides.add((section, name))
                if section == "parameters":
                    errors.extend(_value_type_errors(name, spec, f))
                target[name] = spec
                out.origins[section, name] = origin
                out.packs[f"{section}:{name}"] = manifest.id
        for i, exc in enumerate(m.exclusions):
            out.exclusions[exc.id] = exc
            at = ("exclusions", f.index("exclusions", i))
            out.origins["exclusions", exc.id] = Origin(str(f.path), line_of(f.raw, at), at, f.raw)
            out.packs[f"exclusions:{exc.id}"] = manifest.id
        for i, group in enumerate(m.stacking):
            out.stacking[group.id] = _extend_stacking(out.stacking.get(group.id), group)
            at = ("stacking", f.index("stacking", i))
            out.origins["stacking", group.id] = Origin(str(f.path), line_of(f.raw, at), at, f.raw)
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
            at = ("invariants", f.index("invariants", i))
            out.origins["invariants", inv.id] = Origin(str(f.path), line_of(f.raw, at), at, f.raw)
        for i, case in enumerate(m.cases):
            out.cases.append(case)
            at = ("cases", f.index("cases", i))
            out.origins["cases", case.id] = Origin(str(f.path), line_of(f.raw, at), at, f.raw)
    home = next(f for f in files if f.model.pack is not None)
    for i, pid in enumerate(manifest.drops):
        if pid not in out.programs:
            errors.append(
                PackError(
                    f"the manifest 'pack' drops '{pid}', which is not an inherited program",
                    file=home.path,
                    line=line_of(home.raw, ("pack", "drops", i)),
                    name=pid,
                    suggestion=suggest(pid, out.programs),
                )
            )
            continue
        del out.programs[pid]
        out.dropped.add(pid)
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
    return out


def _value_type_errors(name: str, spec: S.Parameter, f: _File) -> list[PackError]:
    """Each dated value must fit the parameter's declared type (a bool is true or false, a
    money amount is a number, a count a whole number)."""
    values = [(h.since, h.value) for h in spec.history or ()]
    return _values_fit(name, spec.type, values, f)


def _raw_value_type_errors(name: str, raw: Any, f: _File) -> list[PackError]:
    """The same check on an entry that failed the format check for another reason."""
    if not isinstance(raw, dict) or raw.get("type", "money") not in (
        "money",
        "number",
        "count",
        "bool",
    ):
        return []
    values: list[tuple[Any, Any]] = []
    history = raw.get("history")
    for h in history if isinstance(history, list) else ():
        v = h.get("value") if isinstance(h, dict) else None
        if isinstance(v, bool):
            values.append((h.get("since"), v))
        elif isinstance(v, int | float):
            values.append((h.get("since"), Decimal(str(v))))
        else:
            values.append((None, None))
    return _values_fit(name, raw.get("type", "money"), values, f)


def _values_fit(name: str, type_: str, values: list[tuple[Any, Any]], f: _File) -> list[PackError]:
    out = []
    for i, (since, v) in enumerate(values):
        if v is None:
            continue
        if type_ == "bool":
            problem = None if isinstance(v, bool) else "true or false"
        elif isinstance(v, bool):
            problem = "a number"
        elif type_ == "count" and v != v.to_integral_value():
            problem = "a whole number"
        else:
            problem = None
        if problem is not None:
            shown = str(v).lower() if isinstance(v, bool) else str(v)
            if isinstance(v, bool) and type_ != "bool":
                shown += " (YAML reads yes/no/on/off as true/false)"
            out.append(
                PackError(
                    f"parameter '{name}' is of type {type_}, so its value since {since} "
                    f"must be {problem}, not {shown}",
                    file=f.path,
                    line=line_of(f.raw, ("parameters", name, "history", i, "value")),
                    name=name,
                )
            )
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
