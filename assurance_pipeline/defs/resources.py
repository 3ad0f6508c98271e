"""Resources: where the standard, the decision log and the evidence store are, and the transient workspace."""

import os
import pickle
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from assurance_pipeline.evidence.ledger import Ledger, sha256_hex
from assurance_pipeline.sources.decision_log import DecisionLog, has_password
from assurance_pipeline.sources.window import Window
from assurance_pipeline.standard.models import Standard
from assurance_pipeline.workspace import transient_workspace

DEMO_DIR = Path("data") / "demo"


class StandardResource(dg.ConfigurableResource):
    """The business-authored standard folder (kept in version control by its owners)."""

    directory: str

    @property
    def path(self) -> Path:
        return Path(self.directory)


class DecisionLogResource(dg.ConfigurableResource):
    """The production decision log: a Parquet file or folder, a CSV file, a DuckDB or a PostgreSQL table URI."""

    uri: str

    def attach(self, con: duckdb.DuckDBPyConnection, window: Window | None = None, rows: bool = True) -> list[str]:
        return self.log.attach(con, window, rows)

    @property
    def log(self) -> DecisionLog:
        return DecisionLog(self.uri)

    def log_for(self, standard: Standard) -> DecisionLog:
        """The log as a cycle under `standard` reads it: where a PostgreSQL window must be copied into the workspace
        (the server cannot count it exactly), the copy holds only the columns the standard's points may read."""
        return DecisionLog(self.uri, frozenset(standard.columns()))

    @property
    def shown(self) -> str:
        """The URI for messages: a password in it is masked."""
        return DecisionLog(self.uri).shown


class EvidenceStoreResource(dg.ConfigurableResource):
    """The append-only evidence store: ledger.jsonl and packs/."""

    directory: str

    @property
    def path(self) -> Path:
        return Path(self.directory)

    def ledger(self) -> Ledger:
        return Ledger(self.path)


class TransientWorkspaceResource(dg.ConfigurableResource):
    """An in-memory DuckDB for one run: the sampled rows live here and nowhere else, and go when the run ends."""

    _connection: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["TransientWorkspaceResource"]:
        with transient_workspace() as con:
            self._connection = con
            try:
                yield self
            finally:
                self._connection = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            raise dg.Failure("the transient workspace is not open (the resource is used outside a run)")
        return self._connection


class _RunValues(dg.IOManager):
    """Each output pickled to `<folder>/<asset key, or run/step/output/mapping key>`. A run is one window, so
    partitions need no path of their own; and nothing is logged per value (Dagster's filesystem IO manager stores
    three log lines in the event log for each, a third of an empty cycle's events). Says in one line what to do when
    an upstream value is not in this run."""

    def __init__(self, folder: Path):
        self.folder = folder

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            pickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)

    def load_input(self, context: dg.InputContext) -> object:
        try:
            with open(self._path(context.upstream_output), "rb") as value:
                return pickle.load(value)
        except FileNotFoundError:
            raise dg.Failure(description=f"{context.upstream_output.asset_key.to_user_string() if context.upstream_output.asset_key else 'an upstream step'} "
                             "was not materialized in this run: a cycle's values live only within its run, so materialize the "
                             "cycle's assets together (the governed_cycle job)", allow_retries=False) from None

    def _path(self, context: dg.OutputContext) -> Path:
        """An asset's key, or an op's output as Dagster identifies it (run, step, output and, for each output of a
        dynamic op, its mapping key: the drift's points are told apart by it)."""
        return self.folder.joinpath(*(context.asset_key.path if context.has_asset_key else context.get_identifier()))


@dg.io_manager(config_schema={"base_dir": dg.Field(dg.StringSource, is_required=False)})
def run_scoped_io_manager(init_context: dg.InitResourceContext) -> Iterator[dg.IOManager]:
    """The filesystem IO manager under `<storage>/runs/<run id>/`: concurrent cycles on one DAGSTER_HOME never read
    each other's values; the folder goes when the run ends, as a cycle's values are only needed within its run (so
    every asset of a cycle is materialized in one run). They are ids, counts and statistics, never a row's values."""
    run = init_context.run
    if init_context.instance is not None:
        hold_database_connection(init_context.instance)
    folder = run_values_folder(init_context.instance, run, init_context.resource_config.get("base_dir"))
    try:
        yield _RunValues(folder)
    finally:
        if not _steps_in_processes(run):  # a step process's values are the next step's inputs: the run's end removes them
            shutil.rmtree(folder, ignore_errors=True)


_HOLDING: weakref.WeakSet = weakref.WeakSet()


def hold_database_connection(instance: dg.DagsterInstance) -> None:
    """Keep one database connection of the instance's storage open for this process, as Dagster's webserver does.
    Otherwise its PostgreSQL storage connects anew for every event it stores and every read (an empty cycle on a
    PostgreSQL instance: 6.5-7.1 s, against 3.9-4.2 s holding one); its SQLite storage ignores this. Here, in the
    process that runs the cycle's steps, and in the CLI's instance; no statement timeout, as without it."""
    if instance not in _HOLDING:
        _HOLDING.add(instance)
        instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=10)


def run_values_folder(instance: dg.DagsterInstance | None, run: dg.DagsterRun | None, base_dir: str | None = None) -> Path:
    """Where a run's handed-over values live: `<base_dir, else the instance's storage>/runs/<run id>/`."""
    base = base_dir or (instance.storage_directory() if instance else tempfile.gettempdir())
    return Path(base) / "runs" / (run.run_id if run else "no-run")


def configured_base_dir(run: dg.DagsterRun) -> str | None:
    """The IO manager's `base_dir` as the run's config set it, if it did."""
    return (((run.run_config or {}).get("resources") or {}).get("io_manager") or {}).get("config", {}).get("base_dir")


def _steps_in_processes(run: dg.DagsterRun | None) -> bool:
    """Whether the run's steps run in processes of their own (the multiprocess executor)."""
    execution = ((run.run_config or {}).get("execution") or {}) if run else {}
    return "multiprocess" in (execution.get("config") or execution)


def source_uri(source: str | Path | dg.EnvVar) -> str | dg.EnvVar:
    """The decision log's URI as the resource is configured. Dagster records resource config with the run, so a
    URI carrying a password goes in through an environment variable of this process: the run records its name."""
    if isinstance(source, dg.EnvVar) or not has_password(str(source)):
        return source if isinstance(source, dg.EnvVar) else str(source)
    name = f"ASSURANCE_SOURCE_URI_{sha256_hex(str(source))[:16].upper()}"
    os.environ[name] = str(source)
    return dg.EnvVar(name)


def cycle_resources(standard_dir: str | Path, source: str | Path | dg.EnvVar, evidence_dir: str | Path) -> dict:
    """The four resources a cycle needs (for one standard, decision log and evidence store) and its run-scoped IO manager."""
    return {
        "standard": StandardResource(directory=str(standard_dir)),
        "decision_log": DecisionLogResource(uri=source_uri(source)),
        "evidence": EvidenceStoreResource(directory=str(evidence_dir)),
        "workspace": TransientWorkspaceResource(),
        "io_manager": run_scoped_io_manager,
    }


def resources_from_env() -> dict:
    """Paths from ASSURANCE_* environment variables; the demo's paths when unset. The source is read from its
    variable when the run starts, so a password in it is not recorded with the run."""
    return cycle_resources(
        os.environ.get("ASSURANCE_STANDARD", str(DEMO_DIR / "standard")),
        dg.EnvVar("ASSURANCE_SOURCE") if "ASSURANCE_SOURCE" in os.environ else str(DEMO_DIR / "decisions.parquet"),
        os.environ.get("ASSURANCE_EVIDENCE", str(DEMO_DIR / "evidence")),
    )
