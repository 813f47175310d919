"""Every number in a pack carries its source: seed quotes are verbatim in the named seed."""

from pathlib import Path

import pytest

from minzheng_rules.packs._discovery import available_packs
from minzheng_rules.packs._loader import load_definition
from minzheng_rules.packs._schema import Confidence

from conftest import SEEDS


def _sources(name):
    d = load_definition(name)
    for pname, p in d.parameters.items():
        for h in p.history or ():
            yield f"{name}:{pname}@{h.since}", h.confidence, h.source
        if p.formula is not None:
            yield f"{name}:{pname}", p.confidence, p.source
    for pid, prog in d.programs.items():
        for c in prog.citations:
            yield f"{name}:{pid}", c.confidence, c.source


@pytest.mark.parametrize("name", sorted(available_packs()))
def test_every_value_has_a_source_fitting_its_confidence(name):
    for where, confidence, source in _sources(name):
        assert source is not None, where
        if confidence is Confidence.seed:
            assert source.seed and source.quote, where
        elif confidence is Confidence.published:
            assert source.document, where
        else:
            assert source.reasoning, where


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside this checkout")
@pytest.mark.parametrize("name", sorted(available_packs()))
def test_seed_quotes_are_verbatim(name):
    for where, _, source in _sources(name):
        if source.seed and source.quote:  # modelled values quote seeds as context, too
            text = (SEEDS / source.seed).read_text(encoding="utf-8")
            assert source.quote in text, f"{where}: quote not found in {source.seed}"


@pytest.mark.parametrize("name", sorted(available_packs()))
def test_published_parameter_values_name_a_document_not_the_notes(name):
    # POLICY_NOTES.md is not a source: a value it alone supports is modelled (issue 17)
    d = load_definition(name)
    for pname, p in d.parameters.items():
        entries = [(h.confidence, h.source) for h in p.history or ()]
        if p.formula is not None:
            entries.append((p.confidence, p.source))
        for confidence, source in entries:
            if confidence is Confidence.published:
                assert "POLICY_NOTES" not in source.document, f"{name}:{pname}"


@pytest.mark.parametrize("name", sorted(available_packs()))
def test_published_citations_name_a_document_not_the_notes(name):
    # the same for the citations of rules (programs, variables, tables, exclusions)
    d = load_definition(name)
    sections = [d.programs, d.variables, d.tables, d.exclusions]
    for section in sections:
        for item_id, item in section.items():
            for citation in getattr(item, "citations", None) or ():
                if citation.confidence is Confidence.published:
                    document = citation.source.document or ""
                    assert "POLICY_NOTES" not in document, f"{name}:{item_id}"


def test_seed_folder_is_found_in_ci():
    # CI runs in a fresh clone with shared/ beside it; say so loudly if it is not there
    assert Path(SEEDS).is_dir() or not (Path(__file__).parents[2] / "shared").exists()
