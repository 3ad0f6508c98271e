"""The population of a cycle: counts and aggregates per decision point and actor, from one scan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from assurance_pipeline.disclosure import MIN_DECISIONS_SHOWN
from assurance_pipeline.evidence.ledger import sha256_hex
from assurance_pipeline.sources.window import Window
from assurance_pipeline.sql_models import render

if TYPE_CHECKING:
    from assurance_pipeline.sources.decision_log import DecisionLog

MAX_ID_PARTS = 64  # the most scans the id check is split into before running out of memory is the user's to fix


@dataclass(frozen=True)
class ActorGroup:
    """Aggregates of the decisions one actor (at one version) executed at one decision point."""

    decision_point: str
    actor_type: str | None
    actor_id: str | None
    actor_version: str | None
    decisions: int
    costed: int
    override_known: int
    overrides: int
    id_xor: int = 0
    id_sum: int = 0


@dataclass(frozen=True)
class IdProblems:
    """Rows of one decision point that are not one decision each: no decision_id, or an id logged more than once."""

    decision_point: str
    null_ids: int
    duplicated_ids: int
    duplicated_rows: int
    examples: list[str]  # up to ten of the duplicated ids, lowest first (the ids only)


@dataclass(frozen=True)
class PopulationProfile:
    groups: list[ActorGroup]
    query: str = ""
    id_problems: list[IdProblems] = field(default_factory=list)
    cost_totals: dict[str, float | None] = field(default_factory=dict)  # per decision point; see `point_cost_totals`

    def count(self, decision_point: str) -> int:
        """Rows logged at the point in the window, whatever their ids."""
        return sum(g.decisions for g in self.groups if g.decision_point == decision_point)

    def problems(self, decision_point: str) -> IdProblems | None:
        return next((p for p in self.id_problems if p.decision_point == decision_point), None)

    def frame(self, decision_point: str) -> int:
        """The sampling frame: decisions whose id is logged exactly once. A row without an id cannot be named, and
        rows sharing an id cannot be told apart, so neither is ever sampled (a contract finding reports them)."""
        problems = self.problems(decision_point)
        excluded = problems.null_ids + problems.duplicated_rows if problems else 0
        return self.count(decision_point) - excluded

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
        """Exact population mean cost per decision (no sampling error; None where withheld) and how many decisions
        carry a cost."""
        costed = sum(g.costed for g in self.groups if g.decision_point == decision_point)
        total = self.cost_totals.get(decision_point)
        return (total / costed if costed and total is not None else None), costed

    def to_dict(self) -> dict:
        return {"groups": [g.__dict__ for g in self.groups], "query": self.query, "id_problems": [p.__dict__ for p in self.id_problems],
                "cost_totals": self.cost_totals}

    @classmethod
    def from_dict(cls, data: dict) -> PopulationProfile:
        return cls([ActorGroup(**g) for g in data["groups"]], data.get("query", ""), [IdProblems(**p) for p in data.get("id_problems", [])],
                   data.get("cost_totals", {}))


def point_cost_totals(rows: list[tuple[str, int, float]]) -> dict[str, float | None]:
    """Total cost per decision point from (point, costed, total) per actor group. Kept per point only: an actor
    group's total of one or two decisions is their cost; and withheld (None) where fewer than MIN_DECISIONS_SHOWN
    decisions of the point carry a cost, for the same reason."""
    costed: dict[str, int] = {}
    totals: dict[str, float] = {}
    for point, n, total in rows:
        costed[point] = costed.get(point, 0) + n
        totals[point] = totals.get(point, 0.0) + total
    return {point: totals[point] if n >= MIN_DECISIONS_SHOWN else None for point, n in costed.items()}


def profile_population(con: duckdb.DuckDBPyConnection, window: Window, source: DecisionLog | None = None) -> PopulationProfile:
    """Run `population_profile.sql` and `decision_ids.sql` over the `decisions` view (aggregates only leave the engine),
    or their PostgreSQL twins in the server when `source` is a PostgreSQL table."""
    if source is not None and source.postgres:
        rows, id_rows, queries = source.postgres.profile_rows(window)
        return _profile(rows, id_rows, queries)
    query = render("population_profile", window=window.predicate())
    hashes_query = id_hashes(con, window)
    shared, missing = con.execute("SELECT count(*) FILTER (NOT missing), count(*) FILTER (missing) FROM decision_id_hashes").fetchone()
    ids_query = render("decision_ids", window=window.predicate(), shared_hashes=bool(shared), missing_ids=bool(missing))
    queries = ";\n".join(q.strip() for q in (query, hashes_query, ids_query))
    return _profile(con.execute(query).fetchall(), con.execute(ids_query).fetchall(), queries)


def id_hashes(con: duckdb.DuckDBPyConnection, window: Window) -> str:
    """Run `decision_id_hashes.sql` in one scan, or, where its grouping runs out of the workspace's memory, in twice
    as many parts each time, up to MAX_ID_PARTS; returns the queries run. DuckDB's grouping spills to disk, but
    still needs memory that grows with the ids and its threads: at 256MB with 2 threads one scan held over 100M ids
    and at 192MB it did not, where two parts held. A retry costs the scans that failed; a window that fits costs
    nothing more."""
    parts = 1
    while True:
        queries = [render("decision_id_hashes", window=window.predicate(), parts=parts, part=k) for k in range(parts)]
        try:
            for query in queries:
                con.execute(query)
            return ";\n".join(q.strip() for q in queries)
        except duckdb.OutOfMemoryException:
            if parts >= MAX_ID_PARTS:
                raise
            parts *= 2


def _profile(rows: list[tuple], id_rows: list[tuple], queries: str) -> PopulationProfile:
    groups = [
        ActorGroup(
            decision_point=r[0], actor_type=r[1], actor_id=r[2], actor_version=r[3], decisions=int(r[4]),
            costed=int(r[5]), override_known=int(r[7]), overrides=int(r[8]), id_xor=int(r[11]), id_sum=int(r[12]),
        )
        for r in rows
    ]
    problems = [IdProblems(r[0], int(r[1]), int(r[2]), int(r[3]), list(r[4] or [])) for r in id_rows]
    costs = point_cost_totals([(r[0], int(r[5]), float(r[6])) for r in rows])
    return PopulationProfile(groups, queries, problems, costs)
