"""``minzheng new``: the files a city or county starts its own pack from.

The parameters file lists every value the chain leaves to a lower pack (``set_by``), each with
its label, unit and type and a ``set_by`` placeholder that ``minzheng validate`` reports until a
dated history replaces it, so a newcomer never has to read the parent packs to know what to fill.
"""

from __future__ import annotations

import json
from pathlib import Path

from minzheng_rules.model._errors import PackError
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._lint import unset_parameters
from minzheng_rules.packs._loader import load_definition


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _label(zh: str, en: str) -> str:
    return f"{{zh: {_q(zh)}, en: {_q(en)}}}"


def scaffold(
    folder: Path,
    extends: str,
    level: str = "city",
    pack_id: str | None = None,
    zh: str | None = None,
    en: str | None = None,
) -> list[Path]:
    """Write a new pack extending ``extends`` into ``folder`` (which must be new or empty);
    returns the files written."""
    pack_id = pack_id or folder.name.lower().replace("-", "_")
    if not S.IDENTIFIER_RE.match(pack_id):
        raise PackError(
            f"'{pack_id}' cannot be a pack id (lower-case ASCII letters, digits and _, "
            "starting with a letter); give one with --id",
            name=pack_id,
        )
    if level not in ("city", "county"):
        raise PackError(f"--level must be city or county, not '{level}'", name=level)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise PackError(f"{folder} already exists and is not empty; choose a new folder")
    parent = load_definition(extends)
    zh = zh or pack_id
    en = en or pack_id.replace("_", " ").title()
    unset = unset_parameters(parent)
    programs = list(parent.programs)
    (folder / "cases").mkdir(parents=True, exist_ok=True)
    written = {
        folder / "pack.yaml": _manifest(pack_id, zh, en, level, parent.manifest.id),
        folder / "parameters.yaml": _parameters(parent, unset, level),
        folder / "invariants.yaml": _invariants(pack_id, programs),
        folder / "cases" / "example.yaml": _case(programs),
        folder / "README.md": _readme(pack_id, zh, en, parent.chain, unset),
    }
    for path, text in written.items():
        path.write_text(text, encoding="utf-8")
    return list(written)


def _manifest(pack_id: str, zh: str, en: str, level: str, extends: str) -> str:
    return f"""pack:
  id: {pack_id}
  label: {_label(zh, en)}
  level: {level}
  extends: {extends}
  drops: []                 # inherited programs this {level} does not run
  description:
    zh: {_q(f"{zh}社会救助标准。")}
    en: {_q(f"{en}'s social-assistance standards.")}
"""


def _parameters(parent, unset: list[tuple[str, S.Parameter]], level: str) -> str:
    lines = [
        f"# The values {parent.manifest.id}'s chain ({' → '.join(parent.chain)}) leaves to a "
        "lower pack.",
        "# Each is a placeholder: `minzheng validate` reports it until you replace its `set_by`",
        "# line with a dated `history` (an example is under each one). Cite every value: see",
        "# docs/guide/first-pack.md and docs/reference/pack-schema.md.",
        "parameters:",
    ]
    if not unset:
        lines += ["  {}  # nothing is left to set"]
        return "\n".join(lines) + "\n"
    for name, p in unset:
        origin = parent.origin("parameters", name)
        declared = parent.packs.get(f"parameters:{name}", "?")
        example = "1" if p.type == "count" else ("true" if p.type == "bool" else "0")
        lines += [
            f"  {name}:",
            f"    # declared by {declared} ({Path(origin.file).name}:{origin.line}); "
            f"left to the {p.set_by} pack",
            f"    label: {_label(p.label.zh, p.label.en)}",
            f"    unit: {p.unit.value}",
            f"    type: {p.type}",
            f"    set_by: {p.set_by}   # TODO replace this line with the history below, filled in",
            "    # history:",
            "    #   - since: 2024-01-01",
            f"    #     value: {example}",
            "    #     confidence: published",
            "    #     source: {document: 文件名称 Title of the notice, number: 文号}",
            "",
        ]
    return "\n".join(lines)


def _invariants(pack_id: str, programs: list[str]) -> str:
    target = "dibao" if "dibao" in programs else (programs[0] if programs else "")
    return f"""# Properties every household must satisfy under this pack; `minzheng test` checks
# them with generated households (inherited ones too). Kinds: monotone_in_income, non_negative,
# exclusive, raise_keeps_eligibility, member_order_independent
# (see docs/reference/invariants.md).
invariants:
  - id: {pack_id}_{target}_more_income_never_helps
    label:
      zh: 收入增加不会提高{target}金额
      en: A member earning more never makes {target} eligible nor raises its amount
    kind: monotone_in_income
    programs: [{target}]
    assume: count(m for m in members if m.countable and m.severe_disability_or_illness) == 0
"""


def _case(programs: list[str]) -> str:
    target = "dibao" if "dibao" in programs else (programs[0] if programs else "")
    return f"""# Golden cases: a household, a date, the expected answer and the hand computation.
# Write one per rule and per boundary (just below and just above each standard), with the
# numbers worked out by hand from the notice, not copied from `minzheng eval`.
# Member paths in `missing` are written members[<id>].<field>, e.g. members[a].monthly_income.
cases:
  - id: high-income-not-{target.replace("_", "-")}
    date: 2024-06-01
    computation: >-
      Two working adults earning 20,000 a month each: income per head 20,000 is far above any
      dibao standard, so the household is not eligible.
    household:
      id: example-1
      members:
        - {{id: a, relation: head, age: 40, monthly_income: 20000}}
        - {{id: b, relation: spouse, age: 38, monthly_income: 20000}}
      assets: {{financial: 100000}}
    expect:
      {target}: {{status: ineligible}}
"""


def _readme(
    pack_id: str, zh: str, en: str, chain: list[str], unset: list[tuple[str, S.Parameter]]
) -> str:
    return f"""# {zh} {en} (`{pack_id}`)

Extends {" → ".join(chain)}. Written with `minzheng new`; see docs/guide/first-pack.md.

- `parameters.yaml`: the {len(unset)} values the chain leaves to this pack (each with its source).
- `cases/`: golden cases with their hand computations.
- `invariants.yaml`: properties checked with generated households.

Check: `minzheng validate .` then `minzheng test .`.

## Sources 出处

List the notices this pack's values come from (title, 文号, date).
"""
