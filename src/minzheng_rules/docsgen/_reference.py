"""Reference pages made from the code itself: the pack format (from the pydantic models), so it
cannot drift from what the library does. (The command line's page is ``cli.reference``.)"""

from __future__ import annotations

import inspect
import json
import typing

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
