"""The living demo: the demo log's last two months (its drift period) replayed forward, so that as time passes the
demo's source keeps receiving decisions and the tier schedules find fresh windows with the demo's problems in them.

Only a folder that holds a log `write_demo` wrote (marked in its Parquet metadata) is replayed into: the replay never
adds a decision to a real log. Each replay writes one Parquet part into `<folder>/replay/`: the pattern's decisions
moved forward by whole pattern lengths into the range asked for, each with a new id (`<id>-R<n>`, n the periods moved)
and every timestamp moved alike. The work stays in DuckDB; what is returned is a count.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from assurance_pipeline.demo.generator import DEMO_MARK, DRIFT_FROM, DRIFT_TO, REPLAY_FOLDER
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.sources.decision_log import quote_ident, quote_literal
from assurance_pipeline.workspace import transient_workspace

PATTERN = timedelta(days=(DRIFT_TO - DRIFT_FROM).days + 1)  # the drift period: May and June as the demo first made them


@dataclass(frozen=True)
class Pattern:
    """The decisions replayed: those of the demo log decided in (start, end], end being the log's last decision."""

    log: Path
    start: datetime
    end: datetime

    def to_dict(self) -> dict:
        return {"log": str(self.log), "start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, value: dict) -> Pattern:
        return cls(Path(value["log"]), datetime.fromisoformat(value["start"]), datetime.fromisoformat(value["end"]))


def demo_log_in(folder: Path, shown: str) -> Path:
    """The demo log among the folder's own Parquet files; one line saying why not if there is none (naming the
    source as `shown`, which masks a password)."""
    if not folder.is_dir():
        raise AssuranceError(f"the demo replay adds Parquet parts to a folder source, and {shown} is not a folder "
                             "(set ASSURANCE_SOURCE to the demo's folder, e.g. data/demo)")
    for path in sorted(folder.glob("*.parquet")):
        if (pq.read_schema(path).metadata or {}).get(DEMO_MARK[0]) == DEMO_MARK[1]:
            return path
    raise AssuranceError(f"{folder} holds no demo log written by `assurance demo`: the replay adds decisions to the demo only")


def pattern_of(folder: Path, shown: str) -> Pattern:
    """The demo log's last PATTERN of decisions (its drift period), ending at its last decision."""
    log = demo_log_in(folder, shown)
    with transient_workspace() as con:
        end = con.execute(f"SELECT max(decided_at) FROM read_parquet({quote_literal(str(log))})").fetchone()[0]
    if end is None:
        raise AssuranceError(f"{log}: the demo log is empty")
    return Pattern(log, end - PATTERN, end)


def replay(pattern: Pattern, after: datetime, through: datetime) -> int:
    """Write the pattern's decisions moved into (after, through] as one part under the log's folder; return how many.
    The part is named by `after`, so a replay from the same instant (a tick whose cursor was not kept) replaces it."""
    if through <= after:
        return 0
    with transient_workspace() as con:
        relation = f"read_parquet({quote_literal(str(pattern.log))})"
        stamps = [name for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall() if kind.startswith("TIMESTAMP")]
        parts = [_moved(relation, stamps, pattern, k, lo, hi) for k, lo, hi in _periods(pattern, after, through)]
        if not parts:
            return 0
        folder = pattern.log.parent / REPLAY_FOLDER
        folder.mkdir(exist_ok=True)
        target = folder / f"part-{after.strftime('%Y%m%dT%H%M%S%f')}.parquet"
        written = folder / f".{target.name}.tmp"
        con.execute(f"CREATE TEMP TABLE replayed AS {' UNION ALL '.join(parts)}")
        count = con.execute("SELECT count(*) FROM replayed").fetchone()[0]
        if count:
            con.execute(f"COPY (SELECT * FROM replayed ORDER BY decided_at) TO {quote_literal(str(written))} (FORMAT parquet, COMPRESSION zstd)")
            os.replace(written, target)
    return count


def _periods(pattern: Pattern, after: datetime, through: datetime) -> list[tuple[int, datetime, datetime]]:
    """(after, through] cut where one more pattern length begins: (k, lo, hi), k the pattern lengths moved."""
    length = pattern.end - pattern.start
    first = max(1, math.ceil((after - pattern.end) / length))
    pieces, k = [], first
    while pattern.end + (k - 1) * length < through:
        lo, hi = max(after, pattern.end + (k - 1) * length), min(through, pattern.end + k * length)
        if lo < hi:
            pieces.append((k, lo, hi))
        k += 1
    return pieces


def _moved(relation: str, stamps: list[str], pattern: Pattern, k: int, lo: datetime, hi: datetime) -> str:
    """The pattern's decisions of (lo, hi] less k lengths, moved k lengths forward, with new ids."""
    shift = k * (pattern.end - pattern.start)
    by = f"to_microseconds({shift // timedelta(microseconds=1)})"
    moved = ", ".join([f"CAST(decision_id AS VARCHAR) || '-R{k}' AS decision_id",
                       *(f"{quote_ident(name)} + {by} AS {quote_ident(name)}" for name in stamps)])
    return (f"SELECT * REPLACE ({moved}) FROM {relation} "
            f"WHERE decided_at > '{(lo - shift).isoformat()}'::TIMESTAMPTZ AND decided_at <= '{(hi - shift).isoformat()}'::TIMESTAMPTZ")
