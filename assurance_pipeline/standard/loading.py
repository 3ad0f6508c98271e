"""Load a standard folder into models; every error names the file, the field or condition id, and what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.standard.expressions import ExpressionError, compile_expression, mean_argument
from assurance_pipeline.standard.models import DecisionPoint, Standard, StandardHeader
from assurance_pipeline.standard.typecheck import TypeChecker

STANDARD_FILE = "standard.yaml"
POINTS_DIR = "decision_points"
BASELINE_DIR = "baseline"
COVERED = (STANDARD_FILE, POINTS_DIR, BASELINE_DIR)  # what an authorization signs off


def standard_files(root: Path | str) -> dict[str, bytes]:
    """Every file an authorization covers, read once, keyed by its path relative to the standard: a cycle hashes
    these bytes and parses these bytes, so what was checked is what is used."""
    root, files = Path(root), {}
    for name in COVERED:
        target = root / name
        paths = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        for path in paths:
            try:
                files[path.relative_to(root).as_posix()] = path.read_bytes()
            except OSError as err:
                raise AssuranceError(f"{_rel(path)}: cannot be read ({err.strerror or err})") from None
    return files


def load_standard(root: Path | str, files: Mapping[str, bytes] | None = None) -> Standard:
    """Validate and expression-check the whole standard under `root`, from `files` (`standard_files`) if given."""
    root = Path(root)
    files = standard_files(root) if files is None else files
    if STANDARD_FILE not in files:
        raise AssuranceError(f"{root}: not a standard folder (no {STANDARD_FILE})")
    header = _load_model(root / STANDARD_FILE, files[STANDARD_FILE], StandardHeader)
    points: dict[str, DecisionPoint] = {}
    checker = TypeChecker()
    names = sorted(n for n in files if n.count("/") == 1 and n.startswith(POINTS_DIR + "/") and n.endswith((".yaml", ".yml")))
    try:
        for name in names:
            path = root / name
            point = _load_model(path, files[name], DecisionPoint)
            if point.id in points:
                raise AssuranceError(f"{_rel(path)}: id: decision point '{point.id}' is defined twice")
            check_point_expressions(point, _rel(path), checker)
            points[point.id] = point
    finally:
        checker.close()
    if not points:
        raise AssuranceError(f"{root / POINTS_DIR}: no decision point files (*.yaml)")
    return Standard(header=header, decision_points=points)


def check_point_expressions(point: DecisionPoint, where: str, checker: TypeChecker) -> None:
    """Compile and type-check every condition and metric, so a bad one is refused at load time, not mid-cycle."""
    columns = point.columns()
    table = checker.define(point)
    for cond in point.conditions:
        for field in ("when", "require"):
            _compile(getattr(cond, field), columns, "predicate", f"{where}: condition {cond.id}: {field}", checker, table)
    for oe in point.outcome_evidence:
        _compile(oe.metric, columns, "metric", f"{where}: outcome_evidence {oe.id}: metric", checker, table)
        if oe.over == "sample" and mean_argument(oe.metric, columns) is None:
            raise AssuranceError(f"{where}: outcome_evidence {oe.id}: over: sample needs a metric of the form avg(...), "
                                 "whose sampling error can be bounded; compute any other metric over the window (the default)")


def _compile(text: str, columns: dict[str, str], kind: str, where: str, checker: TypeChecker, table: str) -> None:
    try:
        checker.check(table, compile_expression(text, columns, kind), kind)  # type: ignore[arg-type]
    except ExpressionError as err:
        raise AssuranceError(f"{where}: {err}") from None


def _load_model(path: Path, raw: bytes, model: type[BaseModel]) -> Any:
    data = read_yaml(path, raw)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise AssuranceError(f"{_rel(path)}: {describe_validation_error(err)}") from None


def read_yaml(path: Path, raw: bytes) -> dict:
    """One YAML mapping from the bytes of `path`, or an error naming the file and the line."""
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        start = err.context_mark
        # an unclosed quote or bracket is only noticed lines later: also say where it was opened
        opened = f"; {err.context} from line {start.line + 1}" if err.context and start and (not mark or start.line != mark.line) else ""
        raise AssuranceError(f"{_rel(path)}:{where}: broken YAML ({err.problem}{opened})") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise AssuranceError(f"{_rel(path)}: cannot be read ({err})") from None
    if not isinstance(data, dict):
        raise AssuranceError(f"{_rel(path)}: must be a YAML mapping of fields, got {type(data).__name__}")
    return data


def describe_validation_error(err: ValidationError) -> str:
    """The first problem as `field.path: message`, plus how many more there are."""
    problems = err.errors()
    first = problems[0]
    loc = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "literal_error":
        message = f"{message}, got {first.get('input')!r}"
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    return f"{loc}: {message}{more}" if loc else f"{message}{more}"


def _rel(path: Path) -> str:
    """Paths in messages as the user typed them: relative to the standard's parent where possible."""
    parts = path.parts
    if POINTS_DIR in parts:
        return str(Path(*parts[parts.index(POINTS_DIR) - 1 :]))
    return str(Path(*parts[-2:])) if len(parts) >= 2 else str(path)
