"""`dg`, Dagster's project CLI, works on this project with the pinned dagster: the definitions load and list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assurance_pipeline.defs.cycle.assets import CYCLE_ASSETS

ROOT = Path(__file__).resolve().parents[2]
DG = Path(sys.executable).with_name("dg")


def dg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(DG), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_dg_check_defs_passes():
    checked = dg("check", "defs")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr


def test_dg_list_defs_lists_the_cycle_jobs_schedules_and_sensors():
    listed = dg("list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr
    defs = json.loads(listed.stdout)
    assert {a["asset_key"] for a in defs["assets"]} == {key.to_user_string() for a in CYCLE_ASSETS for key in a.keys}
    assert {j["name"] for j in defs["jobs"]} >= {"governed_cycle", "record_disposition"}
    assert {s["name"] for s in defs["schedules"]} == {"critical_tier_cycle", "high_tier_cycle", "routine_tier_cycle"}
    assert {s["name"] for s in defs["sensors"]} == {"new_decisions_sensor", "second_stage_sensor", "demo_replay_sensor", "run_values_cleanup_sensor"}
