"""The policy explorer: Markdown pages generated from the packs when the site is built.

Nothing here is written by hand per city: the pages come from whatever packs are loaded, so a
changed standard shows up on the city page and the comparison page at the next build.

* :func:`generate_pages` turns loaded packs into ``{path: Markdown}``.
* ``docsgen/hooks.py`` is the mkdocs hook that adds those pages to the site.
* :func:`build_site` runs ``mkdocs build`` with a chosen set of packs (``minzheng docs build``).
"""

from __future__ import annotations

from minzheng_rules.docsgen._build import build_site
from minzheng_rules.docsgen._site import GeneratedSite, generate_pages
from minzheng_rules.docsgen._sources import load_site_packs

__all__ = ["GeneratedSite", "build_site", "generate_pages", "load_site_packs"]
