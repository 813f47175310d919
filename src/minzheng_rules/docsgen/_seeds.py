"""Seed reports by what a reader can look up (title, publisher, date), not by their file hash,
and internal references in reasoning text made readable.

The titles, publishers and dates are read from the reports' own first lines and the project's
seed index (shared/seeds/INDEX.md); the file name stays in the citation, small, so a maintainer
can still find the file.
"""

from __future__ import annotations

import re

# file name → (title as the report gives it, publisher, date or period)
SEEDS: dict[str, tuple[str, str, str]] = {
    "000_28cda2da2961cd75.txt": (
        "全市民政系统：春风化雨润民生 一枝一叶总关情",
        "湖州市民政系统年度回顾 Huzhou civil affairs, year review",
        "2021",
    ),
    "001_1b52696736c8d6eb.txt": (
        "湖州民政 2024 年工作报告（索引号 002564280/2025-00014）",
        "湖州市民政局 Huzhou Civil Affairs Bureau",
        "成文 2025-03-05",
    ),
    "002_00bf722683c31f15.txt": (
        "织牢社会“保障网”托起群众美好生活——在全面建成小康社会中谱写义乌民政事业发展新篇章",
        "义乌市民政局“十三五”回顾 Yiwu civil affairs, 13th five-year review",
        "2016–2020",
    ),
    "003_78270e08e56120e4.txt": (
        "镇江市民政系统：让民生发展更有“温度”",
        "今日镇江 Zhenjiang Today",
        "2012–2022",
    ),
    "004_579aa15c9d4cdcf4.txt": (
        "书写精彩为民答卷 亮出幸福民生底色——平湖民政工作实现“十四五”良好开局",
        "平湖市民政局（记者 汤智娟）Pinghu civil affairs, press report",
        "2021",
    ),
}

_SEED_NAME = re.compile(r"\b(\d{3})_[0-9a-f]{16}\.txt\b")


def seed_title(name: str) -> str | None:
    """《title》, publisher, date, or None for a seed this table does not know."""
    entry = SEEDS.get(name)
    if entry is None:
        return None
    title, publisher, date = entry
    return f"《{title}》, {publisher}, {date}"


_INTERNAL = [
    (re.compile(r"\bPOLICY_NOTES(?:\.md)?\b"), "the project's background notes 项目背景笔记"),
    (re.compile(r"\b[Ii]ssue #(\d+)"), r"the project's work item \1 项目记录"),
    (re.compile(r"\bDESIGN\.md\b"), "the project's design notes 项目设计说明"),
]


def readable(text: str) -> str:
    """Reasoning text with internal file names and issue numbers said in words."""
    for pattern, words in _INTERNAL:
        text = pattern.sub(words, text)
    return text
