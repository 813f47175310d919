"""What changed: a timeline of dated changes across the city packs, each with its reform impact
(the engine of ``minzheng diff``: the day before against the day itself) over a small synthetic
register shaped by the city (``minzheng_rules.synth``), generated when the site is built.

The register is small (``MINZHENG_DOCS_IMPACT_HOUSEHOLDS``, default 200) so the build stays
quick: the counts show the direction and rough size of a change, not a forecast."""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import TYPE_CHECKING, Any

from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen._links import Links
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.packs._pack import Pack

if TYPE_CHECKING:
    from minzheng_rules.analysis._reform import Impact

log = logging.getLogger("mkdocs.plugins.minzheng")
ENV_HOUSEHOLDS = "MINZHENG_DOCS_IMPACT_HOUSEHOLDS"
YEARS = 6  # changes this many years before the site's date and later are shown
SRC = "changes.md"


def _households() -> int:
    raw = os.environ.get(ENV_HOUSEHOLDS, "").strip()
    try:
        return max(0, int(raw)) if raw else 200
    except ValueError:
        raise ValueError(f"{ENV_HOUSEHOLDS} must be a whole number, got '{raw}'") from None


def change_dates(pack: Pack, on: dt.date) -> list[dt.date]:
    """Days a parameter or a program's time in force changes, newest first, within the window."""
    days = set(pack.parameter_dates())
    for prog in pack.programs.values():
        f = prog.spec.in_force
        days |= {d for d in (f.since, f.until and f.until + dt.timedelta(days=1)) if d}
    start = on.replace(year=on.year - YEARS, month=1, day=1)
    return sorted((d for d in days if start <= d <= on), reverse=True)


def _register(pack: Pack, on: dt.date, n: int) -> list[dict[str, Any]]:
    from minzheng_rules.model._convert import frames_to_dicts
    from minzheng_rules.synth import generate

    out: list[dict[str, Any]] = []
    for hf, mf in generate(pack, on, n, seed=20):
        out += frames_to_dicts(hf, mf, list(range(hf.height)))
    return out


def _impact(pack: Pack, day: dt.date, register: list[dict[str, Any]]) -> Impact | None:
    from minzheng_rules.analysis._reform import Scenario, reform_impact

    try:
        return reform_impact(
            register, Scenario(pack, day - dt.timedelta(days=1)), Scenario(pack, day), examples=0
        )
    except MinzhengError:
        return None  # the day before cannot be evaluated (a value not yet in force)


def _changed_by_history(pack: Pack, day: dt.date) -> list[str]:
    out = []
    for _, spec in sorted(pack.parameters.items()):
        history = spec.history or []
        for i, h in enumerate(history):
            if h.since != day:
                continue
            badge = md.badge(h.confidence)
            if i and history[i - 1].value == h.value:
                out.append(
                    f"{md.esc(spec.label.zh)} {md.number(h.value)}: 出处更新 re-sourced {badge}"
                )
                continue
            before = md.number(history[i - 1].value) if i else "—"
            out.append(f"{md.esc(spec.label.zh)} {before} → **{md.number(h.value)}** {badge}")
    return out


def changes_page(packs: list[Pack], on: dt.date, links: Links) -> str:
    n = _households()
    cities = [p for p in packs if p.manifest.level in ("city", "county")]
    out = [
        "# 政策变化 What changed",
        "",
        f"Every dated change in the city packs from {on.year - YEARS} to {on}, newest first: "
        "what changed, and its effect on a synthetic register of "
        f"{n} households shaped by the city (evaluated the day before and the day itself, as "
        "`minzheng diff` does). The counts show direction and rough size, not a forecast. "
        "各城市政策变化时间线，及其在合成样本上的影响。",
        "",
    ]
    rows: list[tuple[str, str, list[str], Impact | None]] = []
    for p in cities:
        days = change_dates(p, on)
        register = _register(p, days[0], n) if days and n else []
        for day in days:
            what = _changed_by_history(p, day)
            for pid, prog in p.programs.items():
                f = prog.spec.in_force
                if f.since == day:
                    what.append(f"starts 开始: {md.esc(prog.spec.label.zh)} `{pid}`")
                if f.until and f.until + dt.timedelta(days=1) == day:
                    what.append(f"ends 结束: {md.esc(prog.spec.label.zh)} `{pid}`")
            if not what:
                continue
            impact = _impact(p, day, register) if register else None
            rows.append((str(day), links.pack_link(SRC, p.id, p.manifest.label.zh), what, impact))
    rows.sort(key=lambda r: r[0], reverse=True)
    table = []
    for when, city, what, impact in rows:
        table.append(
            [when, city, "<br>".join(what[:8]) + (" …" if len(what) > 8 else ""), _effect(impact)]
        )
    if table:
        out += md.table(
            ["日期 Date", "城市 City", "变化 Change", f"影响 Effect ({n} 户 households)"], table
        )
    else:
        out += ["No dated change in the window. 期间无变化。", ""]
    return "\n".join(out)


def _effect(impact: Impact | None) -> str:
    if impact is None:
        return "—"
    lines = []
    for p in impact.programs.values():
        moved = [
            f"+{p.gained} 新增" if p.gained else "",
            f"−{p.lost} 退出" if p.lost else "",
            f"{p.increased} ↑" if p.increased else "",
            f"{p.decreased} ↓" if p.decreased else "",
        ]
        moved = [m for m in moved if m]
        if moved:
            lines.append(f"{md.esc(p.label_zh)}: {' '.join(moved)}")
    change = impact.totals()["monthly_cost_change"]
    lines.append(f"每月 monthly: {'+' if not change.startswith('-') else ''}{change} 元")
    return "<br>".join(lines)
