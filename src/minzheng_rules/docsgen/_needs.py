"""The 六无六有 tags, the needs model (categories → sub-items → labels) and the assistance
catalogue, as sections of a pack page and as a browsable tree page."""

from __future__ import annotations

from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen._links import Links
from minzheng_rules.docsgen._plain import plain
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._pack import Pack

NOT_DEFINED = "Not defined in this pack. 本政策包未定义。"
KIND_TEXT = {"program": "救助项目 program", "service": "服务 service", "charity": "慈善 charity"}


def needs_counts(model: S.NeedsModel) -> tuple[int, int, int]:
    subitems = sum(len(c.subitems) for c in model.categories)
    labels = sum(len(s.labels) for c in model.categories for s in c.subitems)
    return len(model.categories), subitems, labels


def needs_owner(pack: Pack, site: dict[str, Pack]) -> str | None:
    """The pack in the chain whose needs model this pack uses (None: no model)."""
    model = pack.definition.needs
    if model is None:
        return None
    owner = pack.id
    for pid in reversed(pack.definition.chain[:-1]):
        parent = site.get(pid)
        if parent is None or parent.definition.needs != model:
            break
        owner = pid
    return owner


def _rule(text: str, pack: Pack) -> str:
    return f"{plain(text, pack, 'zh')}<br>{plain(text, pack, 'en')}<br>{md.code(text)}"


def tags_section(pack: Pack) -> list[str]:
    out = ["## 六无六有 Tags {#tags}", ""]
    tags = pack.definition.tags
    if not tags:
        return [*out, NOT_DEFINED, ""]
    out += [
        f"{len(tags)} comprehensive-relief tags set on a household when their condition holds. "
        "满足条件时为家庭标注的综合救助标签。",
        "",
    ]
    rows = []
    for tid, t in tags.items():
        rows.append(
            [
                f"**{md.esc(t.label.zh)}**<br>{md.esc(t.label.en)}<br>`{tid}`",
                md.bilingual(t.definition, "<br>"),
                _rule(t.when, pack),
                f"{md.badge(t.confidence)}<br>{md.source_text(t.source)}",
            ]
        )
    out += md.table(["标签 Tag", "含义 Definition", "条件 When", "依据 Source"], rows)
    return out


def needs_summary(pack: Pack, links: Links, src: str) -> list[str]:
    out = ["## 需求模型 Needs model {#needs}", ""]
    model = pack.definition.needs
    owner = links.needs_pages.get(pack.id)
    if model is None or owner is None:
        return [*out, NOT_DEFINED, ""]
    cats, subs, labels = needs_counts(model)
    link = Links.rel(src, Links.needs(owner))
    where = "" if owner == pack.id else f" (inherited from 继承自 `{owner}`)"
    out += [
        f"{cats} categories 类 × {subs} sub-items 项 × {labels} labels 个标签{where}: "
        f"[browse the tree 浏览需求树]({link}). {md.badge(model.confidence)}",
        "",
    ]
    rows = [
        [
            f"[{md.bilingual(c.label)}]({link}#{md.anchor('need', c.id)})",
            str(len(c.subitems)),
            str(sum(len(s.labels) for s in c.subitems)),
        ]
        for c in model.categories
    ]
    out += md.table(["类别 Category", "子项 Sub-items", "标签 Labels"], rows)
    return out


def needs_page(pack: Pack) -> str:
    """The whole taxonomy as a tree: a heading per category and sub-item, a row per label."""
    model = pack.definition.needs
    assert model is not None
    cats, subs, labels = needs_counts(model)
    declared = pack.manifest.declares
    name = md.bilingual(pack.manifest.label, " ")
    out = [
        f"# 需求模型 Needs model: {name}",
        "",
        f"**{cats}** categories 类 × **{subs}** sub-items 子项 × **{labels}** labels 标签. "
        f"{md.badge(model.confidence)} {md.source_text(model.source)}",
        "",
    ]
    if declared:
        shown = ", ".join(f"{k} = {v}" for k, v in sorted(declared.items()))
        out += [f"Declared in the pack manifest 清单声明: {md.esc(shown)}", ""]
    out += [
        "Each label is either **derived** 推导 (a condition over the household's facts and "
        "program results) or **assessed** 评估 (recorded on a home visit and passed in "
        "`assessed_needs`). 每个标签或由规则推导，或由入户评估录入。",
        "",
    ]
    for ci, c in enumerate(model.categories, 1):
        out += [f"## {ci}. {md.bilingual(c.label, ' ')} {{#{md.anchor('need', c.id)}}}", ""]
        if c.definition is not None:
            out += [md.bilingual(c.definition), ""]
        for si, s in enumerate(c.subitems, 1):
            out += [
                f"### {ci}.{si} {md.bilingual(s.label, ' ')} {{#{md.anchor('need', c.id, s.id)}}}",
                "",
            ]
            if s.definition is not None:
                out += [md.bilingual(s.definition), ""]
            rows = []
            for lab in s.labels:
                how = "assessed 入户评估" if lab.assessed else _rule(lab.when or "", pack)
                rows.append(
                    [
                        f"**{md.esc(lab.label.zh)}**<br>{md.esc(lab.label.en)}<br>`{lab.id}`",
                        md.bilingual(lab.definition, "<br>"),
                        how,
                    ]
                )
            out += md.table(["标签 Label", "含义 Definition", "判定 How"], rows)
    return "\n".join(out)


def assistance_section(pack: Pack) -> list[str]:
    out = ["## 救助资源 Assistance catalogue {#assistance}", ""]
    items = pack.definition.assistance
    if not items:
        return [*out, NOT_DEFINED, ""]
    labels = _need_labels(pack.definition.needs)
    rows = []
    for aid, a in items.items():
        answers = ", ".join(
            f"{md.esc(labels[n])} `{n}`" if n in labels else f"`{n}`" for n in a.answers
        )
        what = KIND_TEXT[a.kind] + (f"<br>`{a.program}`" if a.program else "")
        rows.append(
            [
                f"**{md.esc(a.label.zh)}**<br>{md.esc(a.label.en)}<br>`{aid}`",
                what,
                answers,
                _rule(a.when, pack) if a.when else "—",
                "<br>".join(
                    f"{md.badge(c.confidence)} {md.source_text(c.source)}" for c in a.citations
                ),
            ]
        )
    out += [
        f"{len(items)} items a need can be matched to (一户一策). 可与需求匹配的救助资源。",
        "",
        *md.table(["资源 Item", "类型 Kind", "回应需求 Answers", "条件 When", "依据 Source"], rows),
    ]
    return out


def _need_labels(model: S.NeedsModel | None) -> dict[str, str]:
    if model is None:
        return {}
    return {lab.id: lab.label.zh for c in model.categories for s in c.subitems for lab in s.labels}


def needs_index(packs: list[Pack], links: Links) -> str:
    out = [
        "# 需求模型与六无六有 Needs model and tags",
        "",
        "湖州 assesses every assisted household against a standard needs model (8 categories, "
        "40 sub-items, 131 labels) and tags it with the twelve 六无六有 aspects. A pack declares "
        "its own model or inherits one. 每个政策包可以声明自己的需求模型，或继承上级的模型。",
        "",
    ]
    rows = []
    for p in packs:
        owner = links.needs_pages.get(p.id)
        model = p.definition.needs
        if model is not None and owner is not None:
            c, s, n = needs_counts(model)
            where = f"[{c} × {s} × {n}]({Links.rel('needs/index.md', Links.needs(owner))})"
        else:
            where = "not defined 未定义"
        tags = f"{len(p.definition.tags)}" if p.definition.tags else "not defined 未定义"
        rows.append(
            [links.pack_link("needs/index.md", p.id, md.bilingual(p.manifest.label)), where, tags]
        )
    out += md.table(["政策包 Pack", "需求模型 Needs model", "六无六有 Tags"], rows)
    return "\n".join(out)
