"""``minzheng packs``: the packs that can be named."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from minzheng_rules.cli._common import cells, out
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.packs._discovery import available_packs
from minzheng_rules.packs._pack import load_pack


def packs_command() -> None:
    """List the packs that can be named (built in and registered)."""
    table = Table("pack", "level", "extends", "folder")
    for name, folder in available_packs().items():
        try:
            p = load_pack(folder)
            table.add_row(*cells(name, p.manifest.level, p.manifest.extends or "", folder))
        except MinzhengError as e:
            first = str(e).splitlines()[0]
            table.add_row(*cells(name, Text("invalid", "red"), "", f"{folder}: {first}"))
    out.print(table)
