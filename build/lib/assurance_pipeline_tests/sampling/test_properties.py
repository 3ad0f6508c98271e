"""Property-based tests (hypothesis): selection ignores row order and file layout; plans are monotone."""

import datetime as dt
import hashlib
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assurance_pipeline.sampling.cycle_plan import PointPlan, SamplingPlan
from assurance_pipeline.sampling.plans import attribute_sample_size
from assurance_pipeline.sampling.population import profile_population
from assurance_pipeline.sampling.selection import draw_sample
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.sources.window import Window
from assurance_pipeline.workspace import transient_workspace

POINTS = {"alpha": 25, "beta": 40, "gamma": 500}  # gamma's population (about 80) is smaller than its sample
KEY = b"k" * 64
WINDOW = Window.parse("2026-01-01", "2026-01-31")


def _rows() -> list[dict]:
    rng = random.Random(1)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [
        {"decision_id": f"D{i:05d}", "decision_point": rng.choice(list(POINTS)), "decided_at": start + dt.timedelta(hours=i),
         "actor_type": "agent", "actor_id": "bot", "amount": rng.random() * 100}
        for i in range(240)
    ]


ROWS = _rows()
PLAN = SamplingPlan("seed-for-properties", "stratified-keyed-sha256-lowest-n/v1", [
    PointPlan(point, "high", 0.95, 0.05, 0.0, size, 0, sum(r["decision_point"] == point for r in ROWS),
              min(size, sum(r["decision_point"] == point for r in ROWS)))
    for point, size in POINTS.items()
])


def _draw(source: str) -> dict[str, tuple[list[str], list[str]]]:
    with transient_workspace() as con:
        DecisionLog(source).attach(con)
        selected = draw_sample(con, PLAN, WINDOW, KEY)
    return {p: (s.decision_ids, s.row_fingerprints) for p, s in selected.items()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("reference") / "log.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    return _draw(str(path))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.randoms(use_true_random=False), cuts=st.lists(st.integers(1, len(ROWS) - 1), max_size=4, unique=True))
def test_selection_is_the_same_under_any_row_order_and_any_split_into_files(reference, tmp_path_factory, order, cuts):
    shuffled = list(ROWS)
    order.shuffle(shuffled)
    folder = tmp_path_factory.mktemp("split")
    bounds = [0, *sorted(cuts), len(shuffled)]
    for n, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        pq.write_table(pa.Table.from_pylist(shuffled[lo:hi]), folder / f"part-{n}.parquet")
    assert _draw(str(folder)) == reference


def test_the_reference_draw_takes_each_points_size_or_its_whole_population(reference):
    for point in PLAN.points:
        assert len(reference[point.decision_point][0]) == point.sample_size
    assert PLAN.point("gamma").whole_population


rates = st.decimals(min_value="0.01", max_value="0.20", places=3).map(float)
confidences = st.decimals(min_value="0.80", max_value="0.99", places=3).map(float)


@settings(max_examples=60, deadline=None)
@given(low=confidences, high=confidences, tolerable=rates, expected_share=st.sampled_from([0, 0.1, 0.25, 0.5]))
def test_a_higher_confidence_never_needs_a_smaller_sample(low, high, tolerable, expected_share):
    low, high = sorted((low, high))
    expected = round(tolerable * expected_share, 4)
    assert attribute_sample_size(low, tolerable, expected).sample_size <= attribute_sample_size(high, tolerable, expected).sample_size


@settings(max_examples=60, deadline=None)
@given(confidence=confidences, a=rates, b=rates, expected=st.sampled_from([0.0, 0.005]))
def test_a_higher_tolerable_rate_never_needs_a_larger_sample(confidence, a, b, expected):
    small, large = sorted((a, b))  # expected (at most 0.005) stays below the smallest rate (0.01)
    assert attribute_sample_size(confidence, large, expected).sample_size <= attribute_sample_size(confidence, small, expected).sample_size


def _lowest_by_hand(rows: list[dict], plan: SamplingPlan) -> dict[str, list[str]]:
    """The definition, in Python: per point, the ids logged exactly once in the window, ranked by sha256(seed:id)."""
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["decision_id"] is not None and WINDOW.start <= r["decided_at"] < WINDOW.end:
            counts[r["decision_point"], r["decision_id"]] = counts.get((r["decision_point"], r["decision_id"]), 0) + 1
    lowest = {}
    for p in plan.points:
        frame = [i for (point, i), n in counts.items() if point == p.decision_point and n == 1]
        lowest[p.decision_point] = sorted(frame, key=lambda i: hashlib.sha256(f"{plan.seed}:{i}".encode()).hexdigest())[:p.sample_size]
    return lowest


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(copies=st.lists(st.integers(0, 3), min_size=len(ROWS), max_size=len(ROWS)), seed=st.text(min_size=1, max_size=8),
       nulls=st.sets(st.integers(0, len(ROWS) - 1), max_size=20))
def test_ids_logged_more_than_once_or_not_at_all_are_never_drawn_and_the_rest_are_the_lowest(tmp_path_factory, copies, seed, nulls):
    """Whatever ids are logged twice or more (copies side by side in the ranking, straddling the cut or not) and
    whichever rows lack an id, the draw is the lowest n of the ids logged once, as the definition computes them."""
    rows = [{**r, "decision_id": None if i in nulls else r["decision_id"]} for i, r in enumerate(ROWS)]
    rows += [{**r, "amount": -1.0} for r, k in zip(rows, copies, strict=True) for _ in range(k) if r["decision_id"] is not None]
    path = tmp_path_factory.mktemp("dups") / "log.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    plan = SamplingPlan(seed, PLAN.algorithm, PLAN.points)
    with transient_workspace() as con:
        log = DecisionLog(str(path))
        log.attach(con)
        selected = draw_sample(con, plan, WINDOW, KEY, profile_population(con, WINDOW, log), log)
    assert {p: s.decision_ids for p, s in selected.items()} == _lowest_by_hand(rows, plan)
