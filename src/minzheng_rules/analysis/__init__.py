"""What an evaluation is used for: reform impact over a register and a household's printable
幸福清单. Public: the names below; the modules are the implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minzheng_rules._lazy import exports

if TYPE_CHECKING:
    from minzheng_rules.analysis._plan import render_html, render_markdown
    from minzheng_rules.analysis._reform import Impact, Scenario, reform_impact

__all__ = ["Impact", "Scenario", "reform_impact", "render_html", "render_markdown"]
__getattr__, __dir__ = exports(
    __name__,
    {
        "Impact": "_reform",
        "Scenario": "_reform",
        "reform_impact": "_reform",
        "render_html": "_plan",
        "render_markdown": "_plan",
    },
)
