"""Where each generated page lives, so pages can link to each other by relative path."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field


@dataclass
class Links:
    """The set of generated pages, and relative links between them."""

    pack_pages: set[str] = field(default_factory=set)  # pack ids with a page
    needs_pages: dict[str, str] = field(default_factory=dict)  # pack id -> pack defining needs
    example_pages: set[str] = field(default_factory=set)  # pack ids with worked examples

    @staticmethod
    def pack(pid: str) -> str:
        return f"packs/{pid}.md"

    @staticmethod
    def needs(pid: str) -> str:
        return f"needs/{pid}.md"

    @staticmethod
    def examples(pid: str) -> str:
        return f"examples/{pid}.md"

    @staticmethod
    def rel(src: str, target: str) -> str:
        """A link from page ``src`` to page ``target`` (both relative to docs/)."""
        path, _, frag = target.partition("#")
        out = posixpath.relpath(path, posixpath.dirname(src) or ".")
        return f"{out}#{frag}" if frag else out

    def pack_link(self, src: str, pid: str, text: str | None = None) -> str:
        if pid not in self.pack_pages:
            return f"`{pid}`"
        return f"[{text or pid}]({self.rel(src, self.pack(pid))})"
