"""The framework mapping is data, checked on load, and covers the clauses auditors ask about."""

import pytest
from pydantic import ValidationError

from assurance_pipeline.evidence.frameworks import SECTIONS, framework_mapping, parse_mapping

REQUIRED = {
    "eu_ai_act": {"Art. 9", "Art. 12", "Art. 14", "Art. 19", "Art. 26(5)-(6)", "Art. 72"},
    "nist_ai_rmf": {"GOVERN 1.5", "GOVERN 1.6", "MEASURE 2.4", "MEASURE 2.13", "MANAGE 4.1", "MANAGE 4.3"},
    "iso_42001": {"9.1", "9.2", "10.2", "A.6.2.6", "A.6.2.8"},
    "soc2": {"CC4.1", "CC4.2", "CC7.2", "CC8.1"},
}


def test_the_shipped_mapping_covers_every_required_clause_with_known_sections():
    mapping = {f.id: f for f in framework_mapping().frameworks}
    for framework, clauses in REQUIRED.items():
        assert clauses <= {c.id for c in mapping[framework].clauses}, framework
    assert all(s in SECTIONS for f in mapping.values() for c in f.clauses for s in c.sections)


@pytest.mark.parametrize("clause, message", [
    ("{id: X, title: t, serves: s, sections: [sampels]}", "unknown pack section(s) sampels"),
    ("{id: X, title: t, serves: s, sections: []}", "sections"),
    ("{id: X, title: t, sections: [seal]}", "serves"),
    ("{id: X, title: t, serves: s, sections: [seal], text: copied}", "text"),
])
def test_a_bad_clause_is_refused_naming_the_field(clause, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_mapping(f"frameworks: [{{id: f, name: F, clauses: [{clause}]}}]")
