"""Every CLI failure is one line on stderr (`assurance: error: ...`), the documented exit code, no
traceback, and nothing appended to the evidence ledger (the README (Commands))."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.demo.generator import DemoPaths, write_demo
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.standard.integrity import authorize

ASSURANCE = Path(sys.executable).with_name("assurance")
PR = "decision_points/payment_release.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return write_demo(tmp_path_factory.mktemp("demo"), rows=2_000)


@pytest.fixture(scope="module")
def store(demo: DemoPaths, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An evidence store holding the demo standard's authorization (one ledger entry, no cycle yet)."""
    base = tmp_path_factory.mktemp("store")
    signed = base / "standard"
    shutil.copytree(demo.standard_dir, signed)  # the demo's own folder stays as generated
    authorize(signed, "CFO office", "go-live", Ledger(base / "evidence"))
    return base / "evidence"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing a command might write by default lands in the repository
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


@pytest.fixture
def evidence(store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "evidence"
    shutil.copytree(store, target)
    return target


@pytest.fixture
def standard(demo: DemoPaths, tmp_path: Path) -> Path:
    target = tmp_path / "standard"
    shutil.copytree(demo.standard_dir, target)
    return target


def snapshot(folder: Path) -> dict[str, bytes] | None:
    """Every file of an evidence store and its bytes (None when the folder does not exist)."""
    if not folder.exists():
        return None
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(out: str, err: str, *fragments: str) -> None:
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, f"stderr is not one line: {err!r}"
    assert lines[0].startswith("assurance: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


# ---------------------------------------------------------------------------------------------------
# `cycle` with bad input: refused before the run starts, nothing appended.
# ---------------------------------------------------------------------------------------------------


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _broken_yaml(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    _edit(standard, "standard.yaml", "owner: CFO office", "owner: CFO: office")
    return str(demo.log_path)


def _unknown_tier(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    _edit(standard, PR, "risk_tier: critical", "risk_tier: extreme")
    return str(demo.log_path)


def _bad_condition(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    _edit(standard, PR, "hold_action = 'release' AND amount > 10000", "hold_action = 'release' AND amout > 10000")
    return str(demo.log_path)


def _python_condition(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    _edit(standard, PR, '"legal_signoff_by IS NOT NULL"', "\"__import__('os').system('touch pwned')\"")
    return str(demo.log_path)


def _second_require(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    _edit(standard, PR, '    require: "legal_signoff_by IS NOT NULL"\n', '    require: "legal_signoff_by IS NOT NULL"\n    require: "TRUE"\n')
    return str(demo.log_path)


def _alias_in_isin(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    _edit(standard, PR, "isin: [EUR, USD, GBP]", "isin: &money [EUR, USD, GBP]")
    _edit(standard, PR, "isin: [release, keep_hold, escalate]", "isin: [*money, *money]")
    return str(demo.log_path)


def _missing_source(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    return str(tmp / "no-such-log.parquet")


def _empty_dir(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    folder = tmp / "log-folder"
    folder.mkdir()
    (folder / "README.txt").write_text("not parquet", encoding="utf-8")
    return str(folder)


def _corrupt_parquet(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    path = tmp / "corrupt.parquet"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))
    return str(path)


def _corrupt_parquet_in_folder(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    folder = tmp / "log-folder"
    folder.mkdir()
    shutil.copy(demo.log_path, folder / "part-0.parquet")
    (folder / "part-1.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 4)
    return str(folder)


def _no_decided_at(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    path = tmp / "no-decided-at.parquet"
    table = pq.read_table(demo.log_path).drop_columns(["decided_at"])
    pq.write_table(table, path)
    return str(path)


def _minimal_without_actor(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    path = tmp / "thin.parquet"
    pq.write_table(pa.table({"decision_id": ["D1"], "decision_point": ["payment_release"],
                             "decided_at": pa.array([0], pa.timestamp("us", tz="UTC"))}), path)
    return str(path)


def _unsupported_type(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    path = tmp / "log.txt"
    path.write_text("decision_id\n1\n", encoding="utf-8")
    return str(path)


CYCLE_CASES = [
    # (id, setup, extra arguments, exit code, fragments of the one line)
    ("broken YAML", _broken_yaml, [], 2, ["standard/standard.yaml", "line", "broken YAML"]),
    ("unknown tier", _unknown_tier, [], 2, ["standard/decision_points/payment_release.yaml", "risk_tier", "'extreme'"]),
    ("bad condition", _bad_condition, [], 2, ["payment_release.yaml", "condition PR-1", "unknown column 'amout'", "did you mean 'amount'"]),
    ("python in a condition", _python_condition, [], 2, ["payment_release.yaml", "condition PR-1: require", "not allowed"]),
    ("duplicate key", _second_require, [], 2, ["payment_release.yaml: line 30: duplicate key 'require' (first at line 29)"]),
    ("anchor and alias", _alias_in_isin, [], 2, ["payment_release.yaml: line 15: anchor '&money' is not allowed"]),
    ("missing source file", _missing_source, [], 3, ["no-such-log.parquet", "no such file"]),
    ("folder without parquet", _empty_dir, [], 3, ["log-folder", "no .parquet files"]),
    ("corrupt parquet", _corrupt_parquet, [], 3, ["corrupt.parquet", "cannot be read"]),
    ("corrupt parquet in a folder", _corrupt_parquet_in_folder, [], 3, ["log-folder", "cannot be read"]),
    ("log without decided_at", _no_decided_at, [], 2, ["no-decided-at.parquet", "missing required column", "decided_at"]),
    ("log without actor columns", _minimal_without_actor, [], 2, ["missing required column", "actor_type, actor_id"]),
    ("unsupported file type", _unsupported_type, [], 2, ["log.txt", "unsupported file type"]),
    ("bad --from date", None, ["--from", "2026-13-01"], 2, ["--from", "'2026-13-01'", "not a date"]),
    ("bad --to date", None, ["--to", "yesterday"], 2, ["--to", "not a date"]),
    ("--from after --to", None, ["--from", "2026-06-30", "--to", "2026-05-01"], 2, ["--from 2026-06-30 is not before --to 2026-05-01"]),
    ("unknown --tier", None, ["--tier", "extreme"], 2, ["--tier", "invalid choice: 'extreme'"]),
]


@pytest.mark.parametrize("store_kind", ["existing store", "no store yet"])
@pytest.mark.parametrize(("setup", "extra", "code", "fragments"), [c[1:] for c in CYCLE_CASES], ids=[c[0] for c in CYCLE_CASES])
def test_cycle_with_bad_input_fails_in_one_line_and_appends_nothing(
    capsys, demo: DemoPaths, standard: Path, evidence: Path, tmp_path: Path,
    setup, extra: list[str], code: int, fragments: list[str], store_kind: str,
) -> None:
    source = setup(standard, demo, tmp_path) if setup else str(demo.log_path)
    store = evidence if store_kind == "existing store" else tmp_path / "fresh-evidence"
    before = snapshot(store)
    exit_code, out, err = run(capsys, "cycle", "--standard", standard, "--source", source, "--evidence", store, *extra)
    assert exit_code == code, err
    assert_one_error_line(out, err, *fragments)
    assert out == ""
    assert snapshot(store) == before
    assert not (tmp_path / "pwned").exists()


def test_cycle_against_a_tampered_ledger_is_refused_and_appends_nothing(capsys, demo: DemoPaths, evidence: Path) -> None:
    ledger = evidence / "ledger.jsonl"
    ledger.write_bytes(ledger.read_bytes().replace(b"CFO office", b"CEO office", 1))
    before = snapshot(evidence)
    code, out, err = run(capsys, "cycle", "--standard", demo.standard_dir, "--source", demo.log_path, "--evidence", evidence)
    assert code == 3
    assert_one_error_line(out, err, str(evidence), "not intact", "nothing appended", "line 1")
    assert snapshot(evidence) == before
    assert not (evidence / "packs").exists()


def test_cycle_against_a_truncated_ledger_is_refused(capsys, demo: DemoPaths, evidence: Path) -> None:
    ledger = evidence / "ledger.jsonl"
    ledger.write_bytes(ledger.read_bytes()[:-20])  # a torn last line
    before = snapshot(evidence)
    code, out, err = run(capsys, "cycle", "--standard", demo.standard_dir, "--source", demo.log_path, "--evidence", evidence)
    assert code == 3
    assert_one_error_line(out, err, "not intact", "the last line is incomplete: a write was interrupted")
    assert snapshot(evidence) == before


# ---------------------------------------------------------------------------------------------------
# Usage mistakes and the other commands.
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["bogus"], ["invalid choice: 'bogus'"]),
        ([], ["required: command"]),
        (["cycle", "--standard", "standard"], ["error: cycle: ", "required", "--source", "--evidence"]),
        (["dispose", "F-1", "--as", "remediate", "--by", "me", "--evidence", "evidence"], ["required", "--note"]),
        (["dispose", "F-1", "--as", "ignore", "--by", "me", "--note", "x", "--evidence", "evidence"], ["--as", "invalid choice: 'ignore'"]),
        (["plan", "--confidence", "high", "--tolerable", "0.05"], ["--confidence", "invalid float value: 'high'"]),
        (["cycle", "--standard", "s", "--source", "x", "--evidence", "e", "--frobnicate"], ["unrecognized arguments: --frobnicate"]),
    ],
    ids=["unknown subcommand", "no subcommand", "missing required flags", "missing --note", "bad --as", "bad float", "unknown flag"],
)
def test_usage_mistakes_exit_2(capsys, argv: list[str], fragments: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert_one_error_line(out, err, *fragments)
    assert out == ""


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--confidence", "1.5", "--tolerable", "0.05"], "confidence must be between 0 and 1"),
        (["--confidence", "0", "--tolerable", "0.05"], "confidence must be between 0 and 1"),
        (["--confidence", "0.95", "--tolerable", "1.2"], "tolerable"),
        (["--confidence", "0.95", "--tolerable", "0.05", "--expected", "0.05"], "expected"),
        (["--confidence", "nan", "--tolerable", "0.05"], "confidence"),
    ],
    ids=["confidence 1.5", "confidence 0", "tolerable 1.2", "expected = tolerable", "confidence nan"],
)
def test_plan_with_bad_parameters_exits_2(capsys, argv: list[str], fragment: str) -> None:
    code, out, err = run(capsys, "plan", *argv)
    assert code == 2
    assert_one_error_line(out, err, fragment)


def test_plan_json(capsys) -> None:
    code, out, err = run(capsys, "plan", "--confidence", "0.95", "--tolerable", "0.05", "--json")
    assert code == 0 and err == ""
    plan = json.loads(out)
    assert plan["sample_size"] == 59
    assert plan["allowed_deviations"] == 0


def test_plan_text(capsys) -> None:
    code, out, err = run(capsys, "plan", "--confidence", "0.95", "--tolerable", "0.05")
    assert code == 0 and err == ""
    assert "sample size 59, deviations allowed 0" in out


def test_plan_for_a_small_population_is_hypergeometric(capsys) -> None:
    code, out, err = run(capsys, "plan", "--confidence", "0.95", "--tolerable", "0.05", "--population", "60")
    assert code == 0 and err == ""
    assert "sample size 38, deviations allowed 0" in out and "hypergeometric for a population of 60" in out
    code, out, err = run(capsys, "plan", "--confidence", "0.95", "--tolerable", "0.05", "--population", "10000", "--json")
    assert code == 0 and err == ""
    assert json.loads(out) == {"confidence": 0.95, "tolerable_deviation_rate": 0.05, "expected_deviation_rate": 0.0,
                               "sample_size": 59, "allowed_deviations": 0, "distribution": "binomial", "population": 10000}


@pytest.mark.parametrize("value", ["0", "-3", "1.5", "sixty", ""])
def test_plan_with_a_bad_population_exits_2(capsys, value: str) -> None:
    code, out, err = run(capsys, "plan", "--confidence", "0.95", "--tolerable", "0.05", "--population", value)
    assert code == 2 and out == ""
    assert_one_error_line(out, err, "--population", "whole number of decisions, at least 1", repr(value))


def test_verify_without_a_ledger_exits_3(capsys, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        code, out, err = run(capsys, "verify", "--evidence", folder)
        assert code == 3
        assert_one_error_line(out, err, str(folder), "no ledger.jsonl")
    assert not (tmp_path / "missing").exists()


def test_verify_intact_and_tampered(capsys, evidence: Path) -> None:
    code, out, err = run(capsys, "verify", "--evidence", evidence, "--json")
    assert code == 0 and err == "" and json.loads(out)["intact"] is True
    ledger = evidence / "ledger.jsonl"
    ledger.write_bytes(ledger.read_bytes().replace(b"go-live", b"go-home", 1))
    code, out, err = run(capsys, "verify", "--evidence", evidence)
    assert code == 1
    assert "TAMPERED" in out and "line 1" in out
    assert "Traceback" not in out + err


def test_dispose_of_an_unknown_finding_exits_2_and_appends_nothing(capsys, evidence: Path) -> None:
    before = snapshot(evidence)
    code, out, err = run(capsys, "dispose", "F-does-not-exist", "--as", "remediate", "--by", "Controller",
                         "--note", "fixing it", "--evidence", evidence)
    assert code == 2
    assert_one_error_line(out, err, "'F-does-not-exist'", "not in the evidence ledger")
    assert snapshot(evidence) == before


def test_dispose_against_a_store_that_does_not_exist_creates_nothing(capsys, tmp_path: Path) -> None:
    store = tmp_path / "nowhere"
    code, out, err = run(capsys, "dispose", "F-1", "--as", "remediate", "--by", "me", "--note", "x", "--evidence", store)
    assert code == 2
    assert_one_error_line(out, err, "'F-1'")
    assert not store.exists()


def test_dispose_with_an_empty_note_exits_2(capsys, evidence: Path) -> None:
    before = snapshot(evidence)
    code, out, err = run(capsys, "dispose", "F-1", "--as", "remediate", "--by", "me", "--note", "  ", "--evidence", evidence)
    assert code == 2
    assert_one_error_line(out, err, "--note")
    assert snapshot(evidence) == before


def test_findings_on_a_broken_ledger_exits_3(capsys, evidence: Path) -> None:
    ledger = evidence / "ledger.jsonl"
    ledger.write_bytes(b"{not json\n" + ledger.read_bytes())
    code, out, err = run(capsys, "findings", "--evidence", evidence)
    assert code == 3
    assert_one_error_line(out, err, "evidence store", "line 1", "not valid JSON")


def test_evidence_path_that_is_a_file_exits_3(capsys, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "evidence.txt"
    not_a_folder.write_text("x", encoding="utf-8")
    code, out, err = run(capsys, "findings", "--evidence", not_a_folder)
    assert code == 3
    assert_one_error_line(out, err, "not a folder")


@pytest.mark.parametrize(
    ("setup", "fragments"),
    [(_bad_condition, ["condition PR-1", "unknown column 'amout'"]), (_second_require, ["line 30: duplicate key 'require'"]),
     (_alias_in_isin, ["line 15: anchor '&money' is not allowed"])],
    ids=["bad condition", "duplicate key", "anchor and alias"],
)
def test_authorize_an_invalid_standard_exits_2_and_appends_nothing(
    capsys, demo: DemoPaths, standard: Path, evidence: Path, tmp_path: Path, setup, fragments: list[str]
) -> None:
    setup(standard, demo, tmp_path)
    before = snapshot(evidence)
    code, out, err = run(capsys, "authorize", "--standard", standard, "--by", "CFO office", "--evidence", evidence)
    assert code == 2
    assert_one_error_line(out, err, *fragments)
    assert snapshot(evidence) == before
    assert not (standard / "authorization.yaml").exists()
    assert out == ""


# ---------------------------------------------------------------------------------------------------
# Through the installed console script: what a user's terminal shows.
# ---------------------------------------------------------------------------------------------------


def _console(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return subprocess.run([str(ASSURANCE), *map(str, argv)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_console_script_exists() -> None:
    assert ASSURANCE.is_file(), ASSURANCE


def test_console_plan_bad_confidence(tmp_path: Path) -> None:
    done = _console("plan", "--confidence", "1.5", "--tolerable", "0.05", cwd=tmp_path)
    assert done.returncode == 2
    assert_one_error_line(done.stdout, done.stderr, "confidence")


def test_console_verify_without_ledger(tmp_path: Path) -> None:
    done = _console("verify", "--evidence", tmp_path / "nothing-here", cwd=tmp_path)
    assert done.returncode == 3
    assert_one_error_line(done.stdout, done.stderr, "no ledger.jsonl")


def test_console_cycle_with_a_bad_condition(demo: DemoPaths, standard: Path, evidence: Path, tmp_path: Path) -> None:
    _bad_condition(standard, demo, tmp_path)
    before = snapshot(evidence)
    done = _console("cycle", "--standard", standard, "--source", demo.log_path, "--evidence", evidence, cwd=tmp_path)
    assert done.returncode == 2
    assert_one_error_line(done.stdout, done.stderr, "condition PR-1", "did you mean 'amount'")
    assert done.stdout == ""
    assert snapshot(evidence) == before


def test_console_cycle_with_a_corrupt_parquet(demo: DemoPaths, evidence: Path, tmp_path: Path) -> None:
    source = _corrupt_parquet(demo.standard_dir, demo, tmp_path)
    before = snapshot(evidence)
    done = _console("cycle", "--standard", demo.standard_dir, "--source", source, "--evidence", evidence, cwd=tmp_path)
    assert done.returncode == 3
    assert_one_error_line(done.stdout, done.stderr, "corrupt.parquet", "cannot be read")
    assert snapshot(evidence) == before


# ---------------------------------------------------------------------------------------------------
# Inputs that are found bad only when the source is scanned, inside a Dagster step, or by its column types.
# ---------------------------------------------------------------------------------------------------


def _parquet_with_corrupt_pages(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    data = bytearray(demo.log_path.read_bytes())
    for i in range(len(data) // 4, len(data) // 2, 7):  # data pages only; the footer stays readable
        data[i] ^= 0xFF
    path = tmp / "damaged.parquet"
    path.write_bytes(bytes(data))
    return str(path)


def _decided_at_not_a_timestamp(standard: Path, demo: DemoPaths, tmp: Path) -> str:
    path = tmp / "text-dates.parquet"
    pq.write_table(pa.table({"decision_id": ["D1"], "decision_point": ["payment_release"], "decided_at": ["last tuesday"],
                             "actor_type": ["agent"], "actor_id": ["ap-agent"]}), path)
    return str(path)


def test_decided_at_that_is_not_a_timestamp_is_refused_before_the_run(capfd, demo: DemoPaths, store: Path, evidence: Path, tmp_path: Path) -> None:
    source = _decided_at_not_a_timestamp(demo.standard_dir, demo, tmp_path)
    before = snapshot(evidence)
    exit_code = main(["cycle", "--standard", str(store.parent / "standard"), "--source", source, "--evidence", str(evidence)])
    out, err = capfd.readouterr()
    assert exit_code == 2
    assert_one_error_line(out, err, "decided_at", "not a timestamp")
    assert snapshot(evidence) == before


def test_data_pages_that_fail_mid_scan_record_no_decision(capfd, demo: DemoPaths, store: Path, evidence: Path, tmp_path: Path) -> None:
    """Found only by the selection scan, after the seed was committed: the commitment stays, no decision is recorded."""
    source = _parquet_with_corrupt_pages(demo.standard_dir, demo, tmp_path)
    before = [e.kind for e in Ledger(evidence).entries()]
    signed = store.parent / "standard"
    exit_code = main(["cycle", "--standard", str(signed), "--source", source, "--evidence", str(evidence)])
    out, err = capfd.readouterr()
    assert exit_code == 3
    assert_one_error_line(out, err, "damaged.parquet", "could not be read")
    after = [e.kind for e in Ledger(evidence).entries()]
    assert after[: len(before)] == before and set(after[len(before):]) <= {"sampling_plan"}
    assert Ledger(evidence).verify().intact
    assert not (evidence / "packs").exists() or not any((evidence / "packs").iterdir())


def test_a_workspace_out_of_memory_is_one_line_naming_the_setting(capsys, demo: DemoPaths, tmp_path: Path, monkeypatch) -> None:
    """DuckDB running out of the workspace's memory limit mid-command: one line, exit 3, the setting to raise."""
    standard = tmp_path / "standard"
    shutil.copytree(demo.standard_dir, standard)
    monkeypatch.setenv("ASSURANCE_WORKSPACE_MEMORY", "1MB")
    code = main(["baseline", "--standard", str(standard), "--source", str(demo.log_path), "--from", "2026-01-01", "--to", "2026-03-31"])
    err = capsys.readouterr().err
    assert code == 3 and len(err.strip().splitlines()) == 1, err
    assert "Out of Memory" in err and "ASSURANCE_WORKSPACE_MEMORY" in err and "Traceback" not in err
    assert not (standard / "baseline").exists()  # nothing half-written


def test_a_workspace_memory_setting_that_is_no_size_is_one_line(capsys, demo: DemoPaths, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSURANCE_WORKSPACE_MEMORY", "lots")
    code = main(["baseline", "--standard", str(demo.standard_dir), "--source", str(demo.log_path), "--from", "2026-01-01", "--to", "2026-03-31"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == "assurance: error: ASSURANCE_WORKSPACE_MEMORY 'lots': not a memory size (use e.g. 512MB or 2GB)"
    assert not list(Path(tempfile.gettempdir()).glob(f"assurance-spill-{os.getpid()}-*"))  # its spill folder is gone too
