"""The transient workspace's memory limit: 256MB, or 16MB for each thread DuckDB runs where that is more (its
aggregation needs memory per thread: at 256MB the id check over a 100M-decision window ran out of memory with 32
threads), unless ASSURANCE_WORKSPACE_MEMORY sets it."""

import duckdb
import pytest

from assurance_pipeline import workspace
from assurance_pipeline.workspace import default_memory_limit, transient_workspace


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def _spelled(size: str) -> str:
    """A size as DuckDB reports it back (e.g. 256MB as 244.1 MiB)."""
    return _limit(duckdb.connect(config={"memory_limit": size}))


def test_the_default_is_256mb_or_16mb_a_thread():
    assert [default_memory_limit(t) for t in (1, 2, 16, 17, 32, 64)] == ["256MB", "256MB", "256MB", "272MB", "512MB", "1024MB"]


@pytest.mark.parametrize("threads", [2, 32])
def test_the_workspace_takes_the_default_for_the_threads_duckdb_runs(monkeypatch, threads):
    monkeypatch.delenv("ASSURANCE_WORKSPACE_MEMORY", raising=False)
    connect = duckdb.connect
    monkeypatch.setattr(workspace.duckdb, "connect", lambda *args, config=None, **kwargs: connect(*args, config={**(config or {}), "threads": threads}, **kwargs))
    with transient_workspace() as con:
        assert _limit(con) == _spelled(default_memory_limit(threads)) == _spelled({2: "256MB", 32: "512MB"}[threads])


def test_the_variable_sets_the_limit_whatever_the_threads(monkeypatch):
    monkeypatch.setenv("ASSURANCE_WORKSPACE_MEMORY", "3GB")
    with transient_workspace() as con:
        assert _limit(con) == _spelled("3GB")
