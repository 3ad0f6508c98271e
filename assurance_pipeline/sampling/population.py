"""The population of a cycle: counts and aggregates per decision point and actor, from one scan."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from assurance_pipeline.evidence.ledger import sha256_hex
from assurance_pipeline.sources.window import Window
from assurance_pipeline.sql_models import render


@dataclass(frozen=True)
class ActorGroup:
    """Aggregates of the decisions one actor (at one version) executed at one decision point."""

    decision_point: str
    actor_type: str | None
    actor_id: str | None
    actor_version: str | None
    decisions: int
    costed: int
    cost_total: float
    override_known: int
    overrides: int
    id_xor: int = 0
    id_sum: int = 0


@dataclass(frozen=True)
class PopulationProfile:
    groups: list[ActorGroup]
    query: str = ""

    def count(self, decision_point: str) -> int:
        return sum(g.decisions for g in self.groups if g.decision_point == decision_point)

    def points(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for g in self.groups:
            totals[g.decision_point] = totals.get(g.decision_point, 0) + g.decisions
        return totals

    def fingerprint(self, decision_point: str) -> str:
        """sha256 of `count:xor:sum` over the point's decision ids' md5_number_lower: same ids, same fingerprint."""
        groups = [g for g in self.groups if g.decision_point == decision_point]
        xor = 0
        for g in groups:
            xor ^= g.id_xor
        return sha256_hex(f"{sum(g.decisions for g in groups)}:{xor}:{sum(g.id_sum for g in groups)}")

    def mean_cost(self, decision_point: str) -> tuple[float | None, int]:
        """Exact population mean cost per decision (no sampling error) and how many decisions carry a cost."""
        groups = [g for g in self.groups if g.decision_point == decision_point]
        costed = sum(g.costed for g in groups)
        return (sum(g.cost_total for g in groups) / costed if costed else None), costed

    def to_dict(self) -> dict:
        return {"groups": [g.__dict__ for g in self.groups], "query": self.query}

    @classmethod
    def from_dict(cls, data: dict) -> PopulationProfile:
        return cls([ActorGroup(**g) for g in data["groups"]], data.get("query", ""))


def profile_population(con: duckdb.DuckDBPyConnection, window: Window) -> PopulationProfile:
    """Run `population_profile.sql` over the `decisions` view (aggregates only leave the engine)."""
    query = render("population_profile", window=window.predicate())
    rows = con.execute(query).fetchall()
    groups = [
        ActorGroup(
            decision_point=r[0], actor_type=r[1], actor_id=r[2], actor_version=r[3], decisions=int(r[4]),
            costed=int(r[5]), cost_total=float(r[6]), override_known=int(r[7]), overrides=int(r[8]),
            id_xor=int(r[11]), id_sum=int(r[12]),
        )
        for r in rows
    ]
    return PopulationProfile(groups, query)
