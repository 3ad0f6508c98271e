"""The transient workspace: the one place sampled rows live, for the duration of a cycle only."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from assurance_pipeline.errors import AssuranceError

SPILL_PREFIX = "assurance-spill-"
# A spill folder whose process is gone is an orphan (the process was killed). One without a readable owner, or whose
# process id was reused, is an orphan once it is older than any cycle could run.
ORPHAN_AGE_SECONDS = 2 * 24 * 3600
# What DuckDB may hold in memory before it spills to the spill folder: the population's per-id aggregates (duplicate
# ids, a baseline's distinct counts) grow with the log, so without a limit a 100M-decision log needs gigabytes.
# ASSURANCE_WORKSPACE_MEMORY raises it (DuckDB's syntax: "2GB"). 512MB bought little speed (a 100M-decision cycle
# 38.8-39.3 s against 39.5-41.2 s) for 245-270 MiB more at the peak. 128MB grew a cycle's peak less from 10M to 100M
# decisions (12% against 21%) at the same speed, but DuckDB's aggregation needs memory per thread: the id check
# failed out of memory at 128MB with 16 threads on a 10M-decision log and with 8 threads on a 100M one (and with 2
# threads over 150M ids), where 256MB held with 16 threads at 100M and 2 threads over 150M ids.
MEMORY_LIMIT = "256MB"
_OWNER = re.compile(re.escape(SPILL_PREFIX) + r"(\d+)-")


@contextmanager
def transient_workspace() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB (nothing on disk); its spill folder, if DuckDB ever needs one, is removed too. Spill
    folders that killed cycles left behind are removed first."""
    remove_orphaned_spills(Path(tempfile.gettempdir()))
    spill = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
    limit = os.environ.get("ASSURANCE_WORKSPACE_MEMORY") or MEMORY_LIMIT
    try:
        con = duckdb.connect(":memory:", config={"temp_directory": spill, "memory_limit": limit})
    except duckdb.Error:
        shutil.rmtree(spill, ignore_errors=True)
        raise AssuranceError(f"ASSURANCE_WORKSPACE_MEMORY {limit!r}: not a memory size (use e.g. 512MB or 2GB)") from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def remove_orphaned_spills(folder: Path, now: float | None = None) -> list[Path]:
    """Remove this workspace's own spill folders (by name) whose process no longer runs, or that are older than
    ORPHAN_AGE_SECONDS; a SIGKILL gives a cycle no chance to remove its own. Returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    for path in folder.glob(SPILL_PREFIX + "*"):
        try:
            if not path.is_dir() or path.is_symlink():
                continue
            owner = _OWNER.match(path.name)
            gone = owner is not None and not _running(int(owner.group(1)))
            if not gone and now - path.stat().st_mtime < ORPHAN_AGE_SECONDS:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it runs
    return True
