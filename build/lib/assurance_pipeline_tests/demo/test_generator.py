"""The demo generator: deterministic, well-formed, clean at go-live and drifting exactly as advertised."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import sqlglot
import yaml
from sqlglot import exp

from assurance_pipeline.demo.generator import INJECTED_PROBLEMS, DemoPaths, write_demo
from assurance_pipeline.standard.models import LOG_COLUMNS

ROWS = 20_000
POINTS = {"payment_release", "refund_decision", "vendor_onboarding", "access_provisioning"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return write_demo(tmp_path_factory.mktemp("demo"), rows=ROWS, seed=7)


@pytest.fixture(scope="module")
def con(demo: DemoPaths) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(f"CREATE VIEW d AS SELECT * FROM read_parquet('{demo.log_path.as_posix()}')")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def points(demo: DemoPaths) -> dict[str, dict]:
    files = sorted((demo.standard_dir / "decision_points").glob("*.yaml"))
    loaded = [yaml.safe_load(f.read_text(encoding="utf-8")) for f in files]
    return {p["id"]: p for p in loaded}


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def _ts(day: dt.date) -> str:
    return f"TIMESTAMPTZ '{day.isoformat()} 00:00:00+00'"


def _golive(demo: DemoPaths) -> str:
    return f"decided_at >= {_ts(demo.golive_from)} AND decided_at < {_ts(demo.golive_to + dt.timedelta(days=1))}"


def _drift(demo: DemoPaths) -> str:
    return f"decided_at >= {_ts(demo.drift_from)} AND decided_at < {_ts(demo.drift_to + dt.timedelta(days=1))}"


def _deviations(point: dict, condition_id: str) -> str:
    cond = next(c for c in point["conditions"] if c["id"] == condition_id)
    return f"count(*) FILTER (WHERE ({cond['when']}) AND NOT coalesce(({cond['require']}), false))"


# ---------------------------------------------------------------------------------------------- files


def test_generation_is_deterministic(tmp_path: Path, demo: DemoPaths) -> None:
    again = write_demo(tmp_path / "again", rows=ROWS, seed=7)
    first = sorted(p.relative_to(demo.log_path.parent) for p in demo.log_path.parent.rglob("*") if p.is_file())
    second = sorted(p.relative_to(again.log_path.parent) for p in again.log_path.parent.rglob("*") if p.is_file())
    assert first == second
    assert len(first) == 6  # standard.yaml, four decision points, the log
    for rel in first:
        assert (demo.log_path.parent / rel).read_bytes() == (again.log_path.parent / rel).read_bytes(), rel


def test_another_seed_gives_another_log(tmp_path: Path, demo: DemoPaths) -> None:
    other = write_demo(tmp_path / "other", rows=ROWS, seed=8)
    assert other.log_path.read_bytes() != demo.log_path.read_bytes()


def test_demo_paths_and_periods(demo: DemoPaths) -> None:
    assert demo.standard_dir.is_dir() and demo.log_path.is_file()
    assert (demo.golive_from, demo.golive_to) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert (demo.drift_from, demo.drift_to) == (dt.date(2026, 5, 1), dt.date(2026, 6, 30))
    assert len(INJECTED_PROBLEMS) >= 4 and all(isinstance(p, str) and p for p in INJECTED_PROBLEMS)


def test_standard_yaml(demo: DemoPaths, points: dict[str, dict]) -> None:
    header = yaml.safe_load((demo.standard_dir / "standard.yaml").read_text(encoding="utf-8"))
    assert header["name"] == "Acme decision standard"
    assert header["version"] == "1.0" and header["owner"] == "CFO office"
    assert header["risk_tiers"] == {
        "critical": {"confidence": 0.95, "tolerable_deviation_rate": 0.02, "expected_deviation_rate": 0.0},
        "high": {"confidence": 0.95, "tolerable_deviation_rate": 0.05, "expected_deviation_rate": 0.0},
        "routine": {"confidence": 0.90, "tolerable_deviation_rate": 0.10, "expected_deviation_rate": 0.0},
    }
    actors = {a["id"]: a for a in header["actors"]}
    assert actors["refund-agent"]["versions"] == ["4.1", "4.2"]
    assert set(points) == POINTS
    tiers = {p: points[p]["risk_tier"] for p in points}
    assert tiers == {"payment_release": "critical", "refund_decision": "high",
                     "vendor_onboarding": "high", "access_provisioning": "routine"}
    pr1 = next(c for c in points["payment_release"]["conditions"] if c["id"] == "PR-1")
    assert pr1["when"] == "hold_action = 'release' AND amount > 10000"
    assert pr1["require"] == "legal_signoff_by IS NOT NULL" and pr1["severity"] == "critical"
    assert points["refund_decision"]["cost"] == {"budget_per_decision": 0.08}
    for point in points.values():
        for key in ("id", "title", "meaning", "authority", "owner", "risk_tier", "contract", "conditions",
                    "outcome_evidence", "evidence_fields"):
            assert point.get(key), (point["id"], key)
        assert 2 <= len(point["conditions"]) <= 3
        assert 1 <= len(point["outcome_evidence"]) <= 2
        assert not set(point["contract"]) & set(LOG_COLUMNS)


def test_standard_loads_with_the_project_loader(demo: DemoPaths) -> None:
    loading = pytest.importorskip("assurance_pipeline.standard.loading")
    standard = loading.load_standard(demo.standard_dir)
    assert set(standard.decision_points) == POINTS


def test_columns_shared_between_points_have_one_type(points: dict[str, dict]) -> None:
    seen: dict[str, str] = {}
    for point in points.values():
        for name, spec in point["contract"].items():
            assert seen.setdefault(name, spec["type"]) == spec["type"], name


def test_every_expression_parses_uses_known_columns_and_runs(con, points: dict[str, dict]) -> None:
    for pid, point in points.items():
        known = set(point["contract"]) | set(LOG_COLUMNS)
        expressions = [c[k] for c in point["conditions"] for k in ("when", "require")]
        metrics = [o["metric"] for o in point["outcome_evidence"]]
        for text in expressions + metrics:
            tree = sqlglot.parse_one(text, dialect="duckdb")
            used = {c.name for c in tree.find_all(exp.Column)}
            assert used <= known, (pid, text, used - known)
        for cond in point["conditions"]:
            sql = (f"SELECT {_deviations(point, cond['id'])}, count(*) FILTER (WHERE {cond['when']}) "
                   f"FROM d WHERE decision_point = '{pid}'")
            deviations, in_scope = con.execute(sql).fetchone()
            assert in_scope > 0, (pid, cond["id"])
            assert deviations >= 0
        for oe in point["outcome_evidence"]:
            value = _one(con, f"SELECT {oe['metric']} FROM d WHERE decision_point = '{pid}'")
            assert value is not None, (pid, oe["id"])
        assert set(point["evidence_fields"]) <= known


# ---------------------------------------------------------------------------------------------- log


def test_row_count_columns_and_date_range(demo: DemoPaths, con, points: dict[str, dict]) -> None:
    schema = pq.read_schema(demo.log_path)
    assert list(schema.names)[: len(LOG_COLUMNS)] == list(LOG_COLUMNS)
    for point in points.values():
        assert set(point["contract"]) <= set(schema.names)
    assert str(schema.field("decided_at").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("decision_id").type) == "string"
    assert pq.read_metadata(demo.log_path).num_rows == ROWS
    lo, hi = con.execute("SELECT min(decided_at), max(decided_at) FROM d").fetchone()
    assert lo >= dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert hi < dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
    assert lo.date() <= dt.date(2026, 1, 2) and hi.date() >= dt.date(2026, 6, 29)


def test_sorted_unique_ids_and_required_values(con) -> None:
    assert _one(con, "SELECT count(DISTINCT decision_id) FROM d") == ROWS
    nulls = con.execute(
        "SELECT count(*) FILTER (WHERE decision_id IS NULL OR decision_point IS NULL OR decided_at IS NULL "
        "OR actor_type IS NULL OR actor_id IS NULL) FROM d").fetchone()[0]
    assert nulls == 0
    assert _one(con, "SELECT count(*) FILTER (WHERE actor_type NOT IN ('human', 'agent', 'system')) FROM d") == 0
    unsorted = _one(con, "SELECT count(*) FROM (SELECT decided_at < lag(decided_at) OVER () AS back FROM d) WHERE back")
    assert unsorted == 0
    assert _one(con, "SELECT min(decision_id) FROM d") == "D0000001"


def test_point_mix(con) -> None:
    shares = dict(con.execute("SELECT decision_point, count(*) / sum(count(*)) OVER () FROM d GROUP BY 1").fetchall())
    expected = {"refund_decision": 0.35, "payment_release": 0.25, "vendor_onboarding": 0.15,
                "access_provisioning": 0.25}
    for pid, share in expected.items():
        assert abs(shares[pid] - share) < 0.02, (pid, shares[pid])
    assert set(shares) == POINTS | {"loan_waiver"}


def test_rows_honour_their_contract(con, points: dict[str, dict]) -> None:
    arrow_types = {"string": "VARCHAR", "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN",
                   "timestamp": "TIMESTAMP WITH TIME ZONE"}
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE d)").fetchall())
    for pid, point in points.items():
        for name, spec in point["contract"].items():
            assert types[name] == arrow_types[spec["type"]], (pid, name)
            checks = []
            if not spec.get("nullable", False):
                checks.append(f"{name} IS NULL")
            if "min" in spec:
                checks.append(f"{name} < {spec['min']}")
            if "max" in spec:
                checks.append(f"{name} > {spec['max']}")
            if "isin" in spec:
                allowed = ", ".join(f"'{v}'" for v in spec["isin"])
                checks.append(f"{name} NOT IN ({allowed})")
            if checks:
                bad = _one(con, f"SELECT count(*) FROM d WHERE decision_point = '{pid}' AND ({' OR '.join(checks)})")
                assert bad == 0, (pid, name)
            # a point's own columns are null on every other point's rows
            foreign = _one(con, f"SELECT count(*) FROM d WHERE decision_point <> '{pid}' AND {name} IS NOT NULL")
            assert foreign == 0, (pid, name)


def test_only_registered_actors_except_the_injected_beta(demo: DemoPaths, con) -> None:
    header = yaml.safe_load((demo.standard_dir / "standard.yaml").read_text(encoding="utf-8"))
    registered = {a["id"]: (a["type"], a.get("versions")) for a in header["actors"]}
    rows = con.execute(
        "SELECT actor_id, actor_type, actor_version, min(decided_at) FROM d GROUP BY ALL").fetchall()
    unregistered = []
    for actor_id, actor_type, version, first in rows:
        assert actor_id in registered, actor_id
        assert registered[actor_id][0] == actor_type, actor_id
        versions = registered[actor_id][1]
        if versions is not None and version not in versions:
            unregistered.append((actor_id, version, first))
    assert [(a, v) for a, v, _ in unregistered] == [("refund-agent", "4.3-beta")]
    assert unregistered[0][2] >= dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)


# ---------------------------------------------------------------------------------------------- story


def test_pr1_skipped_check_only_in_the_drift_period(demo: DemoPaths, con, points: dict[str, dict]) -> None:
    dev = _deviations(points["payment_release"], "PR-1")
    where = "decision_point = 'payment_release'"
    golive = con.execute(f"SELECT {dev}, count(*) FROM d WHERE {where} AND {_golive(demo)}").fetchone()
    drift = con.execute(f"SELECT {dev}, count(*) FROM d WHERE {where} AND {_drift(demo)}").fetchone()
    assert golive[0] == 0 and golive[1] > 0
    assert drift[0] / drift[1] > 0.03


def test_payment_release_is_otherwise_clean(demo: DemoPaths, con, points: dict[str, dict]) -> None:
    point = points["payment_release"]
    for cond in point["conditions"]:
        if cond["id"] != "PR-1":
            sql = f"SELECT {_deviations(point, cond['id'])} FROM d WHERE decision_point = 'payment_release'"
            assert _one(con, sql) == 0, cond["id"]


def test_go_live_is_clean_and_other_points_stay_clean(demo: DemoPaths, con, points: dict[str, dict]) -> None:
    for pid, point in points.items():
        for period, clause in (("golive", _golive(demo)), ("drift", _drift(demo))):
            if period == "drift" and pid == "payment_release":
                continue
            n = _one(con, f"SELECT count(*) FROM d WHERE decision_point = '{pid}' AND {clause}")
            total = sum(
                _one(con, f"SELECT {_deviations(point, c['id'])} FROM d WHERE decision_point = '{pid}' AND {clause}")
                for c in point["conditions"]
            )
            assert total / n <= 0.004, (pid, period, total, n)
            for oe in point["outcome_evidence"]:
                value = _one(con, f"SELECT {oe['metric']} FROM d WHERE decision_point = '{pid}' AND {clause}")
                assert oe["expect"].get("min", float("-inf")) <= value <= oe["expect"].get("max", float("inf")), (
                    pid, period, oe["id"], value)


def test_refund_cost_creep(demo: DemoPaths, con, points: dict[str, dict]) -> None:
    budget = points["refund_decision"]["cost"]["budget_per_decision"]
    where = "decision_point = 'refund_decision'"
    golive = _one(con, f"SELECT avg(cost) FROM d WHERE {where} AND {_golive(demo)}")
    drift = _one(con, f"SELECT avg(cost) FROM d WHERE {where} AND {_drift(demo)}")
    assert golive <= budget
    assert drift > budget and drift > 1.3 * golive
    june = _one(con, f"SELECT avg(cost) FROM d WHERE {where} AND decided_at >= {_ts(dt.date(2026, 6, 15))}")
    assert june > 0.11


def test_costs_within_budget_at_go_live(demo: DemoPaths, con, points: dict[str, dict]) -> None:
    for pid, point in points.items():
        budget = point["cost"]["budget_per_decision"]
        worst = _one(con, f"SELECT max(cost) FROM d WHERE decision_point = '{pid}' AND {_golive(demo)}")
        assert worst <= budget, (pid, worst)


def test_unregistered_beta_only_from_mid_may(demo: DemoPaths, con) -> None:
    first, n = con.execute(
        "SELECT min(decided_at), count(*) FROM d WHERE actor_version = '4.3-beta'").fetchone()
    assert first >= dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    late_refunds = _one(con, "SELECT count(*) FROM d WHERE decision_point = 'refund_decision' "
                             f"AND decided_at >= {_ts(dt.date(2026, 5, 15))}")
    assert 0.10 < n / late_refunds < 0.20


def test_unknown_decision_point_in_june(con) -> None:
    n, lo, hi = con.execute(
        "SELECT count(*), min(decided_at), max(decided_at) FROM d WHERE decision_point = 'loan_waiver'").fetchone()
    assert n == 25
    assert lo >= dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    assert hi < dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)


def test_too_few_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_demo(tmp_path, rows=10)


def test_vendor_behaviour_drift_only_in_the_drift_period(demo: DemoPaths, con) -> None:
    """(e) From May the agent approves vendors with incomplete documents, which it never did at go-live."""
    approvals_without_documents = (
        "SELECT count(*) FILTER (WHERE onboarding_action = 'approve' AND NOT documents_complete) / count(*) "
        "FROM d WHERE decision_point = 'vendor_onboarding' AND actor_type = 'agent' AND "
    )
    assert _one(con, approvals_without_documents + _golive(demo)) == 0
    assert _one(con, approvals_without_documents + _drift(demo)) > 0.05
    approve_share = "SELECT avg(CASE WHEN onboarding_action = 'approve' THEN 1.0 ELSE 0.0 END) FROM d WHERE decision_point = 'vendor_onboarding' AND "
    assert _one(con, approve_share + _drift(demo)) - _one(con, approve_share + _golive(demo)) > 0.10


def test_until_moves_every_instant_of_the_same_decisions_so_the_log_ends_that_day(tmp_path):
    import datetime as dt

    import pyarrow.parquet as pq

    from assurance_pipeline.demo.generator import DRIFT_FROM, LOG_END, write_demo

    plain = write_demo(tmp_path / "plain", rows=2_000)
    moved = write_demo(tmp_path / "moved", rows=2_000, until=dt.date(2026, 11, 29))
    shift = dt.date(2026, 11, 29) - LOG_END
    a, b = pq.read_table(plain.log_path).to_pylist(), pq.read_table(moved.log_path).to_pylist()
    assert len(a) == len(b) and moved.drift_from == DRIFT_FROM + shift and moved.drift_to == dt.date(2026, 11, 29)
    for before, after in zip(a, b, strict=True):
        for column, value in before.items():
            if isinstance(value, dt.datetime):
                assert after[column] == value + shift, column  # decided_at and the inputs that are instants
            else:
                assert after[column] == value, column
    assert max(r["decided_at"] for r in b).date() == dt.date(2026, 11, 29)
