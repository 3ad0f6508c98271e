"""Re-confirming the standard: only what `authorize` signed off (and recorded in the ledger) is intact;
any edit, added or removed file, or hand-made authorization.yaml is caught and named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from assurance_pipeline.demo.generator import DemoPaths, write_demo
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.drift.baseline import FORMAT_VERSION
from assurance_pipeline.standard.loading import standard_files
from assurance_pipeline.standard.integrity import (
    AUTHORIZATION_FILE,
    authorize,
    check_integrity,
    file_hashes,
    standard_digest,
)

PR = "decision_points/payment_release.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return write_demo(tmp_path_factory.mktemp("demo"), rows=2_000)


@pytest.fixture
def root(demo: DemoPaths, tmp_path: Path) -> Path:
    target = tmp_path / "standard"
    shutil.copytree(demo.standard_dir, target)
    return target


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "evidence")


@pytest.fixture
def authorized(root: Path, ledger: Ledger) -> Path:
    authorize(root, "CFO office", "go-live", ledger)
    return root


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def _not_intact_naming(report, *fragments: str) -> None:
    assert report.intact is False
    joined = " | ".join(report.problems)
    for fragment in fragments:
        assert fragment in joined, f"{fragment!r} not in {joined!r}"


def test_authorize_then_check_is_intact(authorized: Path, ledger: Ledger) -> None:
    report = check_integrity(authorized, ledger)
    assert report.intact is True
    assert report.problems == []
    assert report.sha256 == report.authorized_sha256
    assert report.authorized_by == "CFO office"
    entries = ledger.find("authorization")
    assert len(entries) == 1 and entries[0].body["sha256"] == report.sha256
    assert set(entries[0].body["files"]) == {
        "standard.yaml", "decision_points/payment_release.yaml", "decision_points/refund_decision.yaml",
        "decision_points/vendor_onboarding.yaml", "decision_points/access_provisioning.yaml"}


def test_authorization_file_records_every_file_and_the_signer(authorized: Path) -> None:
    data = yaml.safe_load((authorized / AUTHORIZATION_FILE).read_text(encoding="utf-8"))
    assert data["authorized_by"] == "CFO office"
    assert data["note"] == "go-live"
    assert data["files"] == file_hashes(standard_files(authorized))
    assert data["sha256"] == standard_digest(data["files"])


def test_editing_a_decision_point_is_caught(authorized: Path, ledger: Ledger) -> None:
    path = authorized / PR
    path.write_text(path.read_text(encoding="utf-8").replace("amount > 10000", "amount > 100000"), encoding="utf-8")
    report = check_integrity(authorized, ledger)
    _not_intact_naming(report, "decision_points/payment_release.yaml was changed after authorization")
    assert report.sha256 != report.authorized_sha256
    assert len(report.problems) == 1


def test_even_a_comment_is_a_change(authorized: Path, ledger: Ledger) -> None:
    _append(authorized / "standard.yaml", "# harmless?\n")
    _not_intact_naming(check_integrity(authorized, ledger), "standard.yaml was changed after authorization")


def test_adding_a_file_is_caught(authorized: Path, ledger: Ledger) -> None:
    (authorized / "decision_points" / "loan_waiver.yaml").write_text("id: loan_waiver\n", encoding="utf-8")
    _not_intact_naming(check_integrity(authorized, ledger), "decision_points/loan_waiver.yaml was added after authorization")


def test_removing_a_file_is_caught(authorized: Path, ledger: Ledger) -> None:
    (authorized / "decision_points" / "vendor_onboarding.yaml").unlink()
    _not_intact_naming(check_integrity(authorized, ledger), "decision_points/vendor_onboarding.yaml was removed after authorization")


def test_editing_the_baseline_is_caught(root: Path, ledger: Ledger) -> None:
    baseline = root / "baseline"
    baseline.mkdir()
    (baseline / "baseline.json").write_text(f'{{"format_version": {FORMAT_VERSION}, "points": {{"refund_decision": {{"population": 700}}}}}}',
                                            encoding="utf-8")
    authorize(root, "CFO office", "", ledger)
    assert check_integrity(root, ledger).intact is True
    (baseline / "baseline.json").write_text(f'{{"format_version": {FORMAT_VERSION}, "points": {{"refund_decision": {{"population": 701}}}}}}',
                                            encoding="utf-8")
    _not_intact_naming(check_integrity(root, ledger), "baseline/baseline.json was changed after authorization")


def test_adding_a_baseline_after_authorization_is_caught(authorized: Path, ledger: Ledger) -> None:
    (authorized / "baseline").mkdir()
    (authorized / "baseline" / "baseline.json").write_text("{}", encoding="utf-8")
    _not_intact_naming(check_integrity(authorized, ledger), "baseline/baseline.json was added after authorization")


def test_rehashing_by_hand_without_authorize_is_caught(authorized: Path, ledger: Ledger) -> None:
    """Edit a rule, then rewrite authorization.yaml so its hashes fit: the ledger has no such sign-off."""
    path = authorized / PR
    path.write_text(path.read_text(encoding="utf-8").replace("amount > 10000", "amount > 100000"), encoding="utf-8")
    auth_path = authorized / AUTHORIZATION_FILE
    data = yaml.safe_load(auth_path.read_text(encoding="utf-8"))
    data["files"] = file_hashes(standard_files(authorized))
    data["sha256"] = standard_digest(data["files"])
    auth_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    report = check_integrity(authorized, ledger)
    _not_intact_naming(report, AUTHORIZATION_FILE, "not recorded in the evidence ledger")
    assert report.sha256 == report.authorized_sha256  # the files match the forged list; only the ledger knows
    assert len(report.problems) == 1


def test_editing_the_file_list_without_its_digest_is_caught(authorized: Path, ledger: Ledger) -> None:
    path = authorized / PR
    _append(path, "# loosened\n")
    auth_path = authorized / AUTHORIZATION_FILE
    data = yaml.safe_load(auth_path.read_text(encoding="utf-8"))
    data["files"] = file_hashes(standard_files(authorized))  # sha256 left as it was
    auth_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _not_intact_naming(check_integrity(authorized, ledger), f"{AUTHORIZATION_FILE} was edited")


@pytest.mark.parametrize(("field", "forged"), [("authorized_by", "Board of directors"), ("authorized_at", "2020-01-01T00:00:00Z")])
def test_forging_who_or_when_signed_is_caught(authorized: Path, ledger: Ledger, field: str, forged: str) -> None:
    auth_path = authorized / AUTHORIZATION_FILE
    data = yaml.safe_load(auth_path.read_text(encoding="utf-8"))
    data[field] = forged
    auth_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    report = check_integrity(authorized, ledger)
    _not_intact_naming(report, AUTHORIZATION_FILE, "not recorded in the evidence ledger")


def test_garbage_authorization_is_not_intact(authorized: Path, ledger: Ledger) -> None:
    (authorized / AUTHORIZATION_FILE).write_text("files: [not, a, mapping\n", encoding="utf-8")
    _not_intact_naming(check_integrity(authorized, ledger), AUTHORIZATION_FILE, "not a valid authorization")


def test_unauthorized_standard_is_not_intact(root: Path, ledger: Ledger) -> None:
    report = check_integrity(root, ledger)
    _not_intact_naming(report, f"{AUTHORIZATION_FILE} is missing")
    assert report.authorized_sha256 is None and report.authorized_by is None


def test_authorization_from_another_evidence_store_is_not_intact(authorized: Path, tmp_path: Path) -> None:
    _not_intact_naming(check_integrity(authorized, Ledger(tmp_path / "other-evidence")), "not recorded in the evidence ledger")


def test_reverting_the_edit_restores_intactness(authorized: Path, ledger: Ledger) -> None:
    path = authorized / PR
    original = path.read_bytes()
    path.write_bytes(original + b"# temporary\n")
    assert check_integrity(authorized, ledger).intact is False
    path.write_bytes(original)
    assert check_integrity(authorized, ledger).intact is True


def test_reauthorizing_a_change_makes_it_intact_again(authorized: Path, ledger: Ledger) -> None:
    _append(authorized / PR, "# CR-42: wording\n")
    assert check_integrity(authorized, ledger).intact is False
    authorize(authorized, "Controller", "CR-42", ledger)
    report = check_integrity(authorized, ledger)
    assert report.intact is True and report.authorized_by == "Controller"
    assert len(ledger.find("authorization")) == 2


def _break_a_condition(root: Path) -> None:
    path = root / PR
    text = path.read_text(encoding="utf-8")
    assert "amount > 10000" in text
    path.write_text(text.replace("amount > 10000", "amout > 10000"), encoding="utf-8")


def test_authorize_refuses_an_invalid_standard_on_a_fresh_store(root: Path, ledger: Ledger) -> None:
    _break_a_condition(root)
    with pytest.raises(AssuranceError, match=r"payment_release\.yaml: condition PR-1: when: unknown column 'amout'"):
        authorize(root, "CFO office", "", ledger)
    assert not ledger.path.exists()
    assert not (root / AUTHORIZATION_FILE).exists()


def test_authorize_refuses_an_invalid_standard_and_leaves_everything_untouched(authorized: Path, ledger: Ledger) -> None:
    ledger_before = ledger.path.read_bytes()
    auth_before = (authorized / AUTHORIZATION_FILE).read_bytes()
    _break_a_condition(authorized)
    with pytest.raises(AssuranceError, match="unknown column 'amout'"):
        authorize(authorized, "CFO office", "", ledger)
    assert ledger.path.read_bytes() == ledger_before
    assert (authorized / AUTHORIZATION_FILE).read_bytes() == auth_before
    _not_intact_naming(check_integrity(authorized, ledger), "decision_points/payment_release.yaml was changed")


@pytest.mark.parametrize("by", ["", "   "])
def test_authorize_needs_a_name(root: Path, ledger: Ledger, by: str) -> None:
    with pytest.raises(AssuranceError, match="--by"):
        authorize(root, by, "", ledger)
    assert not ledger.path.exists()
