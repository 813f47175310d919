"""Step charts of standards over time, drawn as inline SVG when the site is built.

No chart library and no script: the site must work with no internet access, and a standard is
a step function (a value holds from its start date until the next one), which SVG lines draw
exactly. Modelled stretches are dashed and their points hollow, so they are never mistaken for
sourced values.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass
from decimal import Decimal

PALETTE = ("#1f6fb4", "#c23b22", "#2e8b3d", "#7b4fa8", "#d9822b", "#5f7f8f", "#b5367f", "#138d90")

WIDTH, HEIGHT = 760, 330
LEFT, RIGHT, TOP = 70, 20, 18


@dataclass(frozen=True)
class Step:
    since: dt.date
    value: Decimal | int  # a money parameter's value (drawn as a float)
    modelled: bool
    note: str  # tooltip: the value with its confidence


@dataclass(frozen=True)
class Series:
    label: str
    steps: tuple[Step, ...]


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:g}"


def step_chart(title: str, series: list[Series], until: dt.date, unit: str) -> str:
    """An SVG step chart (one line per series) from the first step to ``until``."""
    drawn = [s for s in series if s.steps]
    if not drawn:
        return ""
    first = min(s.steps[0].since for s in drawn)
    last = max(max(st.since for st in s.steps) for s in drawn)
    end = max(until, last + dt.timedelta(days=180))
    x0, x1 = first.toordinal(), end.toordinal()
    top = max(float(st.value) for s in drawn for st in s.steps)
    step = _nice_step(top * 1.1 if top > 0 else 1)
    ymax = step * math.ceil((top * 1.1 if top > 0 else 1) / step)
    dashed = any(st.modelled for s in drawn for st in s.steps)
    legend_rows = math.ceil((len(drawn) + dashed) / 3)
    plot_bottom = HEIGHT - 48
    height = HEIGHT + 18 * (legend_rows - 1)

    def x(day: dt.date) -> float:
        return LEFT + (day.toordinal() - x0) / max(x1 - x0, 1) * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return plot_bottom - value / ymax * (plot_bottom - TOP)

    e = html.escape
    out = [
        f'<svg class="mz-chart-svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{e(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" font-size="12">',
        f"<title>{e(title)}</title>",
    ]
    # grid and y axis
    tick = 0.0
    while tick <= ymax + 1e-9:
        ty = y(tick)
        out.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" '
            f'stroke="currentColor" stroke-opacity="0.15"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="currentColor">'
            f"{_fmt(tick)}</text>"
        )
        tick += step
    out.append(
        f'<text x="12" y="{(TOP + plot_bottom) / 2:.0f}" fill="currentColor" '
        f'transform="rotate(-90 12 {(TOP + plot_bottom) / 2:.0f})" text-anchor="middle">'
        f"{e(unit)}</text>"
    )
    # x axis: years
    years = list(range(first.year + (first.month > 1 or first.day > 1), end.year + 1))
    stride = max(1, math.ceil(len(years) / 10))
    for year in years[::stride]:
        tx = x(dt.date(year, 1, 1))
        out.append(
            f'<line x1="{tx:.1f}" y1="{plot_bottom}" x2="{tx:.1f}" y2="{plot_bottom + 5}" '
            f'stroke="currentColor"/>'
            f'<text x="{tx:.1f}" y="{plot_bottom + 18}" text-anchor="middle" '
            f'fill="currentColor">{year}</text>'
        )
    out.append(
        f'<line x1="{LEFT}" y1="{plot_bottom}" x2="{WIDTH - RIGHT}" y2="{plot_bottom}" '
        f'stroke="currentColor"/>'
    )
    label_values = len(drawn) <= 3
    for i, s in enumerate(drawn):
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<g class="mz-series" data-series="{e(s.label)}">')
        for j, st in enumerate(s.steps):
            stop = s.steps[j + 1].since if j + 1 < len(s.steps) else end
            xa, xb, ya = x(st.since), x(stop), y(float(st.value))
            dash = ' stroke-dasharray="6 4"' if st.modelled else ""
            out.append(
                f'<line class="mz-step" x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{ya:.1f}" '
                f'stroke="{colour}" stroke-width="2.5"{dash}/>'
            )
            if j + 1 < len(s.steps):
                yb = y(float(s.steps[j + 1].value))
                out.append(
                    f'<line x1="{xb:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" '
                    f'stroke="{colour}" stroke-width="1" stroke-opacity="0.7"/>'
                )
            fill = "none" if st.modelled else colour
            out.append(
                f'<circle cx="{xa:.1f}" cy="{ya:.1f}" r="4" fill="{fill}" stroke="{colour}" '
                f'stroke-width="2"><title>{e(st.note)}</title></circle>'
            )
            if label_values:
                out.append(
                    f'<text x="{xa + 4:.1f}" y="{ya - 7:.1f}" fill="{colour}" font-size="11">'
                    f"{e(_fmt(float(st.value)))}</text>"
                )
        out.append("</g>")
    # legend: one entry per series, then what a dashed line means
    entries = [(s.label, PALETTE[i % len(PALETTE)], False) for i, s in enumerate(drawn)]
    if any(st.modelled for s in drawn for st in s.steps):  # the legend names only what is drawn
        entries.append(("modelled 模型推定 (no source 无出处)", "#888888", True))
    for k, (label, colour, dashed) in enumerate(entries):
        lx = LEFT + (k % 3) * 230
        ly = plot_bottom + 36 + 18 * (k // 3)
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 24}" y2="{ly - 4}" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/><text x="{lx + 30}" y="{ly}" fill="currentColor">'
            f"{e(label)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def figure(svg: str, caption: str, data: str | None = None) -> list[str]:
    """A chart as a raw HTML block (Markdown leaves it alone) with a caption, and a link to
    the numbers behind it (``data``: a relative path to their CSV) when given."""
    if not svg:
        return []
    link = f' · <a href="{html.escape(data)}">数据 CSV</a>' if data else ""
    return [
        f'<figure class="mz-chart" data-search-exclude>{svg}'
        f"<figcaption>{html.escape(caption)}{link}</figcaption></figure>",
        "",
    ]
