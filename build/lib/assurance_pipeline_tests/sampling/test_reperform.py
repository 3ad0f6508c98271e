"""`assurance reperform`: the same sample from an unchanged source; the first difference named otherwise."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from assurance_pipeline.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--dir", str(root), "--rows", "3000", "--json"]) == 0
    last = (root / "evidence" / "ledger.jsonl").read_text().splitlines()[-1]
    return root, json.loads(last)["body"]["cycle_id"]


def _selected(root: Path, cycle_id: str, point: str) -> list[str]:
    return json.loads((root / "evidence" / "packs" / cycle_id / "sampling.json").read_text())["selected"][point]["decision_ids"]


def _rewrite(source: Path, target: Path, select: str, where: str = "TRUE") -> Path:
    duckdb.connect().execute(f"COPY (SELECT {select} FROM read_parquet('{source}') WHERE {where}) TO '{target}'")
    return target


def _reperform(capsys, root: Path, cycle_id: str, source: Path) -> tuple[int, dict]:
    code = main(["reperform", cycle_id, "--source", str(source), "--evidence", str(root / "evidence"), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_an_unchanged_source_reperforms_exactly(demo, capsys):
    root, cycle_id = demo
    code, report = _reperform(capsys, root, cycle_id, root / "decisions.parquet")
    assert code == 0 and report["same"] and report["decisions"] > 0


def test_the_same_rows_in_another_order_and_split_reperform_exactly(demo, capsys, tmp_path):
    root, cycle_id = demo
    folder = tmp_path / "split"
    folder.mkdir()
    con = duckdb.connect()
    for part, (lo, hi) in enumerate([(0, 0.3), (0.3, 0.55), (0.55, 1.01)]):
        con.execute(f"COPY (SELECT * FROM read_parquet('{root / 'decisions.parquet'}') WHERE hash(decision_id) % 100 >= {lo * 100} "
                    f"AND hash(decision_id) % 100 < {hi * 100} ORDER BY decision_id DESC) TO '{folder / f'part{part}.parquet'}'")
    code, report = _reperform(capsys, root, cycle_id, folder)
    assert code == 0 and report["same"]


def test_a_row_altered_after_the_cycle_is_named(demo, capsys, tmp_path):
    root, cycle_id = demo
    target = _selected(root, cycle_id, "payment_release")[3]
    altered = _rewrite(root / "decisions.parquet", tmp_path / "altered.parquet",
                       f"* REPLACE (CASE WHEN decision_id = '{target}' THEN amount + 1 ELSE amount END AS amount)")
    code, report = _reperform(capsys, root, cycle_id, altered)
    assert code == 1 and not report["same"]
    assert report["problem"] == f"payment_release: decision {target} has different content than when it was sampled"


def test_a_removed_decision_changes_the_population_and_is_named(demo, capsys, tmp_path):
    root, cycle_id = demo
    target = _selected(root, cycle_id, "refund_decision")[0]
    removed = _rewrite(root / "decisions.parquet", tmp_path / "removed.parquet", "*", f"decision_id <> '{target}'")
    code, report = _reperform(capsys, root, cycle_id, removed)
    assert code == 1 and report["problem"].startswith("refund_decision: the population in the window changed")


def test_an_edited_sampling_record_is_refused(demo, capsys, tmp_path):
    root, cycle_id = demo
    copy = tmp_path / "evidence"
    shutil.copytree(root / "evidence", copy)
    sampling = copy / "packs" / cycle_id / "sampling.json"
    sampling.write_text(sampling.read_text().replace('"seed"', '"seed" ', 1))
    code = main(["reperform", cycle_id, "--source", str(root / "decisions.parquet"), "--evidence", str(copy)])
    assert code == 2 and "not the file the ledger sealed" in capsys.readouterr().err


def test_an_unknown_cycle_and_another_key_are_refused(demo, capsys, monkeypatch):
    root, cycle_id = demo
    assert main(["reperform", "no-such-cycle", "--source", str(root / "decisions.parquet"), "--evidence", str(root / "evidence")]) == 2
    assert "not in the evidence ledger" in capsys.readouterr().err
    monkeypatch.setenv("ASSURANCE_FINGERPRINT_KEY", "z" * 64)
    assert main(["reperform", cycle_id, "--source", str(root / "decisions.parquet"), "--evidence", str(root / "evidence")]) == 2
    assert "was fingerprinted with key" in capsys.readouterr().err
