"""The ``minzheng`` command line: the Typer app with every command, each from the module named
as the command (``minzheng eval`` is ``cli/eval.py``), listed here in the order ``--help``
shows them."""

from __future__ import annotations

import typer

from minzheng_rules.cli._batch import batch_command
from minzheng_rules.cli._diff import diff_command
from minzheng_rules.cli._docs import docs_app
from minzheng_rules.cli._eval import eval_command
from minzheng_rules.cli._monitor import monitor_command
from minzheng_rules.cli._new import new_command
from minzheng_rules.cli._packs import packs_command
from minzheng_rules.cli._plan import plan_command
from minzheng_rules.cli._schema import schema_command
from minzheng_rules.cli._show import show_command
from minzheng_rules.cli._synth import synth_command
from minzheng_rules.cli._test import test_command
from minzheng_rules.cli._validate import validate_command

__all__ = ["app", "main"]

app = typer.Typer(
    help="minzheng-rules: evaluate Chinese social-assistance policy packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("batch")(batch_command)
app.command("synth")(synth_command)
app.command("diff")(diff_command)
app.command("eval")(eval_command)
app.command("monitor")(monitor_command)
app.command("packs")(packs_command)
app.command("show")(show_command)
app.command("validate")(validate_command)
app.command("new")(new_command)
app.command("schema")(schema_command)
app.command("test")(test_command)
app.command("plan")(plan_command)
app.add_typer(docs_app, name="docs")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
