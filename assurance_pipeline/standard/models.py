"""The authored standard as typed models: what the business signed off, validated in business words."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Identifier = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=64)
ColumnName = str
TierName = Literal["critical", "high", "routine"]
Severity = Literal["critical", "high", "medium", "low"]
ColumnType = Literal["string", "integer", "float", "boolean", "timestamp"]
SEVERITY_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}

# The decision log's own columns (README: The decision log); conditions may use them, contracts may not redefine them.
LOG_COLUMNS: dict[str, ColumnType] = {
    "decision_id": "string",
    "decision_point": "string",
    "decided_at": "timestamp",
    "actor_type": "string",
    "actor_id": "string",
    "actor_version": "string",
    "reviewed_by": "string",
    "overridden": "boolean",
    "cost": "float",
}
REQUIRED_LOG_COLUMNS = ("decision_id", "decision_point", "decided_at", "actor_type", "actor_id")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Draftable(_Strict):
    """An item `assurance init` may draft: `draft: true` until a person reviews it (authorize and cycle refuse a
    standard with drafts left), `draft_evidence` what it was drafted from (shares of rows, support; never a row)."""

    draft: bool = False
    draft_evidence: dict[str, Any] | None = None


class RiskTier(_Draftable):
    """How hard a tier is tested: attribute-sampling parameters of the AICPA guide."""

    confidence: float = Field(gt=0, lt=1)
    tolerable_deviation_rate: float = Field(gt=0, lt=1)
    expected_deviation_rate: float = Field(default=0.0, ge=0, lt=1)
    two_stage: bool = False  # expand on signal: a second stage on exactly one first-stage deviation (ISO 28596)

    @model_validator(mode="after")
    def _expected_below_tolerable(self) -> RiskTier:
        if self.expected_deviation_rate >= self.tolerable_deviation_rate:
            raise ValueError("expected_deviation_rate must be below tolerable_deviation_rate")
        if self.two_stage and self.expected_deviation_rate:
            raise ValueError("two_stage plans accept no deviation in their first stage: set expected_deviation_rate to 0")
        return self


DEFAULT_TIERS: dict[str, RiskTier] = {
    "critical": RiskTier(confidence=0.95, tolerable_deviation_rate=0.02),
    "high": RiskTier(confidence=0.95, tolerable_deviation_rate=0.05),
    "routine": RiskTier(confidence=0.90, tolerable_deviation_rate=0.10),
}


class Actor(_Draftable):
    """Who may execute decisions; `versions` None means any version."""

    id: str = Field(min_length=1)
    type: Literal["human", "agent", "system"]
    versions: list[str] | None = None

    @field_validator("versions", mode="before")
    @classmethod
    def _versions_as_text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value


class DispositionGrace(_Strict):
    """Days a finding may await a disposition, by its decision point's risk tier, before it is overdue."""

    critical: int = Field(default=3, ge=0)
    high: int = Field(default=7, ge=0)
    routine: int = Field(default=14, ge=0)


Role = Literal["owner", "authorizer", "reviewer"]


class Person(_Strict):
    """Someone who may sign: an `authorizer` signs off the standard; anyone registered may propose a change or
    dispose of a finding. `actors` are the actor ids this person executes decisions as (separation of duties:
    nobody authorizes a change that registers or widens an actor they act as)."""

    name: str = Field(min_length=1, max_length=200)
    role: Role
    public_key: str
    actors: list[str] = Field(default_factory=list)

    @field_validator("public_key")
    @classmethod
    def _an_ed25519_key(cls, value: str) -> str:
        from assurance_pipeline.evidence.signing import parse_public_key

        parse_public_key(value)
        return value


class StandardHeader(_Draftable):
    """standard.yaml: the standard's identity, its risk tiers, its registered actors, the people who sign and the
    disposition grace."""

    name: str = Field(min_length=1)
    version: str
    owner: str = Field(min_length=1)
    risk_tiers: dict[TierName, RiskTier] = Field(default_factory=dict)
    actors: list[Actor] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    disposition_grace_days: DispositionGrace = Field(default_factory=DispositionGrace)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @model_validator(mode="after")
    def _fill_default_tiers(self) -> StandardHeader:
        merged = {**DEFAULT_TIERS, **self.risk_tiers}
        object.__setattr__(self, "risk_tiers", merged)
        return self

    @model_validator(mode="after")
    def _people_are_distinct(self) -> StandardHeader:
        for what, values in (("name", [p.name for p in self.people]), ("public_key", [p.public_key for p in self.people])):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"people: two people share the {what} {dupes[0]!r}; each person has their own")
        return self

    def actor(self, actor_id: str) -> Actor | None:
        return next((a for a in self.actors if a.id == actor_id), None)


class ContractColumn(_Draftable):
    """One column of a decision point's data contract."""

    type: ColumnType
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    isin: list[Any] | None = None

    @model_validator(mode="after")
    def _range_fits_type(self) -> ContractColumn:
        if (self.min is not None or self.max is not None) and self.type not in ("integer", "float"):
            raise ValueError(f"min/max apply to integer or float columns, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Condition(_Draftable):
    """A DCT condition: wherever `when` holds, `require` must hold."""

    id: str = Identifier
    title: str = Field(min_length=1)
    when: str = "TRUE"
    require: str = Field(min_length=1)
    severity: Severity


class Expectation(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _has_a_bound(self) -> Expectation:
        if self.min is None and self.max is None:
            raise ValueError("expect needs min and/or max")
        return self

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class OutcomeEvidence(_Strict):
    """A metric traceable to the business case: by default computed over every decision of the window (exact,
    aggregates only); `over: sample` computes it over the audit sample, with a confidence interval."""

    id: str = Identifier
    title: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    expect: Expectation
    over: Literal["window", "sample"] = "window"


class Cost(_Strict):
    budget_per_decision: float = Field(ge=0)


class DriftFloors(_Strict):
    """Materiality: the smallest effect of each drift kind the point's owners want surfaced. A significant shift
    below its floor is not a finding, so a tiny shift in a large sample does not reach the owner's desk."""

    wasserstein_sd: float = Field(default=0.10, gt=0)  # a number's distribution moved, in go-live SDs
    jensen_shannon: float = Field(default=0.05, gt=0, le=1)  # base 2: a 50/50 mix moving 10 points is 0.085
    disagreement: float = Field(default=0.05, gt=0, le=1)  # rise in the share disagreeing with the go-live rules
    override_rate: float = Field(default=0.05, gt=0, le=1)  # rise in the human override rate


class DecisionPoint(_Draftable):
    """A governed decision point: meaning, authority, risk tier, contract, conditions, outcome evidence."""

    id: str = Identifier
    title: str = Field(min_length=1)
    meaning: str = Field(min_length=1)
    authority: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    risk_tier: TierName
    contract: dict[str, ContractColumn] = Field(default_factory=dict)
    conditions: list[Condition] = Field(default_factory=list)
    outcome_evidence: list[OutcomeEvidence] = Field(default_factory=list)
    cost: Cost | None = None
    evidence_fields: list[str] = Field(default_factory=list)
    decision_field: str | None = None  # the column holding what was decided (for decision drift)
    input_fields: list[str] | None = None  # what the decision is made from (default: typed contract columns)
    drift_floors: DriftFloors = Field(default_factory=DriftFloors)

    @model_validator(mode="after")
    def _names_are_consistent(self) -> DecisionPoint:
        first_spelling = {name: name for name in LOG_COLUMNS}  # DuckDB, like SQL, does not tell names apart by case
        for name in self.contract:
            if name in LOG_COLUMNS:
                raise ValueError(f"contract: column '{name}' is a standard log column and cannot be redefined")
            if not name.replace("_", "a").isalnum() or not name[0].isalpha():
                raise ValueError(f"contract: column {name!r} must be a plain name (letters, digits, _)")
            other = first_spelling.setdefault(name.lower(), name)
            if other != name:
                whose = "the standard log column" if other in LOG_COLUMNS else "column"
                raise ValueError(f"contract: column '{name}' differs only in case from {whose} '{other}'; column names ignore case")
        for field, ids in (("conditions", [c.id for c in self.conditions]), ("outcome_evidence", [o.id for o in self.outcome_evidence])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{field}: duplicate id {dupes[0]}")
        for name in self.evidence_fields:
            if name not in self.contract and name not in LOG_COLUMNS:
                raise ValueError(f"evidence_fields: '{name}' is not a contract or log column")
        for field, names in (("decision_field", [self.decision_field] if self.decision_field else []), ("input_fields", self.input_fields or [])):
            for name in names:
                if name not in self.contract:
                    raise ValueError(f"{field}: '{name}' is not a contract column")
        return self

    def drift_inputs(self) -> dict[str, ContractColumn]:
        """The columns drift is tested on: the declared inputs, else every number, flag or category of the contract."""
        names = self.input_fields if self.input_fields is not None else [
            n for n, c in self.contract.items() if c.type in ("integer", "float", "boolean") or c.isin is not None
        ]
        return {n: self.contract[n] for n in names if n != self.decision_field}

    def columns(self) -> dict[str, ColumnType]:
        """Every column an expression of this point may use."""
        return {**LOG_COLUMNS, **{name: col.type for name, col in self.contract.items()}}


class Standard(_Strict):
    """The whole standard as loaded from its folder."""

    header: StandardHeader
    decision_points: dict[str, DecisionPoint]
    point_files: dict[str, str] = Field(default_factory=dict, exclude=True)  # id -> its file, as messages name it

    def tier(self, point: DecisionPoint) -> RiskTier:
        return self.header.risk_tiers[point.risk_tier]

    def points_in_tiers(self, tiers: list[str] | None) -> list[DecisionPoint]:
        return [p for p in self.decision_points.values() if not tiers or p.risk_tier in tiers]

    def columns(self) -> set[str]:
        """Every log column an expression of any of its points may use: all a copy of the log needs to hold."""
        return {name for point in self.decision_points.values() for name in point.columns()}
