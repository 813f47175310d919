"""Reference pages made from the code itself: the command line (from the Typer app) and the
pack format (from the pydantic models), so they cannot drift from what the library does."""

from __future__ import annotations

import inspect
import json
import typing

import click
import typer
from pydantic import BaseModel

from minzheng_rules.docsgen import md
from minzheng_rules.packs import schema as S

SCHEMA_FILE = "reference/pack.schema.json"


def schema_json() -> str:
    return json.dumps(S.pack_json_schema(), ensure_ascii=False, indent=2) + "\n"


def _model_of(annotation: object) -> type | None:
    """The pydantic model a section holds (through dict[..., M], list[M], M | None)."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def sections_table() -> list[str]:
    """One row per top-level section of a pack file, described by its model's docstring."""
    rows = []
    for name, field in S.PackFile.model_fields.items():
        model = _model_of(field.annotation)
        doc = inspect.getdoc(model) if model is not None else ""
        shape = (
            "mapping id → entry"
            if "dict" in str(field.annotation)
            else ("list" if "list" in str(field.annotation) else "one block")
        )
        rows.append([f"`{name}`", shape, md.esc((doc or "").split("\n\n")[0])])
    return md.table(["section", "shape", "what it holds"], rows)


def schema_block() -> list[str]:
    """The JSON Schema, collapsed, for the pack-format page."""
    body = ["```json", *schema_json().rstrip("\n").split("\n"), "```"]
    return md.block(
        "abstract", "JSON Schema of a pack file (minzheng schema)", body, collapsible=True
    )


def schema_page() -> str:
    out = [
        "# 政策包格式 JSON Schema of pack files",
        "",
        "Generated from the pack format's pydantic models when this site was built; the same "
        "text as `minzheng schema --out pack.schema.json`. Point your editor at it for "
        "completion and checking while you write pack YAML. 用于编辑器补全与校验。",
        "",
        "[Download pack.schema.json 下载](pack.schema.json)",
        "",
        "## Sections 文件中的各部分",
        "",
        *sections_table(),
        "## Schema",
        "",
        "```json",
        schema_json().rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(out)


def _params(cmd: click.Command) -> list[list[str]]:
    rows = []
    for p in cmd.params:
        if isinstance(p, click.Option):
            if p.hidden or "--help" in p.opts:
                continue
            names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
            default = p.default if p.default not in (None, (), []) and not p.is_flag else ""
            if p.is_flag and p.secondary_opts:
                default = p.opts[0] if p.default else p.secondary_opts[0]
            rows.append([names, md.esc(p.help or ""), md.esc(default) if default != "" else ""])
        elif isinstance(p, click.Argument):
            name = (p.metavar or p.name or "").upper()
            req = "required" if p.required else "optional"
            help_text = getattr(p, "help", None) or ""
            rows.append([f"`{name}` ({req})", md.esc(help_text), ""])
    return rows


def _commands(group: click.Group, prefix: str, ctx: click.Context) -> list[str]:
    out: list[str] = []
    for name in sorted(group.list_commands(ctx)):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        full = f"{prefix} {name}"
        sub = click.Context(cmd, info_name=name, parent=ctx)
        usage = " ".join([full, *cmd.collect_usage_pieces(sub)])
        out += [f"## `{full}` {{#{md.anchor(*full.split()[1:])}}}", ""]
        out += [md.esc(inspect.cleandoc(cmd.help or "")), "", f"```\n{usage}\n```", ""]
        rows = _params(cmd)
        if rows:
            out += md.table(["argument / option", "help", "default"], rows)
        if isinstance(cmd, click.Group):
            out += _commands(cmd, full, sub)
    return out


def cli_page() -> str:
    from minzheng_rules.cli.main import app

    root = typer.main.get_command(app)
    ctx = click.Context(root, info_name="minzheng")
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
    if isinstance(root, click.Group):
        out += _commands(root, "minzheng", ctx)
    return "\n".join(out)
