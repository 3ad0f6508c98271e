"""The living demo: `demo_replay_sensor` adds the demo log's drift months, moved forward, as Parquet parts of its folder
source as time passes, so the tier schedules find fresh windows with the demo's problems; it never touches a real log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.defs.automation import sensors
from assurance_pipeline.defs.automation.schedules import tier_schedule
from assurance_pipeline.defs.cycle.partitions import key_window
from assurance_pipeline.defs.cycle.run import run_cycle
from assurance_pipeline.defs.resources import DecisionLogResource
from assurance_pipeline.demo.replay import PATTERN
from assurance_pipeline.sources.decision_log import DecisionLog
from assurance_pipeline.workspace import transient_workspace
from assurance_pipeline_tests.small_cycle import build_rows, write_log

ROWS = 4_000
DAYS_AGO = 3  # the demo log ends three days before "now"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo (standard, baseline, authorization, one cycle) with a log that ends DAYS_AGO days ago."""
    root = tmp_path_factory.mktemp("living-demo")
    until = (dt.datetime.now(dt.UTC) - dt.timedelta(days=DAYS_AGO)).date().isoformat()
    assert main(["demo", "--dir", str(root), "--rows", str(ROWS), "--until", until, "--json"]) == 0
    return root


def tick(source: Path, at: dt.datetime, cursor: str | None, monkeypatch) -> tuple[str, str | None]:
    monkeypatch.setattr(sensors, "now", lambda: at)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"decision_log": DecisionLogResource(uri=str(source))})
        result = sensors.demo_replay_sensor(context)
        return result.skip_message, context.cursor


def log_rows(root: Path) -> list[tuple[str, dt.datetime]]:
    with transient_workspace() as con:
        DecisionLog(str(root)).attach(con)
        return con.execute("SELECT decision_id, decided_at FROM decisions ORDER BY decided_at, decision_id").fetchall()


def expected(root: Path, after: dt.datetime, through: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """Recomputed with pyarrow: the demo log's decisions one pattern length earlier, moved forward, ids suffixed."""
    log = pq.read_table(root / "decisions.parquet", columns=["decision_id", "decided_at"])
    at = log.column("decided_at")
    mask = pc.and_(pc.greater(at, after - PATTERN), pc.less_equal(at, through - PATTERN))
    kept = log.filter(mask).to_pylist()
    return sorted(((f"{r['decision_id']}-R1", r["decided_at"] + PATTERN) for r in kept), key=lambda r: (r[1], r[0]))


def test_ticks_add_the_drift_months_moved_forward_up_to_now_once(demo: Path, tmp_path: Path, monkeypatch):
    root = tmp_path / "demo"
    root.mkdir()
    (root / "decisions.parquet").write_bytes((demo / "decisions.parquet").read_bytes())
    before = log_rows(root)
    log_end = before[-1][1]
    first_now = log_end + dt.timedelta(days=1, hours=5)

    said, cursor = tick(root, first_now, None, monkeypatch)
    added = log_rows(root)[len(before):]
    assert added == expected(root, log_end, first_now) and len(added) > 10  # about 22 a day
    assert said == f"added {len(added)} demo decisions decided after {log_end.isoformat()} through {first_now.isoformat()}"
    assert not any(decision_id in said for decision_id, _ in added)  # counts and instants only

    second_now = first_now + dt.timedelta(hours=20)
    said, next_cursor = tick(root, second_now, cursor, monkeypatch)
    rows = log_rows(root)
    assert rows[len(before):] == expected(root, log_end, second_now)  # the next slice, nothing twice
    assert len({r[0] for r in rows}) == len(rows)

    tick(root, second_now + dt.timedelta(hours=1), cursor, monkeypatch)  # a tick whose cursor was not kept: replaces its part
    assert log_rows(root)[len(before):] == expected(root, log_end, second_now + dt.timedelta(hours=1))
    assert json.loads(next_cursor)["through"] == second_now.isoformat()


def test_a_first_tick_long_after_the_log_ends_reaches_back_as_far_as_the_routine_tier(demo: Path, tmp_path: Path, monkeypatch):
    root = tmp_path / "demo"
    root.mkdir()
    (root / "decisions.parquet").write_bytes((demo / "decisions.parquet").read_bytes())
    log_end = log_rows(root)[-1][1]
    later = log_end + dt.timedelta(days=200)  # more than three pattern lengths: replayed three times over
    said, cursor = tick(root, later, None, monkeypatch)
    added = [r for r in log_rows(root) if r[1] > log_end]
    assert added and min(r[1] for r in added) > later - dt.timedelta(days=31) and max(r[1] for r in added) <= later
    assert {r[0].rsplit("-R", 1)[1] for r in added} <= {"3", "4"}  # moved by whole pattern lengths
    assert said.startswith(f"added {len(added)} demo decisions decided after {(later - dt.timedelta(days=31)).isoformat()}")


def test_it_never_adds_to_a_log_the_demo_did_not_write(tmp_path: Path, monkeypatch):
    real = tmp_path / "production"
    real.mkdir()
    write_log(real / "decisions.parquet", build_rows(planted=False))
    said, cursor = tick(real, dt.datetime.now(dt.UTC), None, monkeypatch)
    assert said == f"{real} holds no demo log written by `assurance demo`: the replay adds decisions to the demo only"
    assert cursor is None and not (real / "replay").exists()
    said, _ = tick(real / "decisions.parquet", dt.datetime.now(dt.UTC), None, monkeypatch)
    assert said.startswith("the demo replay adds Parquet parts to a folder source, and ") and "is not a folder" in said


def test_the_critical_tier_schedule_then_finds_a_fresh_window_to_assure(demo: Path, monkeypatch):
    """Turned on together, the replay feeds the day the critical tier's schedule covers, and the cycle assures it."""
    said, _ = tick(demo, dt.datetime.now(dt.UTC), None, monkeypatch)
    assert said.startswith("added ") and not said.startswith("added 0 ")
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=dt.datetime.now(dt.UTC))
        request = tier_schedule("critical")(context)
    window = key_window(request.partition_key)
    log_end = pc.max(pq.read_table(demo / "decisions.parquet", columns=["decided_at"]).column("decided_at")).as_py()
    assert window.start > log_end  # only replayed decisions are in it
    result = run_cycle(demo / "standard", str(demo), demo / "evidence", window.start.isoformat(), window.end.isoformat(), ["critical"])
    [point] = [p for p in result["decision_points"] if p["id"] == "payment_release"]
    assert point["population"] > 0 and point["sample_size"] > 0


def test_a_new_demo_log_drops_what_was_replayed_from_the_old_one_and_the_sensor_starts_over(tmp_path: Path, monkeypatch):
    from assurance_pipeline.demo.generator import write_demo

    old_end = dt.date(2026, 11, 1)
    write_demo(tmp_path, rows=1_000, until=old_end)
    at = dt.datetime(2026, 11, 4, tzinfo=dt.UTC)
    said, cursor = tick(tmp_path, at, None, monkeypatch)
    assert said.startswith("added ") and list((tmp_path / "replay").glob("*.parquet"))
    write_demo(tmp_path, rows=1_000, until=dt.date(2026, 11, 3))  # `assurance demo --until` again
    assert not (tmp_path / "replay").exists()
    new_end = log_rows(tmp_path)[-1][1]
    said, cursor = tick(tmp_path, at, cursor, monkeypatch)  # the old log's cursor
    replayed = [r for r in log_rows(tmp_path) if "-R" in r[0]]
    assert replayed and min(r[1] for r in replayed) > new_end  # from the new log's end, not the old cursor's
    assert said.startswith(f"added {len(replayed)} demo decisions decided after {new_end.isoformat()}")
