"""``minzheng plan``: print a household's 幸福清单 as Markdown or HTML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from minzheng_rules.analysis._plan import render_html, render_markdown
from minzheng_rules.cli._common import (
    DateOption,
    HouseholdArgument,
    PackOption,
    PlanFormat,
    evaluate_file,
    out,
)


def plan_command(
    file: HouseholdArgument,
    pack: PackOption,
    date: DateOption = None,
    format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="markdown or html")
    ] = PlanFormat.markdown,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write here")] = None,
) -> None:
    """The household's 幸福清单: programs and amounts, services, tags and needs, with sources."""
    p, ev = evaluate_file(pack, file, date)
    text = render_markdown(p, ev) if format is PlanFormat.markdown else render_html(p, ev)
    if out_file is None:
        sys.stdout.write(text + "\n")
    else:
        out_file.write_text(text + "\n", encoding="utf-8")
        out.print(f"wrote {out_file}", markup=False)
