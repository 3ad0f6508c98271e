"""`assurance report`: the sponsor's page across cycles, written atomically, with one-line errors."""

import datetime as dt

import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.evidence.sponsor_report import report_data
from assurance_pipeline.evidence.transparency import latest_note


def _day(store) -> str:
    return Ledger(store).find("cycle_decision")[0].at[:10]


def _report(store, out, start, end) -> int:
    return main(["report", "--evidence", str(store), "--from", start, "--to", end, "--out", str(out)])


def test_the_report_shows_every_cycle_finding_disposition_and_the_checkpoint(store, tmp_path, capsys):
    [cycle] = Ledger(store).find("cycle_decision")
    finding = cycle.body["findings"][0]["id"]
    assert main(["dispose", finding, "--as", "escalate", "--to", "Risk <committee>", "--by", "Ann", "--note", "n & m",
                 "--evidence", str(store)]) == 0
    out = tmp_path / "report.html"
    assert _report(store, out, _day(store), _day(store)) == 0
    assert f"report of 1 cycle(s) from {_day(store)}" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert f'id="cycle-{cycle.body["cycle_id"]}"' in page
    assert all(f'id="opened-{f["id"]}"' in page for f in cycle.body["findings"])
    assert f'id="count-opened" style="font-size:22px">{len(cycle.body["findings"])}<' in page
    assert 'id="count-disposed" style="font-size:22px">1<' in page and "Risk &lt;committee&gt;" in page and "n &amp; m" in page
    assert latest_note(store).decode() in page.replace("&#43;", "+").replace("&#34;", '"')  # the signed checkpoint, whole
    assert "<script" not in page and sorted(p.name for p in tmp_path.iterdir()) == ["evidence", "report.html"]  # no temp file left


def test_a_period_without_cycles_says_so(store, tmp_path):
    out = tmp_path / "r.html"
    assert _report(store, out, "2000-01-01", "2000-12-31") == 0
    page = out.read_text(encoding="utf-8")
    assert "No cycle was recorded in this period." in page and 'id="count-cycles" style="font-size:22px">0<' in page


def test_mean_time_to_disposition_is_over_the_findings_first_disposed_in_the_period(store):
    [cycle] = Ledger(store).find("cycle_decision")
    for f in cycle.body["findings"][:2]:
        assert main(["dispose", f["id"], "--as", "false_positive", "--by", "Ann", "--note", "n", "--evidence", str(store)]) == 0
    day = dt.date.fromisoformat(_day(store))
    data = report_data(store, day, day + dt.timedelta(days=1))
    assert data["timed"] == 2 and 0 <= data["mean_hours"] < 1
    assert report_data(store, day + dt.timedelta(days=2), day + dt.timedelta(days=3))["timed"] == 0


@pytest.mark.parametrize("argv, code, message", [
    (["--from", "2026-02-30", "--to", "2026-03-01"], 2, "report --from '2026-02-30': not a date as YYYY-MM-DD"),
    (["--from", "2026-03-01", "--to", "March"], 2, "report --to 'March': not a date as YYYY-MM-DD"),
    (["--from", "2026-03-02", "--to", "2026-03-01"], 2, "report --to 2026-03-01: before --from 2026-03-02"),
    (["--from", "2026-03-01", "--to", "2026-03-02", "--out", "{tmp}/missing/r.html"], 2, "cannot be written"),
    (["--from", "2026-03-01", "--to", "2026-03-02", "--out", "{tmp}"], 2, "a folder, not a file"),
    (["--from", "2026-03-01", "--to", "2026-03-02", "--evidence", "{tmp}/nowhere"], 3, "no ledger.jsonl"),
])
def test_bad_input_is_one_line_and_its_exit_code(store, tmp_path, capsys, argv, code, message):
    args = {"--evidence": str(store), "--out": str(tmp_path / "r.html")}
    pairs = dict(zip(argv[::2], argv[1::2]))
    args.update({k: v.replace("{tmp}", str(tmp_path)) for k, v in pairs.items()})
    assert main(["report", *[x for kv in args.items() for x in kv]]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "r.html").exists()
