"""``minzheng docs``: build or serve the policy explorer site from the packs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from minzheng_rules.cli._common import fail, out, parse_date

docs_app = typer.Typer(
    help="The policy explorer site (needs the 'docs' extra of minzheng-rules).",
    no_args_is_help=True,
)

PacksOption = Annotated[
    list[str] | None,
    typer.Option(
        "--packs",
        help="Pack name, pack folder, or a folder of packs (repeatable; default: all packs)",
    ),
]
DateOption = Annotated[
    str | None, typer.Option(help="Date of the 'current' values, YYYY-MM-DD (default today)")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-f", help="mkdocs.yml (default: found upwards)")
]


def _mkdocs_missing(err: ImportError) -> NoReturn:
    fail(RuntimeError(f"{err}; install the docs extra: pip install 'minzheng-rules[docs]'"))


@docs_app.command("build")
def build_command(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Site folder to write")] = Path(
        "site"
    ),
    packs: PacksOption = None,
    date: DateOption = None,
    config: ConfigOption = None,
    strict: Annotated[
        bool, typer.Option(help="Fail on any warning (broken link, bad case)")
    ] = True,
) -> None:
    """Generate the pack pages and build the site (mkdocs build)."""
    on = parse_date(date) if date else None
    try:
        from minzheng_rules.docsgen._build import build_site
    except ImportError as err:
        _mkdocs_missing(err)
    try:
        site = build_site(out_dir, packs=packs or None, on=on, config_file=config, strict=strict)
    except ImportError as err:
        _mkdocs_missing(err)
    except SystemExit:
        raise
    except Exception as err:  # mkdocs aborts with its own exception types
        fail(err)
    out.print(f"wrote {site} (open {site / 'index.html'})", markup=False)


@docs_app.command("serve")
def serve_command(
    packs: PacksOption = None,
    date: DateOption = None,
    config: ConfigOption = None,
    addr: Annotated[str, typer.Option(help="Address to serve on")] = "127.0.0.1:8000",
) -> None:
    """Serve the site locally, rebuilding when docs or packs change (mkdocs serve)."""
    import os

    from minzheng_rules.docsgen._build import find_config
    from minzheng_rules.docsgen._sources import ENV_DATE, ENV_PACKS

    if packs:
        os.environ[ENV_PACKS] = os.pathsep.join(packs)
    if date:
        os.environ[ENV_DATE] = parse_date(date).isoformat()
    try:
        from mkdocs.commands.serve import serve
    except ImportError as err:
        _mkdocs_missing(err)
    serve(config_file=str(config or find_config()), dev_addr=addr, livereload=True)
