"""``minzheng schema``: the JSON Schema of pack files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from minzheng_rules.cli._common import fail, out
from minzheng_rules.packs._schema import pack_json_schema


def schema_command(
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout")
    ] = None,
) -> None:
    """Write the JSON Schema of pack files (for editor completion and checking)."""
    text = json.dumps(pack_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
    else:
        try:
            out_file.write_text(text, encoding="utf-8")
        except OSError as e:  # a folder, a missing folder, no permission: one line
            fail(OSError(f"--out {out_file}: cannot write ({e.strerror})"))
        out.print(f"wrote {out_file}", markup=False)
