"""Finding packs: built in, by path, or registered by another distribution (entry points)."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from minzheng_rules.model._errors import PackNotFoundError

ENTRY_POINT_GROUP = "minzheng_rules.packs"
MANIFEST = "pack.yaml"


def builtin_packs_dir() -> Path:
    """``policies/`` inside the installed wheel, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "policies"
    if installed.is_dir():
        return installed
    return here.parent.parent / "policies"


def _entry_point_packs() -> dict[str, Path]:
    """Packs other distributions register: ``name = "module:callable_returning_path"`` or a module
    whose folder is the pack."""
    found: dict[str, Path] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        target = ep.load()
        if callable(target):
            target = target()
        path = Path(getattr(target, "__file__", target))
        if path.is_file():
            path = path.parent
        found[ep.name] = path
    return found


def available_packs() -> dict[str, Path]:
    """Every pack that can be named: built-in ones, then registered ones (which may override)."""
    packs: dict[str, Path] = {}
    root = builtin_packs_dir()
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if (child / MANIFEST).is_file():
                packs[child.name] = child
    packs.update(_entry_point_packs())
    return packs


def find_pack(name_or_path: str | Path, near: Path | None = None) -> Path:
    """The folder of a pack given by path or by name. ``near`` is a folder searched first
    (a child pack's siblings, so a third-party chain can live in one folder)."""
    candidate = Path(name_or_path)
    if (candidate / MANIFEST).is_file():
        return candidate.resolve()
    name = str(name_or_path)
    if near is not None and (near / name / MANIFEST).is_file():
        return (near / name).resolve()
    packs = available_packs()
    if name in packs:
        return packs[name]
    raise PackNotFoundError(name, packs)
