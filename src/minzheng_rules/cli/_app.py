"""The shared Typer app, consoles and small helpers every command module uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from minzheng_rules.backends.reference import evaluate
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._household import load_household
from minzheng_rules.model._results import Evaluation
from minzheng_rules.packs._pack import Pack, load_pack

app = typer.Typer(
    help="minzheng-rules: evaluate Chinese social-assistance policy packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# user text (pack names, labels, file names, messages) is never read as markup: every command
# escapes it (rich.markup.escape) and emoji codes such as ``:100:`` stay text
out = Console(emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)

PackOption = Annotated[str, typer.Option("--pack", "-p", help="Pack name or folder")]


def cells(*values: object) -> list[Text]:
    """Table cells as plain text: a label or id such as ``[a]`` is shown, not read as markup."""
    return [v if isinstance(v, Text) else Text(str(v)) for v in values]


def fail(error: Exception) -> NoReturn:
    """Print the error in one line and exit with status 2 (never returns)."""
    err.print(f"[bold red]error:[/] {escape(str(error))}", markup=True, highlight=False)
    raise typer.Exit(2)


def parse_date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(ValueError(f"--date must be YYYY-MM-DD, got '{text}'"))


def load_or_exit(name: str) -> Pack:
    try:
        return load_pack(name)
    except MinzhengError as e:
        fail(e)


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
