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
# ASSURANCE_WORKSPACE_MEMORY sets it (DuckDB's syntax: "2GB"). What DuckDB holds up to the limit is what grows with the
# log, so the lower the limit the flatter the peak: with 2 threads, a cycle's peak went 372 -> 426 MiB from 10M to 100M
# decisions at 128MB against 425 -> 550 at 256MB, at the same speed (the baseline's 393 -> 436 against 411 -> 476).
# DuckDB's aggregation needs memory per thread: at 128MB the selection over a 100M-decision window ran out of memory
# with 8 threads and held with 4, and at 256MB it held with 8 (32MB a thread); where the id check still runs out, it
# splits (`population.id_hashes`). So the default is 128MB, or 32MB a thread where that is more.
MEMORY_LIMIT_MB = 128
MEMORY_PER_THREAD_MB = 32
_OWNER = re.compile(re.escape(SPILL_PREFIX) + r"(\d+)-")


@contextmanager
def transient_workspace() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB (nothing on disk); its spill folder, if DuckDB ever needs one, is removed too. Spill
    folders that killed cycles left behind are removed first."""
    remove_orphaned_spills(Path(tempfile.gettempdir()))
    spill = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
    limit = os.environ.get("ASSURANCE_WORKSPACE_MEMORY")
    try:
        con = duckdb.connect(":memory:", config={"temp_directory": spill, **({"memory_limit": limit} if limit else {})})
    except duckdb.Error:
        shutil.rmtree(spill, ignore_errors=True)
        raise AssuranceError(f"ASSURANCE_WORKSPACE_MEMORY {limit!r}: not a memory size (use e.g. 512MB or 2GB)") from None
    try:
        if not limit:
            (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
            con.execute(f"SET memory_limit = '{default_memory_limit(int(threads))}'")
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def default_memory_limit(threads: int) -> str:
    """The workspace's limit for DuckDB running `threads` threads (see MEMORY_PER_THREAD_MB)."""
    return f"{max(MEMORY_LIMIT_MB, MEMORY_PER_THREAD_MB * threads)}MB"


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
