"""What every command module shares: the consoles, one-line errors, the shared option types and
the fixed choices some options take (an Enum each, so ``--help`` lists them and Typer refuses
any other word)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from minzheng_rules.backends.reference import evaluate
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._household import load_household
from minzheng_rules.model._results import Evaluation
from minzheng_rules.packs._pack import Pack, load_pack

if TYPE_CHECKING:
    from rich.progress import Progress

# user text (pack names, labels, file names, messages) is never read as markup: every command
# escapes it (rich.markup.escape) and emoji codes such as ``:100:`` stay text
out = Console(emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)

PackOption = Annotated[str, typer.Option("--pack", "-p", help="Pack name or folder")]


# The words an option takes. The library keeps its own lists (io.formats.FORMATS and
# OUTPUT_FORMATS, monitor.ENGINES) and checks them for API callers; they are written out here
# so that --help needs no heavy import, and tests/test_cli.py checks the two agree.
class EvalFormat(StrEnum):  # eval --format
    table = "table"
    json = "json"


class DiffFormat(StrEnum):  # diff --format
    table = "table"
    json = "json"
    markdown = "markdown"


class PlanFormat(StrEnum):  # plan --format
    markdown = "markdown"
    html = "html"


class OutputFormat(StrEnum):  # batch --format: the results file
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"
    xlsx = "xlsx"


class RegisterFormat(StrEnum):  # synth --format: the register's files
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"


class BatchEngine(StrEnum):  # batch --engine
    local = "local"
    spark = "spark"


class MonitorEngine(StrEnum):  # monitor --engine
    python = "python"
    durable = "durable"


class Level(StrEnum):  # new --level
    city = "city"
    county = "county"


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


def progress() -> Progress:
    """The progress bar of a long run (batch, synth), on stderr so stdout stays the output."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
