"""Foundation Initialization (`assurance init`): a draft standard from the live log that holds on the rows it was
drafted from, names no free text, carries every item as a draft, and is refused by authorize and cycle until a
person removes the marks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from assurance_pipeline.cli import main
from assurance_pipeline.defs.cycle import run as cycle_run
from assurance_pipeline.demo.generator import DECISION_POINTS, DemoPaths, write_demo
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.sources.decision_log import quote_ident, sql_type
from assurance_pipeline.standard.drafting import InitResult, init_standard
from assurance_pipeline.standard.drafts import draft_items
from assurance_pipeline.standard.expressions import compile_expression
from assurance_pipeline.standard.integrity import authorize
from assurance_pipeline.standard.loading import load_standard
from assurance_pipeline.standard.models import LOG_COLUMNS
from assurance_pipeline.standard.profiling import ColumnProfile, rounded_bound

GOLIVE = ("2026-01-01", "2026-03-31")
GOLIVE_SQL = "decided_at >= TIMESTAMPTZ '2026-01-01 00:00:00+00' AND decided_at < TIMESTAMPTZ '2026-04-01 00:00:00+00'"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return write_demo(tmp_path_factory.mktemp("demo"), rows=6_000)


@pytest.fixture(scope="module")
def drafted(demo: DemoPaths, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, InitResult]:
    out = tmp_path_factory.mktemp("init") / "draft"
    return out, init_standard(str(demo.log_path), out, *GOLIVE)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def _points(root: Path) -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted((root / "decision_points").glob("*.yaml"))}


def _golive(demo: DemoPaths, sql: str, params: dict | None = None) -> tuple:
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW decisions AS SELECT * FROM read_parquet('{demo.log_path}')")
        return con.execute(f"{sql.replace('$golive', GOLIVE_SQL)}", params or {}).fetchone()


def _strip_drafts(value):
    """The standard as a reviewer leaves it: every `draft: true` mark removed (the evidence may stay)."""
    if isinstance(value, dict):
        return {k: _strip_drafts(v) for k, v in value.items() if k != "draft"}
    if isinstance(value, list):
        return [_strip_drafts(v) for v in value]
    return value


def _reviewed(drafted_root: Path, target: Path) -> Path:
    shutil.copytree(drafted_root, target)
    for path in target.rglob("*.yaml"):
        path.write_text(yaml.safe_dump(_strip_drafts(yaml.safe_load(path.read_text())), sort_keys=False))
    return target


# ---------------------------------------------------------------------------------------------------
# What is drafted
# ---------------------------------------------------------------------------------------------------


def test_drafts_every_decision_point_of_the_window_with_a_mined_condition(drafted) -> None:
    root, result = drafted
    points = _points(root)
    assert set(points) == set(DECISION_POINTS)  # loan_waiver only appears in June, after the go-live window
    assert [p["id"] for p in result.points] == sorted(DECISION_POINTS)
    for point_id, body in points.items():
        assert body["id"] == point_id
        assert body["conditions"], f"{point_id}: no condition mined"
        assert body["risk_tier"] in ("critical", "high", "routine")
    assert points["payment_release"]["risk_tier"] == "critical"  # typical amounts in the thousands
    assert points["access_provisioning"]["risk_tier"] == "routine"  # no amount at stake
    # the demo's authored rule "a large release needs legal sign-off" is found in the go-live decisions
    assert {"when": "amount > 10000 AND hold_action = 'release'", "require": "legal_signoff_by IS NOT NULL"} in [
        {"when": c["when"], "require": c["require"]} for c in points["payment_release"]["conditions"]]


def test_file_reads_meaning_authority_owner_tier_contract_conditions_in_that_order(drafted) -> None:
    root, _ = drafted
    for body in _points(root).values():
        keys = list(body)
        order = [keys.index(k) for k in ("meaning", "authority", "owner", "risk_tier", "contract", "conditions")]
        assert order == sorted(order)
        assert all(body[k].startswith("TODO: ") for k in ("title", "meaning", "authority", "owner"))


def test_every_drafted_item_is_marked_draft_with_its_evidence(drafted) -> None:
    root, result = drafted
    header = yaml.safe_load((root / "standard.yaml").read_text())
    assert header["draft"] is True and header["draft_evidence"]["rows"] == result.rows
    assert all(tier["draft"] is True for tier in header["risk_tiers"].values())
    assert header["actors"] and all(a["draft"] is True and a["draft_evidence"]["rows"] >= 5 for a in header["actors"])
    assert {a["id"]: a.get("versions") for a in header["actors"]}["refund-agent"] == ["4.1", "4.2"]
    for body in _points(root).values():
        assert body["draft"] is True and body["draft_evidence"]["rows"] > 0
        for column in body["contract"].values():
            assert column["draft"] is True and column["draft_evidence"]["holds_on"]["type"] == 1.0
        for cond in body["conditions"]:
            assert cond["draft"] is True
            assert cond["draft_evidence"]["support"] >= 20 and cond["draft_evidence"]["holds_on"] >= 0.99
    standard = load_standard(root)  # the draft is a standard the project reads, with drafts counted item by item
    assert len(draft_items(standard)) == result.drafts
    assert result.drafts == 1 + 3 + len(header["actors"]) + sum(
        1 + len(b["contract"]) + len(b["conditions"]) for b in _points(root).values())


def test_contracts_hold_on_the_golive_rows_as_their_evidence_says(drafted, demo: DemoPaths) -> None:
    root, _ = drafted
    for point_id, body in _points(root).items():
        at = {"p": point_id}
        total = _golive(demo, "SELECT count(*) FROM decisions WHERE $golive AND decision_point = $p", at)[0]
        for name, column in body["contract"].items():
            col, holds = quote_ident(name), column["draft_evidence"]["holds_on"]
            typed, nulls = _golive(demo, f"SELECT count(TRY_CAST({col} AS {sql_type(column['type'])})), count(*) - count({col}) "
                                   "FROM decisions WHERE $golive AND decision_point = $p", at)
            assert typed == total - nulls, f"{point_id}.{name}: a value does not have type {column['type']}"
            assert column.get("nullable", False) or nulls == 0, f"{point_id}.{name}: null although not nullable"
            for key, test in (("min", f"{col} >= $v"), ("max", f"{col} <= $v"), ("isin", f"{col} IN (SELECT unnest($v))")):
                if key not in column:
                    continue
                holding, present = _golive(demo, f"SELECT count(*) FILTER (WHERE {test}), count({col}) FROM decisions "
                                           "WHERE $golive AND decision_point = $p", {**at, "v": column[key]})
                assert holding / present >= 0.99
                assert holds[key] == pytest.approx(holding / present, abs=1e-4), f"{point_id}.{name}: {key} evidence"
    contract = _points(root)["payment_release"]["contract"]
    assert contract["hold_action"]["isin"] == ["release", "keep_hold", "escalate"]
    assert contract["amount"]["min"] == 0 and "isin" not in contract["legal_signoff_by"]


def test_mined_conditions_hold_on_the_golive_rows_as_their_evidence_says(drafted, demo: DemoPaths) -> None:
    root, _ = drafted
    standard = load_standard(root)  # every when/require passed the project's expression and type checks
    for point in standard.decision_points.values():
        for cond in point.conditions:
            when, require = (compile_expression(t, point.columns()) for t in (cond.when, cond.require))
            support, holding, unknown = _golive(
                demo, f"SELECT count(*) FILTER (WHERE {when}), count(*) FILTER (WHERE ({when}) AND ({require})), "
                f"count(*) FILTER (WHERE ({when}) IS NULL) FROM decisions WHERE $golive AND decision_point = $p", {"p": point.id})
            assert unknown == 0, f"{cond.id}: `when` is unknown on some rows (a cycle would count them as deviations)"
            assert support == cond.draft_evidence["support"] and holding / support >= 0.99


def test_no_free_text_name_or_id_of_the_log_lands_in_the_draft(drafted, demo: DemoPaths) -> None:
    root, _ = drafted
    text = "\n".join(p.read_text() for p in root.rglob("*.yaml"))
    private = ("release_note", "customer_note", "justification", "legal_signoff_by", "manager_approved_by", "reviewed_by",
               "payee_id", "order_id", "vendor_name", "requester_id", "decision_id")
    with duckdb.connect() as con:
        for column in private:
            values = con.execute(f"SELECT DISTINCT {column} FROM read_parquet('{demo.log_path}') WHERE {column} IS NOT NULL").fetchall()
            leaked = [v for (v,) in values if len(v) >= 4 and v in text]
            assert not leaked, f"{column}: {leaked[:3]} in the draft"
        largest = con.execute(f"SELECT max(amount), min(refund_amount) FROM read_parquet('{demo.log_path}')").fetchone()
    assert all(f"{v}" not in text and f"{v:g}" not in text for v in largest)  # a single row's value is never a bound


# ---------------------------------------------------------------------------------------------------
# Nothing drafted is authorized or run
# ---------------------------------------------------------------------------------------------------


def test_authorize_refuses_a_draft_naming_the_item_and_records_nothing(drafted, tmp_path: Path) -> None:
    root, _ = drafted
    standard = tmp_path / "standard"
    shutil.copytree(root, standard)
    with pytest.raises(AssuranceError, match=r"^standard\.yaml: the header .* is a draft \(draft: true\); review it and remove "
                       r"the mark \(\d+ more items marked draft: true, in standard\.yaml, decision_points/") as err:
        authorize(standard, "CFO office", "go-live", Ledger(tmp_path / "evidence"))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "evidence" / "ledger.jsonl").exists() and not (standard / "authorization.yaml").exists()


def test_one_draft_left_is_named_by_file_and_item(drafted, tmp_path: Path) -> None:
    reviewed = _reviewed(drafted[0], tmp_path / "standard")
    path = reviewed / "decision_points" / "refund_decision.yaml"
    body = yaml.safe_load(path.read_text())
    body["conditions"][0]["draft"] = True
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    message = f"decision_points/refund_decision.yaml: condition {body['conditions'][0]['id']} is a draft (draft: true); " \
              "review it and remove the mark: a standard with drafts left cannot be authorized"
    with pytest.raises(AssuranceError) as err:
        authorize(reviewed, "CFO office", "go-live", Ledger(tmp_path / "evidence"))
    assert str(err.value) == message


def test_cli_cycle_refuses_a_draft_in_one_line(drafted, demo: DemoPaths, tmp_path: Path, capsys) -> None:
    code = main(["cycle", "--standard", str(drafted[0]), "--source", str(demo.log_path), "--evidence", str(tmp_path / "ev")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "is a draft (draft: true)" in err and "cannot be run" in err
    assert not (tmp_path / "ev" / "ledger.jsonl").exists()


def test_the_cycle_asset_refuses_a_draft_too(drafted, demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Dagster UI and schedules run the assets without the CLI's checks: confirmed_standard refuses as well."""
    monkeypatch.setattr(cycle_run, "check_inputs", lambda *args: None)
    with pytest.raises(AssuranceError) as err:
        cycle_run.run_cycle(drafted[0], str(demo.log_path), tmp_path / "ev")
    message = str(err.value)
    assert "is a draft (draft: true)" in message and "\n" not in message
    assert "Dagster" not in message and "Error:" not in message


def test_once_every_mark_is_removed_the_standard_loads_and_authorizes(drafted, tmp_path: Path) -> None:
    reviewed = _reviewed(drafted[0], tmp_path / "standard")
    standard = load_standard(reviewed)
    assert draft_items(standard) == []
    auth = authorize(reviewed, "CFO office", "reviewed draft", Ledger(tmp_path / "evidence"))
    assert auth.authorization.files.keys() == {"standard.yaml", *(f"decision_points/{p}.yaml" for p in DECISION_POINTS)}


# ---------------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------------


def test_cli_json_lists_the_points_found_over_the_whole_log(demo: DemoPaths, tmp_path: Path, capsys) -> None:
    out = tmp_path / "empty"
    out.mkdir()  # an existing empty folder may receive the draft
    assert main(["init", "--source", str(demo.log_path), "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    ids = [p["id"] for p in result["decision_points"]]
    assert ids == sorted([*DECISION_POINTS, "loan_waiver"])  # the unknown point is in the log, so it is drafted too
    assert result["rows"] == 6_000 and result["drafts"] > len(ids)
    assert all({"rows", "risk_tier", "contract_columns", "conditions", "decision_field"} <= p.keys() for p in result["decision_points"])
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]  # no temporary folder left beside it


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--out", "{existing}"], 2, "exists and is not empty; init never overwrites"),
        (["--out", "{file}"], 2, "exists and is not a folder"),
        (["--from", "2026-02-30"], 2, "--from '2026-02-30': not a date"),
        (["--from", "2026-03-01", "--to", "2026-02-01"], 2, "is not before --to"),
        (["--from", "2030-01-01"], 2, "no decisions in the window"),
        (["--source", "{missing}"], 3, "no such file or folder"),
        (["--source", "{garbage}"], 3, "cannot be read"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(demo: DemoPaths, tmp_path: Path, capsys, args, code, fragment) -> None:
    existing, file, garbage = tmp_path / "existing", tmp_path / "file.txt", tmp_path / "garbage.parquet"
    existing.mkdir()
    (existing / "keep.yaml").write_text("mine: true\n")
    file.write_text("x")
    garbage.write_bytes(b"not parquet at all")
    names = {"existing": existing, "file": file, "missing": tmp_path / "missing.parquet", "garbage": garbage}
    argv = {"--source": str(demo.log_path), "--out": str(tmp_path / "new")}
    extra = []
    for flag, value in zip(args[::2], args[1::2], strict=True):
        value = value.format(**names)
        if flag in argv:
            argv[flag] = value
        else:
            extra += [flag, value]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["init", *[x for kv in argv.items() for x in kv], *extra]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, nothing overwritten
    assert (existing / "keep.yaml").read_text() == "mine: true\n"


def test_help_describes_the_draft(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["init", "--help"])
    assert done.value.code == 0
    assert "draft: true" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------
# Retention rules, one by one
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extremes", "upward", "integer", "bound"),
    [
        ([310.54, 410.66, 417.58, 452.22, 455.43], False, False, 0),  # every value at or above 0: the natural floor
        ([224463.6, 125475.92, 108473.22, 103275.87, 101581.97], True, False, 110000),  # the fifth largest, rounded up
        ([7030, 7030, 7030, 7030, 6812], True, True, 6900),
        ([-5.0, -3.0, -2.5, -1.25, -0.123], False, False, -0.13),  # the fifth smallest, rounded down
        ([3.0, 2.0, 1.0, 0.5], True, False, None),  # fewer than five rows: no bound
    ],
)
def test_bounds_are_rounded_fifth_extremes(extremes, upward, integer, bound) -> None:
    assert rounded_bound(extremes, upward, integer) == bound


@pytest.mark.parametrize(
    ("name", "counts", "named"),
    [
        ("currency", {"EUR": 500, "USD": 300, "GBP": 200}, ["EUR", "USD", "GBP"]),
        ("release_note", {"Call-back done": 500, "Waiting for PO": 500}, None),  # sentences are free text
        ("manager_approved_by", {"y.tanaka": 500, "h.berg": 500}, None),  # a person
        ("status", {f"s{i}": 40 for i in range(21)}, None),  # more than 20 values
        ("status", {"open": 490, "a": 4, "b": 4, "c": 4, "d": 4}, None),  # values seen on fewer than 5 rows cover over 1%
        ("status", {"open": 99_995, "rare": 3, "other": 2}, ["open"]),  # ...or not: the rare ones stay unnamed
    ],
)
def test_only_code_like_values_seen_on_five_rows_are_named(name, counts, named) -> None:
    from assurance_pipeline.standard.drafting import draft_column

    profile = ColumnProfile(name, "string", sum(counts.values()), len(counts), categories=counts)
    assert draft_column(profile, profile.non_null).get("isin") == named


def test_log_columns_are_never_redefined_by_a_contract(drafted) -> None:
    for body in _points(drafted[0]).values():
        assert not set(body["contract"]) & set(LOG_COLUMNS)


def _small_log(path: Path, points: list[str], rows: int = 400) -> Path:
    """A log whose `limit` is missing on a third of the rows and is what `approved` depends on, beside a free-text note."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    limit = [None if i % 3 == 0 else float(100 * (i % 7)) for i in range(rows)]
    table = pa.table({
        "decision_id": [f"D{i}" for i in range(rows)],
        "decision_point": [points[i % len(points)] for i in range(rows)],
        "decided_at": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i) for i in range(rows)],
        "actor_type": ["agent"] * rows,
        "actor_id": ["bot"] * rows,
        "limit_amount": limit,
        "approved": [v is not None and v > 250 for v in limit],
        "note": [f"customer {i} called about order {i * 7}" for i in range(rows)],
    })
    pq.write_table(table, path)
    return path


def test_invalid_point_values_are_left_out_and_counted(tmp_path: Path, capsys) -> None:
    source = _small_log(tmp_path / "log.parquet", ["credit_limit", "not a valid id!"])
    assert main(["init", "--source", str(source), "--out", str(tmp_path / "draft"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [p["id"] for p in result["decision_points"]] == ["credit_limit"] and result["skipped_points"] == ["not a valid id!"]
    body = _points(tmp_path / "draft")["credit_limit"]
    assert body["contract"]["limit_amount"]["nullable"] is True and "isin" not in body["contract"]["note"]
    assert "customer" not in (tmp_path / "draft" / "decision_points" / "credit_limit.yaml").read_text()
    # a rule over a column that is sometimes missing stays defined on every row: a cycle would count unknowns as deviations
    assert any("limit_amount IS NOT NULL AND limit_amount > " in c["when"] and c["require"] == "approved = TRUE"
               for c in body["conditions"])


def test_a_log_with_no_valid_point_id_is_refused(tmp_path: Path, capsys) -> None:
    source = _small_log(tmp_path / "log.parquet", ["not valid"])
    assert main(["init", "--source", str(source), "--out", str(tmp_path / "draft")]) == 2
    err = capsys.readouterr().err
    assert "no decision_point value in the window is a valid id" in err and err.count("\n") == 1
    assert not (tmp_path / "draft").exists()
