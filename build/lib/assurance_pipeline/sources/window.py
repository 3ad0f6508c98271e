"""The cycle's window over `decided_at`: from inclusive, to exclusive, in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from assurance_pipeline.errors import AssuranceError


@dataclass(frozen=True)
class Window:
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None, names: tuple[str, str] = ("--from", "--to")) -> Window:
        """A bare end date includes that whole day (`--to 2026-06-30` ends at July 1st 00:00); `names` are what the
        user typed them as (the CLI's flags, or the run config's fields in the Dagster UI)."""
        window = cls(_parse_instant(start, names[0], end_of_day=False), _parse_instant(end, names[1], end_of_day=True))
        if window.start and window.end and window.start >= window.end:
            raise AssuranceError(f"{names[0]} {start} is not before {names[1]} {end}")
        return window

    def predicate(self, column: str = "decided_at") -> str:
        """SQL over the window; the instants are formatted by us, never taken from user text."""
        parts = ["TRUE"]
        if self.start:
            parts.append(f"{column} >= TIMESTAMPTZ '{self.start.isoformat()}'")
        if self.end:
            parts.append(f"{column} < TIMESTAMPTZ '{self.end.isoformat()}'")
        return " AND ".join(parts)

    def to_dict(self) -> dict:
        return {"from": _iso(self.start), "to": _iso(self.end)}

    @classmethod
    def from_dict(cls, data: dict) -> Window:
        return cls(*(datetime.fromisoformat(data[k]) if data.get(k) else None for k in ("from", "to")))


def _parse_instant(text: str | None, flag: str, end_of_day: bool) -> datetime | None:
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC) + (timedelta(days=1) if end_of_day else timedelta())
        instant = datetime.fromisoformat(text)
        instant = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
        instant.astimezone(UTC)  # an instant beyond year 9999 in UTC overflows here, not later
    except ValueError:
        raise AssuranceError(f"{flag} {text!r}: not a date (use YYYY-MM-DD or an ISO-8601 timestamp)") from None
    except OverflowError:  # the day after 9999-12-31 is not a date
        raise AssuranceError(f"{flag} {text!r}: out of range (the last day a window can include is 9999-12-30)") from None
    return instant


def _iso(instant: datetime | None) -> str | None:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z") if instant else None
