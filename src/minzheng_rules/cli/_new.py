"""``minzheng new``: start a city or county pack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from minzheng_rules.cli._common import Level, fail, out
from minzheng_rules.model._errors import MinzhengError


def new_command(
    folder: Annotated[Path, typer.Argument(help="The new pack's folder (new or empty)")],
    extends: Annotated[str, typer.Option(help="The pack it builds on, e.g. zhejiang")],
    level: Annotated[Level, typer.Option(help="city or county")] = Level.city,
    pack_id: Annotated[
        str | None, typer.Option("--id", help="Pack id (default: the folder's name)")
    ] = None,
    zh: Annotated[str | None, typer.Option(help="Chinese name, e.g. 嘉兴市")] = None,
    en: Annotated[str | None, typer.Option(help="English name, e.g. Jiaxing")] = None,
) -> None:
    """Start a city or county pack: pack.yaml, a parameters file listing every value the chain
    leaves to it (placeholders that validate reports until filled), a README, a golden case and
    an invariant."""
    from minzheng_rules.packs._scaffold import scaffold

    try:
        written = scaffold(folder, extends, level.value, pack_id, zh, en)
    except MinzhengError as e:
        fail(e)
    for path in written:
        out.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"next: fill in {folder / 'parameters.yaml'}, then `minzheng validate {folder}` and "
        f"`minzheng test {folder}` (docs/guide/first-pack.md)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
