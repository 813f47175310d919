"""The mkdocs hook (``hooks:`` in mkdocs.yml) that puts the generated pages into the site.

* ``on_config``: load the packs, generate the pages, list them in the navigation after their
  index page (``packs/index.md``, ``needs/index.md``, ``examples/index.md``).
* ``on_files``: add the generated pages as in-memory files (nothing is written into docs/).
* ``on_page_markdown``: fill ``<!-- minzheng:json-schema -->`` in hand-written pages.
* ``on_post_build``: keep key terms (低保, 最低生活保障 …) whole in the search index.
* ``on_serve``: ``mkdocs serve`` also rebuilds when a pack file changes.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

from minzheng_rules.docsgen._programs import key_terms, mark_index
from minzheng_rules.docsgen._reference import schema_block
from minzheng_rules.docsgen._site import GeneratedSite, generate_pages
from minzheng_rules.docsgen._sources import load_site_packs, site_date

log = logging.getLogger("mkdocs.plugins.minzheng")
SCHEMA_MARKER = "<!-- minzheng:json-schema -->"

_state: dict[str, Any] = {}


def _expand(nav: list[Any], site: GeneratedSite) -> list[Any]:
    """A copy of the nav with each generated section's pages listed after its index page."""
    out: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            item = {k: _expand(v, site) if isinstance(v, list) else v for k, v in item.items()}
            out.append(item)
            for value in item.values():
                if isinstance(value, str) and value in site.nav:
                    out += [{title: path} for title, path in site.nav[value]]
            continue
        out.append(item)
        if isinstance(item, str) and item in site.nav:
            out += [{title: path} for title, path in site.nav[item]]
    return out


def _anchor_search_dictionaries(config: Any) -> None:
    """The search plugin reads jieba dictionaries relative to the working directory; make them
    relative to mkdocs.yml so the site builds from anywhere."""
    base = Path(config.config_file_path).parent
    for name, plugin in config.plugins.items():
        if not name.endswith("search"):
            continue
        for key in ("jieba_dict", "jieba_dict_user"):
            value = plugin.config.get(key)
            if value and not Path(value).is_absolute():
                plugin.config[key] = str(base / value)


@event_priority(100)  # before the search plugin reads its jieba dictionaries
def on_config(config: Any) -> Any:
    _anchor_search_dictionaries(config)
    packs = load_site_packs()
    on = site_date()
    site = generate_pages(packs, on)
    _state["site"] = site
    _state["terms"] = key_terms(packs)
    _state["folders"] = sorted({str(p.folder) for p in packs})
    log.info(
        "minzheng: %d packs, %d generated files, values on %s", len(packs), len(site.files), on
    )
    if config.nav:
        config.nav = _expand(config.nav, site)
    return config


def on_files(files: Files, config: Any) -> Files:
    site: GeneratedSite = _state["site"]
    for path, text in site.files.items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            raise ValueError(
                f"docs/{path} is generated from the packs; remove the hand-written file"
            )
        files.append(File.generated(config, path, content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if SCHEMA_MARKER in markdown:
        markdown = markdown.replace(SCHEMA_MARKER, "\n".join(schema_block()))
    return markdown


_ROLE = re.compile(r":(?:class|func|meth|attr|mod|exc|data|obj):(?=<code)")


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Docstrings use Sphinx roles (``:class:`Pack```); mkdocstrings shows them raw, so drop
    the role and keep the code."""
    if ":" in html and "<code" in html:
        html = _ROLE.sub("", html)
    return html


@event_priority(-50)  # after the search plugin writes its index, before offline copies it
def on_post_build(config: Any) -> None:
    index = Path(config.site_dir) / "search" / "search_index.json"
    if index.is_file():
        mark_index(index, _state.get("terms", set()))


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    for folder in _state.get("folders", []):
        server.watch(folder)
    return server
