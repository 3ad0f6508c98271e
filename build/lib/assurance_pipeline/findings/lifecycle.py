"""The life of a finding across cycles, read back from the ledger: each cycle that saw it, each disposition people
recorded, and the status that leaves it in. Nothing closes itself: only a disposition (or, for an accepted change,
the authorization that makes it) does."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from assurance_pipeline.evidence.ledger import Ledger, LedgerEntry, LedgerError
from assurance_pipeline.findings.model import Finding

AWAITING = ("open", "reopened")  # no disposition stands: these fall overdue after their grace
OPEN = (*AWAITING, "escalated", "owed")  # listed by `findings --open`
CARRIED = (*OPEN, "remediated")  # the same problem seen again is a recurrence of these (a remediated one reopens)


@dataclass
class Sighting:
    """One cycle that saw the problem, with what it measured then."""

    cycle_id: str
    at: str
    seq: int
    severity: str
    summary: str
    statistic: float | None


@dataclass
class Disposition:
    disposition: str
    by: str
    note: str
    at: str
    seq: int
    to: str | None = None
    superseded: bool = False
    signed: bool = False  # signed by the registered person it names (an unsigned one: no people were registered)


@dataclass(frozen=True)
class CycleSeen:
    """What a recorded cycle covered: its decision points, and whether it scanned the log at all."""

    cycle_id: str
    at: str
    seq: int
    points: frozenset[str]


@dataclass
class FindingRecord:
    id: str
    key: str
    kind: str
    decision_point: str | None
    sightings: list[Sighting] = field(default_factory=list)
    dispositions: list[Disposition] = field(default_factory=list)
    status: str = "open"
    awaiting_since: str | None = None  # open: first seen; reopened: the recurrence that reopened it
    missed: list[CycleSeen] = field(default_factory=list)  # later cycles over its point that did not see it
    confirmed_by: str | None = None  # remediated: the first later cycle over its point without it

    @property
    def current(self) -> Disposition | None:
        return self.dispositions[-1] if self.dispositions else None

    @property
    def latest(self) -> Sighting:
        return self.sightings[-1]

    def to_dict(self) -> dict:
        return {"id": self.id, "key": self.key, "kind": self.kind, "decision_point": self.decision_point,
                "severity": self.latest.severity, "summary": self.latest.summary, "statistic": self.latest.statistic,
                "status": self.status, "first_seen": self.sightings[0].at, "first_cycle": self.sightings[0].cycle_id,
                "last_seen": self.latest.at, "last_cycle": self.latest.cycle_id, "cycles_seen": len(self.sightings),
                "awaiting_since": self.awaiting_since, "not_seen_since": self.latest.at if self.missed else None,
                "cycles_missed": len(self.missed), "confirmed_by": self.confirmed_by,
                "disposition": asdict(self.current) if self.current else None,
                "sightings": [asdict(s) for s in self.sightings], "dispositions": [asdict(d) for d in self.dispositions]}


def read_findings(ledger: Ledger) -> dict[str, FindingRecord]:
    """Every finding ever recorded (by id, oldest first), with its sightings, dispositions and status."""
    records: dict[str, FindingRecord] = {}
    cycles: list[CycleSeen] = []
    authorizations: list[LedgerEntry] = []
    for entry in ledger.entries():
        try:
            if entry.kind == "cycle_decision":
                cycles.append(_add_sightings(records, entry))
            elif entry.kind == "disposition" and str(entry.body["finding_id"]) in records:
                records[str(entry.body["finding_id"])].dispositions.append(_disposition(entry))
            elif entry.kind == "authorization":
                authorizations.append(entry)
        except (KeyError, TypeError, AttributeError):
            raise LedgerError(f"evidence store {ledger.folder}: line {entry.seq} (seq {entry.seq}): not a {entry.kind} entry as "
                              "the pipeline writes it (a field is missing or of the wrong type); run `assurance verify`") from None
    for record in records.values():
        _settle(record, cycles, authorizations)
    return records


def _add_sightings(records: dict[str, FindingRecord], entry: LedgerEntry) -> CycleSeen:
    body = entry.body
    for f in body["findings"]:
        fid = str(f["id"])
        # An entry written before findings had keys: each such finding is its own problem.
        record = records.setdefault(fid, FindingRecord(fid, f.get("key") or f"{f['kind']}|{f.get('decision_point') or ''}|{fid}",
                                                       f["kind"], f.get("decision_point")))
        record.sightings.append(Sighting(body["cycle_id"], entry.at, entry.seq, f["severity"], f["summary"], f.get("statistic")))
    return CycleSeen(body["cycle_id"], entry.at, entry.seq, frozenset(p["id"] for p in body.get("decision_points") or []))


def _disposition(entry: LedgerEntry) -> Disposition:
    b = entry.body
    return Disposition(b["disposition"], b["by"], b["note"], entry.at, entry.seq, b.get("to"), signed=entry.signature is not None)


def covers(cycle: CycleSeen, record: FindingRecord) -> bool:
    """Whether a cycle looked where the finding is: its decision point, any scanned window for an ungoverned point,
    every cycle for a finding without a point (the standard itself)."""
    if record.decision_point is None:
        return True
    return record.decision_point in cycle.points or (record.kind == "unknown_decision_point" and bool(cycle.points))


BASELINE_KINDS = ("data_drift", "decision_drift", "cost", "override")  # a new go-live baseline answers these too


def owed_change_closed(record: FindingRecord, accepted: Disposition, authorizations: list[LedgerEntry]) -> bool:
    """An accepted change is owed to the standard until an authorization after the acceptance changes what the
    finding is about (`touches`, recorded with each authorization): its decision point's file, or the baseline for
    drift, cost and override; the registered actors (standard.yaml) for an ungoverned change; anything for a finding
    about the standard itself. An authorization recorded without `touches` (an older store) closes it."""
    return any(a.seq > accepted.seq and _answers(record, a.body.get("touches")) for a in authorizations)


def _answers(record: FindingRecord, touches: dict | None) -> bool:
    if not isinstance(touches, dict) or record.kind in ("standard_integrity", "overdue_disposition"):
        return True
    if record.kind == "ungoverned_change":
        return bool(touches.get("header"))
    if record.kind in BASELINE_KINDS and touches.get("baseline"):
        return True
    return record.decision_point in (touches.get("points") or [])


def _settle(record: FindingRecord, cycles: list[CycleSeen], authorizations: list[LedgerEntry]) -> None:
    for earlier in record.dispositions[:-1]:
        earlier.superseded = True
    later = [c for c in cycles if c.seq > record.sightings[0].seq and covers(c, record)]
    seen = {s.seq for s in record.sightings}
    record.missed = [c for c in later if c.seq > record.latest.seq]
    current = record.current
    record.awaiting_since = record.sightings[0].at if current is None else None
    if current is None:
        record.status = "open"
    elif current.disposition == "remediate":
        again = [s for s in record.sightings if s.seq > current.seq]
        clean = [c for c in later if c.seq > current.seq and c.seq not in seen]
        record.status = "reopened" if again else "remediated"
        record.awaiting_since = again[0].at if again else None
        record.confirmed_by = clean[0].cycle_id if clean and not again else None
    elif current.disposition == "accept_change":
        record.status = "change_authorized" if owed_change_closed(record, current, authorizations) else "owed"
    elif current.disposition == "escalate":
        record.status = "escalated"
    else:
        record.status = "false_positive"


def carry_forward(records: dict[str, FindingRecord], findings: list[Finding]) -> list[Finding]:
    """A problem still open (or remediated) keeps its finding: this cycle's sighting becomes a recurrence of it."""
    live = {r.key: r for r in records.values() if r.status in CARRIED}
    for finding in findings:
        record = live.pop(finding.key, None)
        if record is not None:
            finding.id = finding.recurrence_of = record.id
            finding.first_seen = record.sightings[0].at
    return findings
