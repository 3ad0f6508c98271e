"""The transient workspace: the one place sampled rows live, for the duration of a cycle only."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


@contextmanager
def transient_workspace() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB (nothing on disk); its spill folder, if DuckDB ever needs one, is removed too."""
    spill = tempfile.mkdtemp(prefix="assurance-spill-")
    con = duckdb.connect(":memory:", config={"temp_directory": spill})
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
