"""All generated pages of the site, and where they go in the navigation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen import _params as P
from minzheng_rules.docsgen._calc import calculator_files
from minzheng_rules.docsgen._changes import changes_page
from minzheng_rules.docsgen._compare import compare_page
from minzheng_rules.docsgen._examples import case_pages, examples_index, examples_page
from minzheng_rules.docsgen._links import Links
from minzheng_rules.docsgen._needs import needs_index, needs_owner, needs_page
from minzheng_rules.docsgen._pages_pack import pack_page
from minzheng_rules.docsgen._programs import page_path, program_ids, program_page, programs_index
from minzheng_rules.docsgen._reference import SCHEMA_FILE, schema_json, schema_page
from minzheng_rules.packs._pack import Pack

# Index pages the hand-written nav names; the generated pages of each are listed after it.
SECTIONS = (
    "packs/index.md",
    "programs/index.md",
    "params/index.md",
    "needs/index.md",
    "examples/index.md",
)


@dataclass
class GeneratedSite:
    """Generated files (path under docs/ → text) and the pages to list under each index."""

    files: dict[str, str] = field(default_factory=dict)
    nav: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    date: dt.date | None = None


def _packs_index(packs: list[Pack], on: dt.date) -> str:
    out = [
        "# 政策包 Policy packs",
        "",
        "One page per pack: the city packs, and the provincial and national packs they build "
        "on. Each page shows the programs' rules in plain words, the parameters with their "
        "history and sources, and how sure each value is. 每个政策包一页。",
        "",
    ]
    rows = []
    for p in packs:
        zh, en = md.LEVEL_TEXT.get(p.manifest.level, (p.manifest.level, p.manifest.level))
        rows.append(
            [
                f"[{md.bilingual(p.manifest.label)}]({p.id}.md)",
                f"{zh} {en}",
                " → ".join(f"`{c}`" for c in p.definition.chain),
                str(len(p.programs)),
                f"{p.coverage_on(on)['modelled_share']:.0%}",
            ]
        )
    out += md.table(
        ["政策包 Pack", "层级 Level", "继承链 Chain", "项目 Programs", "推定占比 Modelled"], rows
    )
    out += [f"Values as of 取值日期 {on}.", ""]
    return "\n".join(out)


def generate_pages(packs: list[Pack], on: dt.date) -> GeneratedSite:
    """Every generated page for these packs, with "current" values read on ``on``."""
    site = GeneratedSite(date=on)
    by_id = {p.id: p for p in packs}
    links = Links(pack_pages=set(by_id))
    for p in packs:
        owner = needs_owner(p, by_id)
        if owner is not None:
            links.needs_pages[p.id] = owner
        if p.cases:
            links.example_pages.add(p.id)
    site.files["packs/index.md"] = _packs_index(packs, on)
    site.nav["packs/index.md"] = []
    for p in packs:
        site.files[Links.pack(p.id)] = pack_page(p, on, links)
        site.nav["packs/index.md"].append((_nav_title(p), Links.pack(p.id)))
    site.files["compare.md"] = compare_page(packs, on, links)
    site.files.update(calculator_files(packs, on))
    site.files["params/index.md"] = P.params_index(packs)
    site.nav["params/index.md"] = []
    for name in P.parameter_names(packs):
        site.files[P.page_path(name)] = P.param_page(name, packs, on, links)
    site.files.update(P.download_files(packs, on))
    site.files["downloads.md"] = P.downloads_page(packs, on)
    site.files["changes.md"] = changes_page(packs, on, links)
    site.files["programs/index.md"] = programs_index(packs)
    site.nav["programs/index.md"] = []
    for pid in program_ids(packs):
        site.files[page_path(pid)] = program_page(pid, packs, on, links)
        label = next(p.programs[pid].spec.label for p in packs if pid in p.programs)
        site.nav["programs/index.md"].append((f"{label.zh} {label.en}", page_path(pid)))
    site.files["needs/index.md"] = needs_index(packs, links)
    site.nav["needs/index.md"] = []
    for pid in sorted(set(links.needs_pages.values()), key=[p.id for p in packs].index):
        site.files[Links.needs(pid)] = needs_page(by_id[pid])
        site.nav["needs/index.md"].append((_nav_title(by_id[pid]), Links.needs(pid)))
    site.files["examples/index.md"] = examples_index(packs, links)
    site.nav["examples/index.md"] = []
    for p in packs:
        if p.id in links.example_pages:
            site.files[Links.examples(p.id)] = examples_page(p)
            site.files.update(case_pages(p))
            site.nav["examples/index.md"].append((_nav_title(p), Links.examples(p.id)))
    # reference/cli.md is committed (docs/reference/, see cli.reference), not generated here
    site.files["reference/schema.md"] = schema_page()
    site.files[SCHEMA_FILE] = schema_json()
    return site


def _nav_title(p: Pack) -> str:
    return f"{p.manifest.label.zh} {p.manifest.label.en}"
