"""A hostile or sloppy standard is refused with one line naming the file, the line or field, and the limit:
duplicate keys, anchors and aliases, deep nesting, oversized files and points, case-colliding columns,
stray or outside decision point files. Never a traceback, never a hang."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from assurance_pipeline.demo.generator import DemoPaths, write_demo
from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger
from assurance_pipeline.standard import limits
from assurance_pipeline.standard.integrity import AUTHORIZATION_FILE, authorize, check_integrity
from assurance_pipeline.standard.loading import load_standard

PR = "decision_points/payment_release.yaml"
STD = "standard.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return write_demo(tmp_path_factory.mktemp("demo"), rows=1_000)


@pytest.fixture
def standard(demo: DemoPaths, tmp_path: Path) -> Path:
    root = tmp_path / "standard"
    shutil.copytree(demo.standard_dir, root)
    return root


def refusal(root: Path) -> str:
    with pytest.raises(AssuranceError) as caught:
        load_standard(root)
    message = str(caught.value)
    assert "\n" not in message, message
    assert caught.value.exit_code == 2
    return message


def line_of(root: Path, rel: str, text: str) -> int:
    return (root / rel).read_text(encoding="utf-8").splitlines().index(text) + 1


def insert_after(root: Path, rel: str, anchor_line: str, new: str) -> None:
    path = root / rel
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(lines.index(anchor_line) + 1, new)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class _SpelledOut(yaml.SafeDumper):
    """Repeated objects written out in full: a standard refuses anchors and aliases."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def edit_yaml(root: Path, rel: str, change: Callable[[dict], None]) -> None:
    path = root / rel
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.dump(data, Dumper=_SpelledOut, sort_keys=False), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------
# Duplicate keys: the reviewer must read the rule the cycle runs.
# ---------------------------------------------------------------------------------------------------


def test_a_second_require_in_a_condition_is_refused_naming_both_lines(standard: Path) -> None:
    first = line_of(standard, PR, '    require: "legal_signoff_by IS NOT NULL"')
    insert_after(standard, PR, '    require: "legal_signoff_by IS NOT NULL"', '    require: "TRUE"')
    assert refusal(standard) == f"standard/{PR}: line {first + 1}: duplicate key 'require' (first at line {first})"


def test_a_second_conditions_list_is_refused(standard: Path) -> None:
    first = line_of(standard, PR, "conditions:")
    (standard / PR).write_text((standard / PR).read_text(encoding="utf-8") + "conditions: []\n", encoding="utf-8")
    message = refusal(standard)
    assert message.startswith(f"standard/{PR}: line ") and f"duplicate key 'conditions' (first at line {first})" in message


def test_duplicate_keys_in_a_flow_mapping_and_in_standard_yaml_are_refused(standard: Path) -> None:
    path = standard / STD
    path.write_text(path.read_text(encoding="utf-8").replace("owner: CFO office", "owner: CFO office\nowner: Intern"), encoding="utf-8")
    message = refusal(standard)
    assert message.startswith("standard/standard.yaml: line ") and "duplicate key 'owner'" in message
    path.write_text(path.read_text(encoding="utf-8").replace("\nowner: Intern", ""), encoding="utf-8")
    (standard / PR).write_text((standard / PR).read_text(encoding="utf-8").replace(
        "{type: float, min: 0}", "{type: float, min: 0, min: -1}"), encoding="utf-8")
    assert "duplicate key 'min'" in refusal(standard)


def test_a_duplicate_key_in_the_authorization_makes_the_standard_not_intact(standard: Path, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "evidence")
    authorize(standard, "CFO office", "go-live", ledger)
    path = standard / AUTHORIZATION_FILE
    path.write_text(path.read_text(encoding="utf-8") + "authorized_by: Board\n", encoding="utf-8")
    report = check_integrity(standard, ledger)
    assert not report.intact
    assert "duplicate key 'authorized_by'" in report.problems[0] and "not a valid authorization" in report.problems[0]


# ---------------------------------------------------------------------------------------------------
# Anchors, aliases, merge keys: refused outright, before anything expands.
# ---------------------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    "    isin: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"  c{i}: {{type: string, isin: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]}}\n" for i in range(8))
)


def test_a_billion_laughs_in_isin_is_refused_at_its_first_anchor(standard: Path) -> None:
    path = standard / PR
    text = path.read_text(encoding="utf-8").replace("  payee_id:               {type: string}\n",
                                                    "  payee_id:\n    type: string\n" + BILLION_LAUGHS)
    path.write_text(text, encoding="utf-8")
    assert refusal(standard) == f"standard/{PR}: line 15: anchor '&a' is not allowed (a standard spells every value out)"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("owner: *who\n", "line 4: alias '*who' is not allowed"),
        ("extra: &x {a: 1}\n", "line 4: anchor '&x' is not allowed"),
        ("<<: {owner: Intern}\n", "line 4: merge key '<<' is not allowed"),
    ],
    ids=["alias", "anchor", "merge key"],
)
def test_aliases_anchors_and_merge_keys_are_refused(tmp_path: Path, text: str, fragment: str) -> None:
    root = tmp_path / "standard"
    root.mkdir()
    (root / STD).write_text("name: S\nversion: '1'\nowner: O\n" + text, encoding="utf-8")
    message = refusal(root)
    assert message.startswith("standard/standard.yaml: ") and fragment in message


# ---------------------------------------------------------------------------------------------------
# Size and depth.
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [limits.MAX_YAML_DEPTH + 1, 20_000])
def test_deep_nesting_is_refused_without_recursion(standard: Path, depth: int) -> None:
    (standard / PR).write_text("id: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    assert refusal(standard) == f"standard/{PR}: line 1: nested more than {limits.MAX_YAML_DEPTH} levels deep"


def test_nesting_at_the_limit_is_only_a_validation_problem(standard: Path) -> None:
    depth = limits.MAX_YAML_DEPTH - 1  # the mapping itself is the first level
    (standard / PR).write_text("id: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    assert "nested" not in refusal(standard)


def test_a_file_over_the_size_limit_is_refused_without_being_parsed(standard: Path) -> None:
    path = standard / PR
    path.write_text(path.read_text(encoding="utf-8") + "#" * limits.MAX_FILE_BYTES + "\n", encoding="utf-8")
    assert refusal(standard) == f"standard/{PR}: larger than 1024 KiB, the limit for a standard's file"


def _many(field: str, count: int) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        if field == "conditions":
            data["conditions"] = [{**data["conditions"][0], "id": f"C-{i}"} for i in range(count)]
        elif field == "outcome_evidence":
            data["outcome_evidence"] = [{**data["outcome_evidence"][0], "id": f"OE-{i}"} for i in range(count)]
        elif field == "contract":
            data["contract"].update({f"c{i}": {"type": "string"} for i in range(len(data["contract"]), count)})
        elif field == "contract.currency.isin":
            data["contract"]["currency"]["isin"] = [f"X{i}" for i in range(count)]

    return change


@pytest.mark.parametrize(
    ("field", "limit", "what"),
    [
        ("conditions", limits.MAX_CONDITIONS, "conditions per decision point"),
        ("outcome_evidence", limits.MAX_OUTCOME_METRICS, "outcome metrics per decision point"),
        ("contract", limits.MAX_CONTRACT_COLUMNS, "contract columns per decision point"),
        ("contract.currency.isin", limits.MAX_ISIN_VALUES, "isin values per column"),
    ],
)
def test_counts_over_their_limit_are_refused_and_at_the_limit_load(standard: Path, field: str, limit: int, what: str) -> None:
    edit_yaml(standard, PR, _many(field, limit))
    load_standard(standard)
    edit_yaml(standard, PR, _many(field, limit + 1))
    assert refusal(standard) == f"standard/{PR}: {field}: {limit + 1} entries, at most {limit} {what} are allowed"


def test_3000_conditions_are_refused(standard: Path) -> None:
    edit_yaml(standard, PR, _many("conditions", 3_000))
    assert "conditions: 3000 entries, at most 200" in refusal(standard)


def test_too_many_actors_are_refused(standard: Path) -> None:
    edit_yaml(standard, STD, lambda d: d.update(actors=[{"id": f"a{i}", "type": "human"} for i in range(limits.MAX_ACTORS + 1)]))
    assert refusal(standard) == f"standard/standard.yaml: actors: {limits.MAX_ACTORS + 1} entries, at most {limits.MAX_ACTORS} actors are allowed"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x" * (limits.MAX_EXPRESSION_CHARS + 1), f"{limits.MAX_EXPRESSION_CHARS + 1} characters, at most {limits.MAX_EXPRESSION_CHARS}"),
        ("(" * 5_000 + "amount" + ")" * 5_000 + " > 1", "characters, at most"),
        ("(" * 21 + "amount" + ")" * 21 + " > 1", "nested 21 levels deep"),
        ("NOT " * 300 + "reversed", "nested 300 levels deep"),
        ("CASE WHEN reversed THEN " * 30 + "TRUE" + " END" * 30, "nested 30 levels deep"),
        ("abs(" * 25 + "amount" + ")" * 25 + " > 1", "nested 25 levels deep"),
        (" + ".join(["cost"] * 260) + " > 1", "syntax nodes, at most 500"),
        ("- " * 600 + "amount > 1", "nested too deeply to be read"),
    ],
    ids=["long", "very deep", "parentheses", "NOT chain", "CASE", "functions", "many nodes", "unary minus chain"],
)
def test_expressions_beyond_the_limits_are_refused_without_recursion(standard: Path, text: str, fragment: str) -> None:
    edit_yaml(standard, PR, lambda d: d["conditions"][0].update(when=text))
    message = refusal(standard)
    assert message.startswith(f"standard/{PR}: condition PR-1: when: ") and fragment in message, message


def test_expressions_at_the_nesting_limit_load(standard: Path) -> None:
    depth = limits.MAX_EXPRESSION_NESTING
    edit_yaml(standard, PR, lambda d: d["conditions"][0].update(when="(" * depth + "amount" + ")" * depth + " > 1"))
    load_standard(standard)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("2026-13-45", "cannot read value '2026-13-45'"), ("9" * 5_000, "cannot read value '9999")],
    ids=["impossible date", "5000-digit integer"],
)
def test_values_yaml_cannot_construct_are_refused_with_their_line(standard: Path, value: str, fragment: str) -> None:
    target = line_of(standard, PR, "owner: Controller")
    insert_after(standard, PR, "owner: Controller", f"approved_on: {value}")
    message = refusal(standard)
    assert message.startswith(f"standard/{PR}: line {target + 1}: ") and fragment in message, message


# ---------------------------------------------------------------------------------------------------
# Contract names that collide, ignoring case, with each other or with the log's columns.
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("COST", "column 'COST' differs only in case from the standard log column 'cost'"),
        ("Decision_Id", "column 'Decision_Id' differs only in case from the standard log column 'decision_id'"),
        ("Amount", "column 'Amount' differs only in case from column 'amount'"),
    ],
)
def test_contract_columns_differing_only_in_case_are_refused(standard: Path, name: str, fragment: str) -> None:
    edit_yaml(standard, PR, lambda d: d["contract"].update({name: {"type": "float"}}))
    message = refusal(standard)
    assert message == f"standard/{PR}: contract: {fragment}; column names ignore case", message


# ---------------------------------------------------------------------------------------------------
# The files of decision_points/: nothing silently ignored, nothing from outside the standard.
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["extra.YAML", "notes.md", "point.yaml.bak"])
def test_a_file_that_is_not_lower_case_yaml_is_refused(standard: Path, name: str) -> None:
    shutil.copy(standard / PR, standard / "decision_points" / name)
    assert refusal(standard) == f"standard/decision_points/{name}: not a decision point file; name it *.yaml or *.yml (lower case)"


def test_hidden_files_are_skipped_and_folders_refused(standard: Path) -> None:
    (standard / "decision_points" / ".DS_Store").write_bytes(b"\x00\x01binary")
    load_standard(standard)
    (standard / "decision_points" / "old").mkdir()
    assert refusal(standard) == "standard/decision_points/old: is a folder; decision point files sit directly in decision_points/"


def test_a_symlink_to_a_file_outside_the_standard_is_refused(standard: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    (standard / PR).rename(outside)
    (standard / PR).symlink_to(outside)
    message = refusal(standard)
    assert message.startswith(f"standard/{PR}: resolves outside the standard's folder"), message


def test_a_symlink_inside_the_standard_still_loads(standard: Path) -> None:
    (standard / "sources").mkdir()
    (standard / PR).rename(standard / "sources" / "payment_release.yaml")
    (standard / PR).symlink_to(Path("..") / "sources" / "payment_release.yaml")
    assert "payment_release" in load_standard(standard).decision_points


def test_a_decision_points_folder_outside_the_standard_is_refused(standard: Path, tmp_path: Path) -> None:
    (standard / "decision_points").rename(tmp_path / "shared_points")
    (standard / "decision_points").symlink_to(tmp_path / "shared_points")
    assert refusal(standard).startswith("standard/decision_points: resolves outside the standard's folder")


def test_a_baseline_file_outside_the_standard_is_refused(standard: Path, tmp_path: Path) -> None:
    (tmp_path / "baseline.json").write_text("{}", encoding="utf-8")
    (standard / "baseline").mkdir()
    (standard / "baseline" / "baseline.json").symlink_to(tmp_path / "baseline.json")
    assert refusal(standard).startswith("standard/baseline/baseline.json: resolves outside the standard's folder")


def test_a_named_pipe_is_refused_not_waited_on(standard: Path) -> None:
    os.mkfifo(standard / "decision_points" / "pipe.yaml")
    assert refusal(standard) == "standard/decision_points/pipe.yaml: not a regular file"


def test_a_control_character_is_refused_with_its_line(standard: Path) -> None:
    path = standard / PR
    path.write_text(path.read_text(encoding="utf-8").replace("owner: Controller", "owner: Control\x00ler"), encoding="utf-8")
    assert refusal(standard) == f"standard/{PR}: line 9: character #x0000 is not allowed in YAML"
