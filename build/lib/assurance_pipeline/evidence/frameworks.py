"""The framework mapping: which section of a cycle's evidence pack serves which clause of the EU AI Act, NIST AI RMF,
ISO/IEC 42001 and SOC 2. Kept as data (`frameworks.yaml`) so a compliance team can extend it without code; checked
here so a typo in a section name fails the tests, not the pack a board reads."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

# The sections of index.html, by anchor, with the heading each carries.
SECTIONS = {
    "decision": "The decision",
    "changes": "What changed since the last cycle",
    "open-findings": "Open findings and their owners",
    "standard": "The standard",
    "sampling": "Sampling plan and how to re-perform it",
    "conformance": "Conformance per decision point",
    "outcomes": "Outcome Evidence",
    "drift": "Drift tests against their floors",
    "trend": "Outcomes across cycles",
    "findings": "Findings and their dispositions",
    "rules": "The go-live decision rules",
    "frameworks": "Framework mapping",
    "seal": "What seals this pack",
}


class Clause(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    title: str = Field(min_length=1, max_length=80)  # a short title in our words, never the framework's text
    serves: str = Field(min_length=1)
    sections: list[str] = Field(min_length=1)

    @field_validator("sections")
    @classmethod
    def _known_sections(cls, sections: list[str]) -> list[str]:
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            raise ValueError(f"unknown pack section(s) {', '.join(unknown)}; use one of {', '.join(SECTIONS)}")
        return sections


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    clauses: list[Clause] = Field(min_length=1)


class FrameworkMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    frameworks: list[Framework] = Field(min_length=1)


def parse_mapping(text: str) -> FrameworkMapping:
    return FrameworkMapping.model_validate(yaml.safe_load(text))


@cache
def framework_mapping() -> FrameworkMapping:
    """The mapping shipped with the package."""
    return parse_mapping(resources.files("assurance_pipeline.evidence").joinpath("frameworks.yaml").read_text(encoding="utf-8"))
