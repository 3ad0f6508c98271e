"""The sponsor's report across cycles (`assurance report`): every cycle recorded in a period, its decisions over time,
the findings opened, disposed and overdue, the mean time to a disposition, and the log's latest signed checkpoint. One
self-contained HTML page like the packs' (no script, no network), read only from the ledger: no pack, no row value."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

from assurance_pipeline.errors import AssuranceError, EvidenceStoreError
from assurance_pipeline.evidence import charts
from assurance_pipeline.evidence.dispositions import list_findings, status_text
from assurance_pipeline.evidence.ledger import LEDGER_FILE, Ledger
from assurance_pipeline.evidence.pack_page import HTML
from assurance_pipeline.evidence.transparency import latest_note
from assurance_pipeline.findings.lifecycle import OPEN


def parse_day(flag: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else _bad(flag, text)
    except ValueError:
        return _bad(flag, text)


def _bad(flag: str, text: str) -> dt.date:
    raise AssuranceError(f"report {flag} {text!r}: not a date as YYYY-MM-DD")


def _day(at: str) -> dt.date:
    return dt.date.fromisoformat(at[:10])


def report_data(evidence_dir: Path, start: dt.date, end: dt.date) -> dict:
    """What the report shows for cycles and dispositions recorded from `start` to `end` (whole UTC days, included)."""
    ledger = Ledger(evidence_dir)
    if not ledger.path.is_file():
        raise EvidenceStoreError(f"{evidence_dir}: no {LEDGER_FILE} (not an evidence store?)")
    in_period = lambda at: start <= _day(at) <= end  # noqa: E731 - one test, named once
    cycles = [{"seq": e.seq, "at": e.at, "cycle_id": e.body.get("cycle_id"), "decision": e.body.get("decision"),
               "reason": e.body.get("reason") or "", "window": e.body.get("window") or {}, "findings": len(e.body.get("findings") or []),
               "label": e.at[:10]} for e in ledger.entries() if e.kind == "cycle_decision" and in_period(e.at)]
    rows = list_findings(ledger)
    opened = [r for r in rows if in_period(r["first_seen"])]
    disposals = [(r, d) for r in rows for d in r["dispositions"] if in_period(d["at"])]
    firsts = [(r, r["dispositions"][0]) for r in rows if r["dispositions"] and in_period(r["dispositions"][0]["at"])]
    hours = [(dt.datetime.fromisoformat(d["at"].replace("Z", "+00:00")) - dt.datetime.fromisoformat(r["first_seen"].replace("Z", "+00:00")))
             .total_seconds() / 3600 for r, d in firsts]
    return {
        "start": start.isoformat(), "end": end.isoformat(), "cycles": cycles,
        "chart": charts.decision_strip(cycles) if cycles else None,
        "opened": opened, "disposals": disposals, "overdue": [r for r in rows if r["overdue"]],
        "still_open": [{**r, "status_text": status_text(r)} for r in rows if r["status"] in OPEN],
        "mean_hours": sum(hours) / len(hours) if hours else None, "timed": len(hours),
        "checkpoint": _checkpoint(evidence_dir),
    }


def _checkpoint(evidence_dir: Path) -> str | None:
    try:
        return latest_note(evidence_dir).decode("utf-8", "replace")
    except EvidenceStoreError:
        return None


def write_report(evidence_dir: Path, start: dt.date, end: dt.date, out: Path) -> dict:
    """Render the report and write it atomically (a temp file beside `out`, then renamed): a reader never sees half."""
    if end < start:
        raise AssuranceError(f"report --to {end}: before --from {start}")
    if out.is_dir():
        raise AssuranceError(f"report --out {out}: a folder, not a file")
    data = report_data(evidence_dir, start, end)
    page = HTML.get_template("report.html.j2").render(**data, generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise AssuranceError(f"report --out {out}: cannot be written ({err.strerror or err})") from None
    return {"out": str(out), "cycles": len(data["cycles"]), "opened": len(data["opened"]), "disposed": len(data["disposals"]),
            "overdue": len(data["overdue"]), "mean_hours_to_disposition": data["mean_hours"]}
