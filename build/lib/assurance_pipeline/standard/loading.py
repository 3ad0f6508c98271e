"""Load a standard folder into models; every error names the file, the field or condition id, and what is wrong."""

from __future__ import annotations

import hashlib

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.standard.expressions import ExpressionError, compile_expression, mean_argument
from assurance_pipeline.standard.limits import (
    MAX_BASELINE_BYTES, MAX_FILE_BYTES, LimitError, check_header_size, check_inside, check_point_size, parse_yaml, point_files,
    read_bytes_bounded,
)
from assurance_pipeline.standard.models import DecisionPoint, Standard, StandardHeader
from assurance_pipeline.standard.typecheck import TypeChecker

STANDARD_FILE = "standard.yaml"
POINTS_DIR = "decision_points"
BASELINE_DIR = "baseline"
COVERED = (STANDARD_FILE, POINTS_DIR, BASELINE_DIR)  # what an authorization signs off


def standard_files(root: Path | str) -> dict[str, bytes]:
    """Every file an authorization covers, read once, keyed by its path relative to the standard: a cycle hashes
    these bytes and parses these bytes, so what was checked is what is used. Nothing outside the folder is read."""
    root, files = Path(root), {}
    for name in COVERED:
        target = root / name
        if not target.exists():
            continue
        paths = [target] if target.is_file() else [target, *sorted(p for p in target.rglob("*") if p.is_file())]
        for path in paths:
            shown = f"{root.name}/{path.relative_to(root).as_posix()}"
            try:
                check_inside(path, root)  # the folder first, then each file: no symlink out of the standard
                if path.is_file():
                    limit = MAX_BASELINE_BYTES if name == BASELINE_DIR else MAX_FILE_BYTES
                    files[path.relative_to(root).as_posix()] = read_bytes_bounded(path, limit)
            except LimitError as err:
                raise AssuranceError(f"{shown}: {err}") from None
            except OSError as err:
                raise AssuranceError(f"{shown}: cannot be read ({err.strerror or err})") from None
    return files


def load_standard(root: Path | str, files: Mapping[str, bytes] | None = None) -> Standard:
    """Validate and expression-check the whole standard under `root`, from `files` (`standard_files`) if given. The
    same bytes give the same (frozen) standard: a cycle checks its input before the run and again in its first step,
    and parsing and type-checking it twice was a tenth of the cycle's start-up."""
    root = Path(root)
    files = standard_files(root) if files is None else files
    if STANDARD_FILE not in files:
        raise AssuranceError(f"{root}: not a standard folder (no {STANDARD_FILE})")
    paths = _point_paths(root)  # the folder's layout is checked every time; only the parsing is remembered
    key = (str(root.resolve()), *map(str, paths), hashlib.sha256(b"".join(hashlib.sha256(name.encode() + b"\0" + files[name]).digest()
                                                        for name in sorted(files))).hexdigest())
    if key not in _LOADED:
        if len(_LOADED) >= 8:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = _load_standard(root, files, paths)
    return _LOADED[key]


_LOADED: dict[tuple[str, ...], Standard] = {}


def _load_standard(root: Path, files: Mapping[str, bytes], paths: list[Path]) -> Standard:
    header = _load_model(root / STANDARD_FILE, files[STANDARD_FILE], StandardHeader, check_header_size)
    points: dict[str, DecisionPoint] = {}
    files_of: dict[str, str] = {}
    checker = TypeChecker()
    try:
        for path in paths:
            raw = files.get(path.relative_to(root).as_posix())
            if raw is None:
                raise AssuranceError(f"{_rel(path)}: not a regular file")
            point = _load_model(path, raw, DecisionPoint, check_point_size)
            if point.id in points:
                raise AssuranceError(f"{_rel(path)}: id: decision point '{point.id}' is defined twice")
            check_point_expressions(point, _rel(path), checker)
            points[point.id] = point
            files_of[point.id] = path.relative_to(root).as_posix()
    finally:
        checker.close()
    if not points:
        raise AssuranceError(f"{root / POINTS_DIR}: no decision point files (*.yaml)")
    return Standard(header=header, decision_points=points, point_files=files_of)


def _point_paths(root: Path) -> list[Path]:
    folder = root / POINTS_DIR
    if not folder.is_dir():
        return []
    try:
        check_inside(folder, root)
        return point_files(folder)
    except LimitError as err:
        raise AssuranceError(_limit_message(err, folder)) from None


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


def _load_model(path: Path, raw: bytes, model: type[BaseModel], check_size: Callable[[dict], None]) -> Any:
    data = read_yaml(path, raw)
    try:
        check_size(data)
        return model.model_validate(data)
    except LimitError as err:
        raise AssuranceError(_limit_message(err, path)) from None
    except ValidationError as err:
        raise AssuranceError(f"{_rel(path)}: {describe_validation_error(err)}") from None


def read_yaml(path: Path, raw: bytes) -> dict:
    """One YAML mapping from the bytes of `path`, within the limits of a standard, or an error naming the file and the line."""
    text = ""
    try:
        text = raw.decode("utf-8")  # `raw` was read within MAX_FILE_BYTES (`standard_files`)
        data = parse_yaml(text)
    except LimitError as err:
        raise AssuranceError(_limit_message(err, path)) from None
    except yaml.reader.ReaderError as err:  # a control character: reported by position, not line
        line = text[: err.position].count("\n") + 1
        raise AssuranceError(f"{_rel(path)}: line {line}: character #x{err.character:04x} is not allowed in YAML") from None
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


def _limit_message(err: LimitError, path: Path) -> str:
    line = f" line {err.line}:" if err.line else ""
    return f"{_rel(err.path or path)}:{line} {err}"


def describe_validation_error(err: ValidationError) -> str:
    """The first problem as `field.path: message`, plus how many more there are."""
    problems = err.errors()
    first = problems[0]
    loc = ".".join(str(part) if str(part).isprintable() else repr(part) for part in first["loc"])  # a key may hold a newline
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "literal_error":
        got = repr(first.get("input"))
        message = f"{message}, got {got if len(got) <= 80 else got[:77] + '...'}"
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    return f"{loc}: {message}{more}" if loc else f"{message}{more}"


def _rel(path: Path) -> str:
    """Paths in messages as the user typed them: relative to the standard's parent where possible."""
    parts = path.parts
    if POINTS_DIR in parts:
        return str(Path(*parts[parts.index(POINTS_DIR) - 1 :]))
    return str(Path(*parts[-2:])) if len(parts) >= 2 else str(path)
