"""A change of the standard in words: what a proposal changes since the last authorization, item by item.

The files are compared as their authors wrote them (parsed YAML, so formatting and comments are not changes): a
list of items with an `id` (conditions, outcome metrics, actors) or a `name` (people) is compared item by item, so
a reviewer reads `conditions PR-1 require: `a` → `b``, not a changed line number. The baseline is aggregates, compared
by its hash only. `widened_actors` says which actors a change lets execute more than before: the authorizer of such
a change must not be one of them (separation of duties).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import sha256_hex
from assurance_pipeline.standard.loading import BASELINE_DIR, POINTS_DIR, STANDARD_FILE, read_yaml
from assurance_pipeline.standard.models import Actor

MAX_SHOWN = 120  # characters of one value in a change line


def describe_changes(authorized: Mapping[str, str], texts: Mapping[str, bytes], new: Mapping[str, bytes]) -> list[str]:
    """One line per change from the authorized files (relative path -> sha256, and the texts known of them) to `new`
    (relative path -> bytes)."""
    lines = []
    for name in sorted(authorized.keys() | new.keys()):
        before, after = texts.get(name), new.get(name)
        if name not in new:
            lines.append(f"{name}: removed")
        elif name not in authorized:
            lines.append(f"{name}: added")
        elif authorized[name] == sha256_hex(after):
            continue
        elif name.startswith(BASELINE_DIR + "/"):
            lines.append(f"{name}: a new go-live baseline")
        elif before is None:
            lines.append(f"{name}: changed (the authorized text is not in the evidence store to compare with)")
        else:
            lines += [f"{name}: {change}" for change in _mapping_changes(_parse(name, before), _parse(name, after))]
    return lines


def widened_actors(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> list[str]:
    """Ids of actors the change registers, or lets execute more than before (a new version, any version, another
    type). With no authorized text to compare with, every actor counts as registered by the change."""
    new_actors, before = _actors(new), _actors(old)
    widened = []
    for actor_id, actor in new_actors.items():
        was = before.get(actor_id)
        if was is None or was.type != actor.type or (was.versions is not None and (actor.versions is None or set(actor.versions) - set(was.versions))):
            widened.append(actor_id)
    return sorted(widened)


def touched(authorized: Mapping[str, str], texts: Mapping[str, bytes], new: Mapping[str, bytes]) -> dict:
    """What a change is about, for the findings it answers: the ids of the decision points whose file was added,
    removed or changed (the id the file holds, else its name), whether standard.yaml or the baseline changed."""
    changed = {name for name in authorized.keys() | new.keys() if name not in new or authorized.get(name) != sha256_hex(new[name])}
    points = set()
    for name in changed:
        if name.startswith(POINTS_DIR + "/"):
            text = new.get(name, texts.get(name))
            data = _parse(name, text) if text is not None else None
            points.add(str(data["id"]) if isinstance(data, dict) and "id" in data else Path(name).stem)
    return {"points": sorted(points), "header": STANDARD_FILE in changed,
            "baseline": any(name.startswith(BASELINE_DIR + "/") for name in changed)}


def _actors(files: Mapping[str, bytes]) -> dict[str, Actor]:
    """The registered actors of a standard.yaml already checked by `load_standard` (or an authorized one)."""
    if STANDARD_FILE not in files:
        return {}
    try:
        actors = (_parse(STANDARD_FILE, files[STANDARD_FILE]) or {}).get("actors") or []
        return {a.id: a for a in (Actor.model_validate(item) for item in actors)}
    except (ValueError, AttributeError, TypeError, AssuranceError):
        return {}  # not a registry we can read: every actor of the change counts as newly registered


def _parse(name: str, raw: bytes) -> Any:
    return read_yaml(Path(name), raw)


def _mapping_changes(before: Any, after: Any) -> list[str]:
    old, new = _flatten(before), _flatten(after)
    old_prefixes = {path[:i] for path in old for i in range(1, len(path) + 1)}
    new_prefixes = {path[:i] for path in new for i in range(1, len(path) + 1)}
    lines: list[str] = []
    for path in sorted(new.keys() | old.keys(), key=lambda p: [str(x) for x in p]):
        if path in old and path in new:
            if old[path] != new[path]:
                lines.append(f"{_path(path)}: {_value(old[path])} → {_value(new[path])}")
            continue
        prefixes, verb = (old_prefixes, "added") if path in new else (new_prefixes, "removed")
        first_new = next((path[:i] for i in range(1, len(path) + 1) if path[:i] not in prefixes), path)
        line = f"{_path(first_new)}: {verb}" + (f" ({_value((new if path in new else old)[path])})" if first_new == path else "")
        if line not in lines:
            lines.append(line)
    return lines


def _flatten(value: Any, path: tuple = ()) -> dict[tuple, Any]:
    """Leaf values by path; items of a list that all have an id (or a name) are keyed by it."""
    if isinstance(value, dict) and value:
        return {k: v for key, item in value.items() for k, v in _flatten(item, (*path, str(key))).items()}
    if isinstance(value, list) and value and all(isinstance(i, dict) and _item_key(i) for i in value):
        return {k: v for item in value for k, v in _flatten(item, (*path, _item_key(item))).items()}
    return {path: value}


def _item_key(item: dict) -> str | None:
    key = item.get("id", item.get("name"))
    return str(key) if isinstance(key, str | int) else None


def _path(path: tuple) -> str:
    return " ".join(path) or "(the whole file)"


def _value(value: Any) -> str:
    text = f"`{value}`" if isinstance(value, str) else "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
