"""Build the site from Python (``minzheng docs build``) with a chosen set of packs and date."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from minzheng_rules.docsgen._sources import ENV_DATE, ENV_PACKS


@contextmanager
def _env(values: dict[str, str | None]) -> Iterator[None]:
    """Set environment variables for the build's hook, and put the old values back."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def find_config(start: Path | None = None) -> Path:
    """``mkdocs.yml`` in the current folder or the nearest parent (a source checkout)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "mkdocs.yml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "no mkdocs.yml here or above; run from a source checkout or pass --config"
    )


def build_site(
    out: str | Path = "site",
    packs: Sequence[str | Path] | None = None,
    on: dt.date | None = None,
    config_file: str | Path | None = None,
    strict: bool = True,
) -> Path:
    """Run ``mkdocs build`` into ``out``; ``packs`` picks packs (names or folders, default
    all), ``on`` the date of the "current" values (default today). Returns the site folder."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config_path = Path(config_file) if config_file else find_config()
    site_dir = Path(out).resolve()
    env: dict[str, str | None] = {}  # unset arguments leave the environment as it is
    if packs:
        env[ENV_PACKS] = os.pathsep.join(str(p) for p in packs)
    if on is not None:
        env[ENV_DATE] = on.isoformat()
    with _env(env):
        config = load_config(str(config_path), site_dir=str(site_dir), strict=strict)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        finally:
            config.plugins.on_shutdown()
    return site_dir
