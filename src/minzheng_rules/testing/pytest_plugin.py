"""pytest plugin: a pack's golden cases and declared invariants as test items.

Installed with minzheng-rules (entry point ``pytest11``), so whoever tests a pack gets it:

* ``pytest path/to/mypack/pack.yaml`` collects that pack;
* ``pytest --minzheng-pack NAME_OR_FOLDER`` (repeatable) or the ini option ``minzheng_packs``
  adds packs by name or folder;
* ``minzheng_collect_packs = true`` in the ini file collects every ``pack.yaml`` under the
  paths pytest walks.

Items are named ``<pack>::case::<id>`` and ``<pack>::invariant::<id>``; a failure shows expected
against got with the trace, or the shrunk household and both results. Invariants run under the
current Hypothesis profile (register a derandomized one for CI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

MANIFEST = "pack.yaml"


class PackTestFailure(Exception):
    """A case or invariant failed; the message is the readable report."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("minzheng", "minzheng-rules pack tests")
    group.addoption(
        "--minzheng-pack",
        action="append",
        default=[],
        metavar="PACK",
        help="Test this pack's golden cases and invariants (a name or a folder; repeatable).",
    )
    parser.addini("minzheng_packs", "Packs to test (names or folders).", type="linelist")
    parser.addini(
        "minzheng_collect_packs",
        "Collect every pack.yaml under the paths pytest walks.",
        type="bool",
        default=False,
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name != MANIFEST:
        return None
    config = parent.config
    if parent.session.isinitpath(file_path) or config.getini("minzheng_collect_packs"):
        return PackCollector.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the packs named by option or ini (before -k and -m deselect)."""
    named = [*config.getoption("minzheng_pack"), *config.getini("minzheng_packs")]
    for name in named:
        from minzheng_rules.packs._discovery import find_pack

        folder = find_pack(name, near=config.rootpath)
        collector = PackCollector.from_parent(session, path=folder / MANIFEST, name=str(name))
        items.extend(collector.collect())


class PackCollector(pytest.File):
    """One pack: an item per golden case and per declared invariant."""

    def collect(self) -> list[pytest.Item]:
        from minzheng_rules.packs._pack import load_pack

        pack = load_pack(self.path.parent)
        items: list[pytest.Item] = []
        for case in pack.cases:
            items.append(
                CaseItem.from_parent(
                    self, name=f"{pack.id}::case::{case.id}", pack=pack, key=case.id
                )
            )
        for inv_id in pack.definition.invariants:
            items.append(
                InvariantItem.from_parent(
                    self, name=f"{pack.id}::invariant::{inv_id}", pack=pack, key=inv_id
                )
            )
        return items


class _PackItem(pytest.Item):
    section = ""

    def __init__(self, *, pack: Any, key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pack = pack
        self.key = key

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, PackTestFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        origin = self.pack.definition.origin(self.section, self.key)
        line = origin.line - 1 if origin.line else None
        file = Path(origin.file) if origin.file != "<pack>" else self.path
        return file, line, self.name


class CaseItem(_PackItem):
    """A golden case: the pack's answer must match the expected one."""

    section = "cases"

    def runtest(self) -> None:
        from minzheng_rules.testing._cases import run_case

        case = next(c for c in self.pack.cases if c.id == self.key)
        result = run_case(self.pack, case)
        if not result.ok:
            raise PackTestFailure(
                f"golden case '{case.id}' of pack '{self.pack.id}'\n{result.report()}"
            )


class InvariantItem(_PackItem):
    """A declared invariant, checked with generated households."""

    section = "invariants"

    def runtest(self) -> None:
        from minzheng_rules.testing._invariants import check_invariant

        result = check_invariant(self.pack, self.pack.definition.invariants[self.key])
        if result.status == "skipped":
            pytest.skip(result.note)
        if not result.ok:
            raise PackTestFailure(result.report())
