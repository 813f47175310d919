"""Which packs the site shows and on which date its "current" values are read.

By default every pack that can be named (built in and registered). ``MINZHENG_DOCS_PACKS`` (or
``minzheng docs build --packs``) picks others: pack names, pack folders, or folders that hold
pack folders, separated by the path separator. ``MINZHENG_DOCS_DATE`` fixes the date (default
today), so a build can be reproduced.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

from minzheng_rules.model._errors import PackError
from minzheng_rules.packs._discovery import MANIFEST, available_packs, find_pack
from minzheng_rules.packs._pack import Pack, load_pack

ENV_PACKS = "MINZHENG_DOCS_PACKS"
ENV_DATE = "MINZHENG_DOCS_DATE"
LEVEL_ORDER = {"city": 0, "county": 1, "province": 2, "national": 3}


def specs_from_env() -> list[str] | None:
    raw = os.environ.get(ENV_PACKS, "").strip()
    return [s for s in raw.split(os.pathsep) if s.strip()] or None


def site_date() -> dt.date:
    """The date the site calls "current": ``MINZHENG_DOCS_DATE`` or today."""
    raw = os.environ.get(ENV_DATE, "").strip()
    if not raw:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{ENV_DATE} must be YYYY-MM-DD, got '{raw}'") from None


def pack_folders(specs: Sequence[str | Path] | None = None) -> list[Path]:
    """The pack folders named by ``specs`` (all available packs when None)."""
    if not specs:
        return list(available_packs().values())
    folders: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if (path / MANIFEST).is_file():
            folders.append(path.resolve())
        elif path.is_dir():
            inside = sorted(p for p in path.iterdir() if (p / MANIFEST).is_file())
            if not inside:
                raise PackError(f"no pack folders (with {MANIFEST}) inside {path}", file=path)
            folders.extend(p.resolve() for p in inside)
        else:
            folders.append(find_pack(str(spec)))
    return folders


def load_site_packs(specs: Sequence[str | Path] | None = None) -> list[Pack]:
    """Load the site's packs, cities first, then provinces and the national framework."""
    packs: dict[str, Pack] = {}
    for folder in pack_folders(specs if specs is not None else specs_from_env()):
        pack = load_pack(folder)
        if pack.id in packs and packs[pack.id].folder != pack.folder:
            raise PackError(
                f"two packs are named '{pack.id}': {packs[pack.id].folder} and {pack.folder}",
                file=pack.folder / MANIFEST,
                name=pack.id,
            )
        packs[pack.id] = pack
    return sorted(packs.values(), key=lambda p: (LEVEL_ORDER.get(p.manifest.level, 9), p.id))
