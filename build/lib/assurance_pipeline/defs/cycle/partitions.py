"""Each cycle's window is a partition of the cycle's assets, so the asset pages show the history of decisions window
by window, and a governance person starts a cycle by picking (or adding) its window, or backfills several.

Windows are dynamic partitions named `FROM--TO`, read as `assurance cycle --from FROM --to TO` reads them (UTC; a bare
TO date includes that whole day): `2026-05-01--2026-06-30` is May and June, `2026-02-18T02:00:00Z--2026-02-19T02:00:00Z`
a day from 02:00; an empty side is open (`--2026-06-30`), and `all` is the whole log. Windows of any length fit,
as tiers cycle at their own cadences and a sensor covers whatever arrived; the CLI, the schedules and the sensors
add the window they run before they run it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.sources.window import Window

CYCLE_WINDOWS = dg.DynamicPartitionsDefinition(name="cycle_windows")
WHOLE_LOG = "all"
SEPARATOR = "--"


def window_key(window: Window) -> str:
    """The partition key of a window: dates where the window starts and ends at midnight UTC, else instants."""
    if window.start is None and window.end is None:
        return WHOLE_LOG
    return f"{_side(window.start, end=False)}{SEPARATOR}{_side(window.end, end=True)}"


def _side(instant: datetime | None, end: bool) -> str:
    if instant is None:
        return ""
    instant = instant.astimezone(UTC)
    if instant.time() == datetime.min.time():
        return (instant - timedelta(days=1) if end else instant).date().isoformat()  # an end day is included
    return instant.isoformat().replace("+00:00", "Z")


def key_window(key: str) -> Window:
    """The window a partition key names; one line naming the partition if it names none."""
    if key == WHOLE_LOG:
        return Window(None, None)
    if SEPARATOR not in key:
        raise AssuranceError(f"partition {key!r}: not a window (write FROM--TO, e.g. 2026-05-01--2026-06-30, or {WHOLE_LOG})")
    start, end = key.split(SEPARATOR, 1)
    return Window.parse(start or None, end or None, names=(f"partition {key!r}: from", f"partition {key!r}: to"))


def add_window(instance: dg.DagsterInstance, key: str) -> None:
    """Register a window as a partition (once) before a run of it is launched."""
    if not instance.has_dynamic_partition(CYCLE_WINDOWS.name, key):
        instance.add_dynamic_partitions(CYCLE_WINDOWS.name, [key])
