"""The limits of a standard: what its files may be, how large, how deeply nested, and in what YAML.

A standard is read by people who sign it off and by a cycle that runs it, so both must read the same
thing: no duplicate keys (the last one would silently win), no anchors or aliases (one line can expand
to gigabytes), nothing nested or sized beyond what a business rule needs. Every check is here; each
refusal is one line naming the file, the line or field, and the limit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 1024 * 1024  # any YAML file of the standard
MAX_BASELINE_BYTES = 256 * 1024 * 1024  # the go-live baseline: aggregates, cells per column of every point
MAX_YAML_DEPTH = 32  # nested mappings/sequences/values in one file
MAX_DECISION_POINTS = 200  # files in decision_points/
MAX_ACTORS = 1_000
MAX_PEOPLE = 1_000
MAX_CONDITIONS = 200  # per decision point
MAX_OUTCOME_METRICS = 50  # per decision point
MAX_CONTRACT_COLUMNS = 500  # per decision point
MAX_ISIN_VALUES = 1_000  # per contract column
MAX_EXPRESSION_CHARS = 2_000
MAX_EXPRESSION_NESTING = 20  # parentheses, CASE and NOT levels: sqlglot parses them recursively
MAX_EXPRESSION_NODES = 500  # syntax-tree nodes

POINT_SUFFIXES = (".yaml", ".yml")


class LimitError(Exception):
    """A standard file breaks one of the limits; `line` (1-based) when the problem has one."""

    def __init__(self, message: str, line: int | None = None, path: Path | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.path = path  # when it is not the file being read (a file in a folder)


# ---------------------------------------------------------------------------------------------------
# Files and folders
# ---------------------------------------------------------------------------------------------------


def check_inside(path: Path, root: Path) -> None:
    """Refuse a file or folder that resolves (through a symlink) outside the standard: it would not be what was reviewed."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise LimitError(f"resolves outside the standard's folder (to {path.resolve()}); copy the file into the standard")


def read_bytes_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, refusing anything over `limit` without reading it all (nor blocking on a pipe)."""
    if not path.is_file():
        raise LimitError("not a regular file")
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise LimitError(f"larger than {limit // 1024} KiB, the limit for a standard's file")
    return data


def point_files(folder: Path) -> list[Path]:
    """The decision point files, in name order. Hidden files (`.DS_Store`, an editor's swap file) are skipped;
    anything else that is not a lower-case *.yaml / *.yml file is refused, so no file is silently ignored."""
    names = sorted(name for name in os.listdir(folder) if not name.startswith("."))
    paths = [folder / name for name in names]
    for path in paths:
        if path.is_dir():
            raise LimitError(f"is a folder; decision point files sit directly in {folder.name}/", path=path)
        if not path.name.endswith(POINT_SUFFIXES):
            raise LimitError("not a decision point file; name it *.yaml or *.yml (lower case)", path=path)
    if len(paths) > MAX_DECISION_POINTS:
        raise LimitError(f"{len(paths)} decision point files, at most {MAX_DECISION_POINTS} are allowed")
    return paths


# ---------------------------------------------------------------------------------------------------
# YAML: safe_load, minus what a standard has no use for
# ---------------------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses aliases, anchors, merge keys, duplicate keys and deep nesting as it composes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise LimitError(f"alias '*{event.anchor}' is not allowed (a standard spells every value out)", _line(event))
        if getattr(event, "anchor", None) is not None:
            raise LimitError(f"anchor '&{event.anchor}' is not allowed (a standard spells every value out)", _line(event))
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise LimitError(f"nested more than {MAX_YAML_DEPTH} levels deep", _line(event))
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise LimitError("merge key '<<' is not allowed (a standard spells every value out)", key_node.start_mark.line + 1)
            key = self.construct_object(key_node, deep=True)
            try:
                seen = first_line.get(key)
            except TypeError:
                continue  # an unhashable key: SafeConstructor refuses it, with its own message
            if seen is not None:
                raise LimitError(f"duplicate key {key!r} (first at line {seen})", key_node.start_mark.line + 1)
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as err:  # 2026-13-45 as a date, a 5,000-digit integer
            value = repr(node.value) if isinstance(node, yaml.ScalarNode) else node.tag
            value = value if len(value) <= 60 else value[:57] + "..."
            raise LimitError(f"cannot read value {value} ({_first_line(err)})", node.start_mark.line + 1) from None


def parse_yaml(text: str) -> Any:
    """One YAML document as plain Python (yaml.MarkedYAMLError for broken YAML, LimitError for a refused feature)."""
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# ---------------------------------------------------------------------------------------------------
# Sizes of what the YAML holds
# ---------------------------------------------------------------------------------------------------


def check_header_size(data: dict) -> None:
    _at_most(data.get("actors"), MAX_ACTORS, "actors", "actors")
    _at_most(data.get("people"), MAX_PEOPLE, "people", "people")


def check_point_size(data: dict) -> None:
    """Counts per decision point, checked on the raw mapping so a huge one is refused before it is validated."""
    _at_most(data.get("conditions"), MAX_CONDITIONS, "conditions", "conditions per decision point")
    _at_most(data.get("outcome_evidence"), MAX_OUTCOME_METRICS, "outcome_evidence", "outcome metrics per decision point")
    contract = data.get("contract")
    _at_most(contract, MAX_CONTRACT_COLUMNS, "contract", "contract columns per decision point")
    if isinstance(contract, dict):
        for name, column in contract.items():
            if isinstance(column, dict):
                _at_most(column.get("isin"), MAX_ISIN_VALUES, f"contract.{name}.isin", "isin values per column")


def _at_most(items: Any, limit: int, field: str, what: str) -> None:
    if isinstance(items, list | dict) and len(items) > limit:
        raise LimitError(f"{field}: {len(items)} entries, at most {limit} {what} are allowed")
