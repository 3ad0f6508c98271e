"""Property: whatever a decision point file holds, loading gives a standard or one AssuranceError line, and
`assurance authorize` exits 0 or 2 with one stderr line, leaving the evidence ledger's bytes alone when it refuses.
Timing belongs in benchmarks/hostile_standards.py, not here."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from assurance_pipeline.cli import main
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.standard.loading import load_standard
from assurance_pipeline.standard.models import Standard
from assurance_pipeline_tests.standard.hostile import POINT, dump, point_documents, point_with_expression, write_standard

FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile") / "standard"


def load_or_refuse(root: Path) -> Standard | AssuranceError:
    try:
        return load_standard(root)
    except AssuranceError as err:
        return err


def test_the_unmodified_minimal_standard_loads(root: Path) -> None:
    write_standard(root, dump(POINT))
    assert list(load_standard(root).decision_points) == ["payment_release"]


@settings(FAST, max_examples=200)
@given(text=point_documents)
def test_any_point_file_loads_or_is_refused_in_one_line(root: Path, text: str) -> None:
    write_standard(root, text)
    outcome = load_or_refuse(root)
    if isinstance(outcome, AssuranceError):
        message = str(outcome)
        assert outcome.exit_code == 2
        assert "\n" not in message and message.startswith("standard/"), message
    else:
        assert isinstance(outcome, Standard)


@settings(FAST, max_examples=100)
@given(text=point_with_expression())
def test_any_expression_loads_or_names_its_condition_or_metric(root: Path, text: str) -> None:
    write_standard(root, text)
    outcome = load_or_refuse(root)
    if isinstance(outcome, AssuranceError):
        assert "\n" not in str(outcome)
        assert str(outcome).startswith(("standard/decision_points/payment_release.yaml: condition PR-1: ",
                                        "standard/decision_points/payment_release.yaml: outcome_evidence PR-OE-1: metric: ",
                                        "standard/decision_points/payment_release.yaml: conditions.0.",
                                        "standard/decision_points/payment_release.yaml: outcome_evidence.0.")), str(outcome)


@settings(FAST, max_examples=40)
@given(text=point_documents)
def test_authorize_exits_0_or_2_in_one_line_and_a_refusal_leaves_the_ledger_alone(root: Path, text: str) -> None:
    write_standard(root, text)
    (root / "authorization.yaml").unlink(missing_ok=True)
    ledger = root.parent / "evidence" / "ledger.jsonl"
    before = ledger.read_bytes() if ledger.exists() else None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["authorize", "--standard", str(root), "--by", "Tester", "--evidence", str(root.parent / "evidence")])
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert code in (0, 2), err.getvalue()
    if code == 2:
        assert len(err.getvalue().splitlines()) == 1 and err.getvalue().startswith("assurance: error: "), err.getvalue()
        assert (ledger.read_bytes() if ledger.exists() else None) == before
        assert not (root / "authorization.yaml").exists()
    else:
        assert err.getvalue() == ""
