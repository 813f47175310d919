"""Reference pages made from the code itself: the command line (from the Typer app) and the
pack format (from the pydantic models), so they cannot drift from what the library does."""

from __future__ import annotations

import inspect
import json
import typing
from typing import Any

import typer
from pydantic import BaseModel

from minzheng_rules.docsgen import _md as md
from minzheng_rules.packs import _schema as S

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
            rows.append([names + need, md.esc(p.help or ""), shown])
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
