"""The shared Typer app, consoles and small helpers every command module uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from minzheng_rules.backends.reference import evaluate
from minzheng_rules.errors import MinzhengError
from minzheng_rules.household import load_household
from minzheng_rules.packs.pack import Pack, load_pack
from minzheng_rules.results import Evaluation

app = typer.Typer(
    help="minzheng-rules: evaluate Chinese social-assistance policy packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)

PackOption = Annotated[str, typer.Option("--pack", "-p", help="Pack name or folder")]


def fail(error: Exception) -> None:
    err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
    raise typer.Exit(2)


def parse_date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(ValueError(f"--date must be YYYY-MM-DD, got '{text}'"))
        raise


def load_or_exit(name: str) -> Pack:
    try:
        return load_pack(name)
    except MinzhengError as e:
        fail(e)
        raise


DateOption = Annotated[
    str | None, typer.Option("--date", help="Evaluation date YYYY-MM-DD (default today)")
]
HouseholdArgument = Annotated[Path, typer.Argument(help="A household as JSON or YAML")]


def evaluate_file(
    pack: str, file: Path, date: str | None, explain: bool = False
) -> tuple[Pack, Evaluation]:
    """Load the pack and the household file and evaluate; any bad input exits with code 2."""
    p = load_or_exit(pack)
    on = parse_date(date)
    try:
        return p, evaluate(p, load_household(file), on, explain=explain)
    except (MinzhengError, OSError) as e:
        fail(e)
        raise
