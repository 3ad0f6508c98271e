"""The transient workspace's memory limit: 128MB, or 32MB for each thread DuckDB runs where that is more (its
aggregation needs memory per thread: at 128MB the selection over a 100M-decision window ran out of memory with 8
threads), unless ASSURANCE_WORKSPACE_MEMORY sets it."""

import duckdb
import pytest

from assurance_pipeline import workspace
from assurance_pipeline.workspace import default_memory_limit, transient_workspace


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def _spelled(size: str) -> str:
    """A size as DuckDB reports it back (e.g. 128MB as 122.0 MiB)."""
    return _limit(duckdb.connect(config={"memory_limit": size}))


def test_the_default_is_128mb_or_32mb_a_thread():
    assert [default_memory_limit(t) for t in (1, 2, 4, 5, 8, 32)] == ["128MB", "128MB", "128MB", "160MB", "256MB", "1024MB"]


@pytest.mark.parametrize("threads", [2, 32])
def test_the_workspace_takes_the_default_for_the_threads_duckdb_runs(monkeypatch, threads):
    monkeypatch.delenv("ASSURANCE_WORKSPACE_MEMORY", raising=False)
    connect = duckdb.connect
    monkeypatch.setattr(workspace.duckdb, "connect", lambda *args, config=None, **kwargs: connect(*args, config={**(config or {}), "threads": threads}, **kwargs))
    with transient_workspace() as con:
        assert _limit(con) == _spelled(default_memory_limit(threads)) == _spelled({2: "128MB", 32: "1024MB"}[threads])


def test_the_variable_sets_the_limit_whatever_the_threads(monkeypatch):
    monkeypatch.setenv("ASSURANCE_WORKSPACE_MEMORY", "3GB")
    with transient_workspace() as con:
        assert _limit(con) == _spelled("3GB")
