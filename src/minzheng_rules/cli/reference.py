"""The command-line reference page (``docs/reference/cli.md``), read from the Typer app itself
so it cannot drift from the commands; and the command that writes every committed reference
page (this one with docsgen's)::

    python -m minzheng_rules.cli.reference

It lives here, not in docsgen, because it reads the app: docsgen sits below the CLI."""

from __future__ import annotations

import enum
import inspect
import sys
import typing
from pathlib import Path
from typing import Any

import typer

from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen import refpages


def _choices(p: Any) -> list[str]:
    """The words an option takes when it is an Enum (read from Typer's annotation)."""
    annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
    for t in (annotation, *typing.get_args(annotation)):
        if inspect.isclass(t) and issubclass(t, enum.Enum):
            return [str(m.value) for m in t]
    return []


def _params(cmd: Any) -> list[list[str]]:
    """Arguments and options of a command (read by duck typing: Typer may vendor click)."""
    rows = []
    for p in cmd.params:
        kind = getattr(p, "param_type_name", "")
        if kind == "option":
            if getattr(p, "hidden", False) or "--help" in p.opts:
                continue
            names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
            default = p.default
            if p.is_flag and p.secondary_opts:
                default = p.opts[0] if p.default else p.secondary_opts[0]
            elif p.is_flag or default in (None, (), []):
                default = ""
            need = " (required)" if p.required else ""
            shown = md.esc(default) if default != "" else ""
            text = md.esc(p.help or "")
            choices = _choices(p)
            if choices:
                text += " (one of: " + ", ".join(f"`{c}`" for c in choices) + ")"
            rows.append([names + need, text, shown])
        elif kind == "argument":
            req = "required" if p.required else "optional"
            rows.append([f"`{(p.name or '').upper()}` ({req})", md.esc(getattr(p, "help", "")), ""])
    return rows


def _usage(full: str, cmd: Any) -> str:
    parts = [full, "[OPTIONS]"]
    for p in cmd.params:
        if getattr(p, "param_type_name", "") == "argument":
            name = (p.name or "").upper() + ("..." if getattr(p, "nargs", 1) == -1 else "")
            parts.append(name if p.required else f"[{name}]")
    if getattr(cmd, "commands", None):
        parts.append("COMMAND [ARGS]...")
    return " ".join(parts)


def _commands(group: Any, prefix: str) -> list[str]:
    out: list[str] = []
    for name, cmd in sorted((getattr(group, "commands", None) or {}).items()):
        if getattr(cmd, "hidden", False):
            continue
        full = f"{prefix} {name}"
        out += [f"## `{full}` {{#{md.anchor(*full.split()[1:])}}}", ""]
        out += [md.esc(inspect.cleandoc(cmd.help or "")), ""]
        out += ["```text", _usage(full, cmd), "```", ""]
        rows = _params(cmd)
        if rows:
            out += md.table(["argument / option", "help", "default"], rows)
        out += _commands(cmd, full)
    return out


def cli_page() -> str:
    from minzheng_rules.cli.main import app

    root = typer.main.get_command(app)
    out = [
        "# 命令行 Command line",
        "",
        "Every `minzheng` command with its arguments and options, read from the command line "
        "program itself when this site was built. 命令行参考（构建时自动生成）。",
        "",
        "Exit codes: 0 success; 1 a pack failed validation or a case failed; 2 bad input. "
        "退出码：0 成功；1 校验或案例失败；2 输入有误。",
        "",
    ]
    out += _commands(root, "minzheng")
    return "\n".join(out)


PAGES = {"reference/cli.md": cli_page, **refpages.PAGES}


def generated() -> dict[str, str]:
    """Each committed reference page (path under docs/) and its text."""
    return refpages.generated(PAGES)


if __name__ == "__main__":  # pragma: no cover
    docs = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "docs"
    for p in refpages.write(docs, PAGES):
        print(f"wrote {p}")
