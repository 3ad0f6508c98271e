"""User-facing errors: each carries the exit code the CLI returns and a one-line message."""

import re


class AssuranceError(Exception):
    """Bad usage or bad input (exit 2): the message names the file, field or row."""

    exit_code = 2


class SourceError(AssuranceError):
    """The decision log could not be read (exit 3)."""

    exit_code = 3


class EvidenceStoreError(AssuranceError):
    """The evidence store could not be read or written (exit 3)."""

    exit_code = 3


def engine_error(err: Exception, context: str) -> SourceError:
    """A DuckDB error as one line, its quoted parts redacted: they can be row values, which are never kept."""
    lines = str(err).strip().splitlines()
    first = re.sub(r"\"[^\"]*\"|'[^']*'", "'…'", lines[0] if lines else type(err).__name__)
    if "Out of Memory" in first:
        first += " (the transient workspace's memory limit; set ASSURANCE_WORKSPACE_MEMORY higher, e.g. 2GB)"
    return SourceError(f"{context}: {first}")


def is_engine_error(err: BaseException) -> bool:
    """A DuckDB error, known without importing DuckDB (the CLI's light commands never load it)."""
    return type(err).__module__.split(".")[0] in ("duckdb", "_duckdb")
